"""Channel-agnostic message types: every channel translates to and from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    """Where a message came from; also the key of an identity."""

    SMS = "sms"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"  # through Twilio; the address is the E.164 number, as for SMS
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Location:
    """A shared position (Telegram location messages)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person, whatever the channel.

    ``choice`` is set when the person pressed a button (Telegram callback data); a typed "2" is
    resolved against the last menu by the dispatcher, not by the channel.
    """

    channel: Channel
    address: str
    text: str = ""
    location: Location | None = None
    language_hint: str | None = None
    choice: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a menu: ``key`` is what comes back when chosen, ``label`` what is shown."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer. ``choices`` become inline buttons on Telegram and numbered lines on SMS."""

    text: str
    choices: tuple[Choice, ...] = field(default_factory=tuple)
    # A last line that must stay on the first SMS page (a confirmation code): a long preview is
    # paged, and a code behind SUITE would be a prompt the person cannot answer.
    pin: str = ""

    @property
    def shown(self) -> str:
        """The text as every channel shows it, the pinned line last."""
        return f"{self.text}\n{self.pin}" if self.text and self.pin else self.text or self.pin
