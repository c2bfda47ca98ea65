"""Demo delivery: with no provider configured, what the outbox sends is shown on the run's standard output.

A newcomer trying ``voisins run`` with nothing configured watches a payment notice, a shift change
or a broadcast arrive as the recipient would read it: the SMS as the GSM-7 text with numbered
choices that :class:`~bot.channels.sms.SmsSender` would send, the Telegram message with its buttons.
The row is then recorded as sent, like a real sender's, under the channel's configured rate, so
broadcast reports finish. The outbox table is the record of what was "delivered": a demo delivery's
``provider_id`` starts with :data:`PROVIDER_PREFIX`.

Only channels that are not configured get a demo sender, and only when ``DEMO_DELIVERY`` says so
(by default: when no provider is configured at all). A deployment with Telegram alone keeps its SMS
rows waiting in the table: never marked sent when nothing left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO, cast

import phonenumbers

from bot.config import Settings
from bot.i18n import I18n
from bot.messages import Channel, Choice, Reply
from bot.outbox import Retry, Row, Sent, Undeliverable
from bot.sms_text import MAX_BODY, render_reply, segments
from bot.store import Store

PROVIDER_PREFIX = "demo-"
# telegram.constants.MessageLimit.MAX_TEXT_LENGTH, not imported: python-telegram-bot is slow to
# import and the demo runs precisely when Telegram is not configured.
TELEGRAM_MAX_TEXT = 4096
MASK = "•"
ERASE_LINE = "\r\x1b[K"  # back to the start of the line, and clear it


class Terminal:
    """The run's standard output, shared by the terminal conversation and the demo deliveries.

    It remembers the line the cursor is on (the prompt, waiting for the next line typed), so that a
    delivery arriving meanwhile is written on lines of its own, in one piece, and that line is
    written again below it: the person typing still sees where to type. When the conversation
    writes next, that prompt was not waited at after all (a line was being answered): on a
    terminal it is erased first, so the answer does not read as if typed after ``>``.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._partial = ""  # what was written since the last newline
        self._put_back = False  # the last thing written is a prompt put back under a delivery
        try:
            self._tty = stream.isatty()
        except (AttributeError, ValueError, OSError):
            self._tty = False

    def write(self, text: str) -> int:
        if self._put_back and self._tty and text:
            self.stream.write(ERASE_LINE)
        self._put_back = False
        _, newline, tail = text.rpartition("\n")
        self._partial = tail if newline else self._partial + tail
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def text_io(self) -> TextIO:
        """This object where a text stream is expected (the terminal conversation writes and flushes)."""
        return cast(TextIO, self)

    def block(self, lines: Sequence[str]) -> None:
        """Write ``lines`` at once, off the current line, and put that line (the prompt) back after."""
        partial = self._partial
        text = "\n".join(lines) + "\n"
        self.stream.write(("\n" if partial else "") + text + partial)
        self.stream.flush()
        self._put_back = bool(partial)


def masked(channel: Channel, address: str) -> str:
    """The address as the demo shows it: never a whole phone number or chat id.

    A phone number keeps its first two national digits (a mobile or not) and its last two.
    """
    keep_start = 0
    shown = address
    if channel is Channel.SMS:
        try:
            number = phonenumbers.parse(address, None)
        except phonenumbers.NumberParseException:
            pass
        else:
            shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            keep_start = 2
    digits = sum(ch.isdigit() for ch in shown)
    seen = 0
    out = []
    for ch in shown:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep_start or seen > digits - 2 else MASK)
        else:
            out.append(ch)
    return "".join(out)


def framed(title: str, body: Sequence[str]) -> list[str]:
    return [f"┌─ {title}", *(f"│ {line}".rstrip() for line in body), "└─"]


class DemoSender:
    """A :class:`~bot.outbox.Sender` that shows each row on the terminal instead of sending it."""

    def __init__(
        self,
        channel: Channel,
        store: Store,
        i18n: I18n,
        terminal: Terminal,
        *,
        max_per_second: float,
        per_address_interval: float,
    ) -> None:
        self.channel = channel
        self.store = store
        self.i18n = i18n
        self.terminal = terminal
        self.max_per_second = max_per_second
        self.per_address_interval = per_address_interval

    async def send(self, row: Row) -> Sent:
        if self.channel is Channel.CONSOLE:  # the person at this terminal: shown whole, choices numbered
            await self._show("demo.terminal", row.address, render_reply(Reply(row.body, row.choices)).split("\n"))
            return Sent(f"{PROVIDER_PREFIX}{row.id}")
        if self.channel is Channel.SMS:
            body = render_reply(Reply(row.body, row.choices))[:MAX_BODY]
            await self._show("demo.sms", row.address, body.split("\n"))
            return Sent(f"{PROVIDER_PREFIX}{row.id}", segments(body).count)
        await self._show("demo.telegram", row.address, _telegram_lines(row.body, row.choices))
        return Sent(f"{PROVIDER_PREFIX}{row.id}")

    async def edit(self, address: str, message_ref: str, text: str, choices: Sequence[Choice] = ()) -> None:
        """A Telegram message changes in place (a broadcast's progress): shown again, marked as changed."""
        if self.channel is not Channel.TELEGRAM:
            raise Undeliverable("only a Telegram message can be edited")
        await self._show("demo.telegram_edited", address, _telegram_lines(text, choices))

    async def close(self) -> None:
        """Nothing to close: the terminal belongs to the run."""

    async def _show(self, title_key: str, address: str, body: Sequence[str]) -> None:
        title = self.i18n.t(self.i18n.default_language, title_key, recipient=await self._recipient(address))
        try:
            self.terminal.block(framed(title, body))
        except (OSError, ValueError) as exc:  # the terminal went away, or cannot show these characters
            raise Retry(f"terminal {type(exc).__name__}") from None

    async def _recipient(self, address: str) -> str:
        """Who the message is for, as the block names them: their name and the masked address."""
        found = await self.store.fetchone(
            "SELECT p.name FROM identities i JOIN persons p ON p.id = i.person_id"
            " WHERE i.channel = ? AND i.address = ?",
            (self.channel.value, address),
        )
        shown = masked(self.channel, address)
        if found is None or not found["name"]:
            return shown
        return self.i18n.t(self.i18n.default_language, "demo.recipient", name=found["name"], address=shown)


def _telegram_lines(text: str, choices: Sequence[Choice]) -> list[str]:
    """The text, then one button a line, as :func:`bot.channels.telegram.keyboard` lays them out."""
    return [*text[:TELEGRAM_MAX_TEXT].split("\n"), *(f"[ {choice.label} ]" for choice in choices)]


def terminal_sender(store: Store, i18n: I18n, terminal: Terminal) -> DemoSender:
    """What the outbox sends to the person at the terminal (a hand-off answer, a notice), shown there.

    It is a real delivery, not a demo one: the terminal is that person's channel while the run talks there.
    """
    return DemoSender(Channel.CONSOLE, store, i18n, terminal, max_per_second=10.0, per_address_interval=0.0)


def demo_senders(settings: Settings, store: Store, i18n: I18n, terminal: Terminal) -> list[DemoSender]:
    """A demo sender for each channel that is not configured, at that channel's configured rate."""
    senders = []
    if not settings.telegram_enabled:
        senders.append(
            DemoSender(
                Channel.TELEGRAM,
                store,
                i18n,
                terminal,
                max_per_second=settings.telegram_max_per_second,
                per_address_interval=1.0,  # as TelegramSender: about one message a second per chat
            )
        )
    if not settings.sms_enabled:
        senders.append(
            DemoSender(
                Channel.SMS,
                store,
                i18n,
                terminal,
                max_per_second=settings.sms_max_per_second,
                per_address_interval=0.0,  # as SmsSender: Twilio queues per number itself
            )
        )
    return senders
