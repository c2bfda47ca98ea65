"""The telephone menu's engine: what a feature registers, which languages a call may use, the menu.

Knows no feature: each one registers :class:`VoiceEntry` choices on its router (``router.voice``)
and says its answers as :class:`Spoken` parts, catalog keys with values. The channel
(:mod:`bot.channels.voice`) turns them into TwiML: ``<Say>`` where Twilio has a voice for the
language (``data/voice/voices.yaml``), else ``<Play>`` of the association's recordings, one file
per catalog key, its values following (digits from recorded digit prompts, names and addresses
said in the default language, since they are French names). Nothing is kept per call: the state
travels in the signed action URLs, so a hang-up loses nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from bot import people
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import I18n
from bot.messages import Channel
from bot.people import Person
from bot.store import Store
from bot.text import fold

log = logging.getLogger(__name__)

VOICES_FILE = Path(__file__).resolve().parent.parent / "data" / "voice" / "voices.yaml"
RECORDING_SUFFIX = ".mp3"
DIGIT_PREFIX = "voice.digit_"  # voice.digit_0 ... voice.digit_9: the digits a recorded language plays
MAX_ENTRIES = 8  # keys 1 to 8: 9 repeats, 0 is the menu, * changes the language


@dataclass(frozen=True)
class Part:
    """One thing to say: a catalog key and its values (a value of digits only is played digit by digit)."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    slow: bool = False  # said slowly (the 115)


@dataclass(frozen=True)
class Spoken:
    """A feature's answer: the parts to say, and the SMS text of the addresses when there are some."""

    parts: tuple[Part, ...]
    sms: str | None = None


@dataclass
class VoiceCall:
    """What a voice handler may use; no globals. ``person`` is None when the number is unknown."""

    store: Store
    clock: Clock
    settings: Settings
    i18n: I18n
    language: str
    person: Person | None
    phone: str | None
    spoken_by_tts: bool = True  # False: a recorded language, whose values are said in the default language

    def t(self, key: str, **params: object) -> str:
        """A text in the caller's language (the SMS of addresses)."""
        return self.i18n.t(self.language, key, **params)

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        return self.clock.now().astimezone(self.settings.tz)

    @property
    def values_language(self) -> str:
        """The language values (dates, names) are written in: the default one when they follow a recording."""
        return self.language if self.spoken_by_tts else self.i18n.default_language


VoiceHandler = Callable[[VoiceCall, int | None], Awaitable[Spoken]]
# Whether a caller's words signal danger (the feature's own matcher, never a copy of its words).
UrgentCheck = Callable[[I18n, str], bool]


@dataclass(frozen=True)
class VoiceEntry:
    """A choice of the telephone menu.

    ``label_key`` None: never in the menu, reached by words only (``urgent``: danger words, answered
    at once after the emergency sentence). ``words``: a keyword key matched against what is said.
    ``roles``: offered only to a caller holding one of them. ``area``: asks an arrondissement first.
    """

    key: str
    label_key: str | None
    order: int
    handler: VoiceHandler
    words: str | None = None
    roles: frozenset[str] | None = None
    area: bool = False
    urgent: UrgentCheck | None = None

    def allowed(self, person: Person | None) -> bool:
        if self.roles is None:
            return True
        return person is not None and bool(self.roles & person.roles)


@dataclass(frozen=True)
class Voice:
    """How Twilio speaks one language: ``say`` its ``<Say>`` tag (None: recorded), ``speech`` its
    speech-recognition tag (None: keys only)."""

    say: str | None = None
    voice: str | None = None
    speech: str | None = None


@functools.cache
def voices(path: Path = VOICES_FILE) -> dict[str, Voice]:
    """The languages' Twilio tags, read once from data/voice/voices.yaml."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, Voice] = {}
    for code, spec in raw.items():
        spec = spec or {}
        found[str(code)] = Voice(spec.get("say"), spec.get("voice"), spec.get("speech"))
    return found


def prompt_keys(i18n: I18n) -> list[str]:
    """Every key a call may say: the voice catalogs' (``voice.*`` and ``<feature>.voice.*``)."""
    keys = i18n.catalogs[i18n.default_language]
    return sorted(key for key in keys if key.startswith("voice.") or ".voice." in key)


def recording(settings: Settings, language: str, key: str) -> Path:
    return settings.voice_recordings_dir / language / f"{key}{RECORDING_SUFFIX}"


def missing_recordings(settings: Settings, i18n: I18n, language: str) -> list[str]:
    return [key for key in prompt_keys(i18n) if not recording(settings, language, key).is_file()]


def has_tts(language: str) -> bool:
    voice = voices().get(language)
    return voice is not None and voice.say is not None


def offered_languages(settings: Settings, i18n: I18n) -> list[str]:
    """The configured languages Twilio speaks, or whose every prompt is recorded; the default first."""
    offered = []
    for language in i18n.languages:
        if has_tts(language):
            offered.append(language)
        elif has_tts(i18n.default_language) and not missing_recordings(settings, i18n, language):
            offered.append(language)
    return offered


def is_mobile(phone: str | None) -> bool:
    """Whether an SMS can reach this number (a mobile, or a number that may be one)."""
    if not phone:
        return False
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


async def caller(store: Store, phone: str | None) -> Person | None:
    """The person who has this number for SMS, if any; nobody is created by a call."""
    if phone is None:
        return None
    row = await store.fetchone(
        "SELECT person_id FROM identities WHERE channel = ? AND address = ?", (Channel.SMS.value, phone)
    )
    if row is None:
        return None
    async with store.transaction() as db:
        return await people.get_person(db, int(row[0]))


def entries(routers: Iterable[Any]) -> list[VoiceEntry]:
    """Every feature's voice entries, in their order."""
    found: list[VoiceEntry] = [entry for router in routers for entry in getattr(router, "voice_entries", [])]
    return sorted(found, key=lambda entry: (entry.order, entry.key))


def menu(all_entries: Sequence[VoiceEntry], person: Person | None) -> dict[str, VoiceEntry]:
    """The menu this caller hears: key ("1"...) to entry, the entries their roles allow."""
    shown = [entry for entry in all_entries if entry.label_key is not None and entry.allowed(person)]
    return {str(number): entry for number, entry in enumerate(shown[:MAX_ENTRIES], start=1)}


def _has_phrase(tokens: Sequence[str], phrase: str) -> bool:
    words = phrase.split()
    return bool(words) and any(tokens[i : i + len(words)] == words for i in range(len(tokens) - len(words) + 1))


def urgent(all_entries: Sequence[VoiceEntry], i18n: I18n, speech: str) -> VoiceEntry | None:
    """The entry whose danger check the words trip: checked before anything else."""
    return next((e for e in all_entries if e.urgent is not None and e.urgent(i18n, speech)), None)


def heard(choices: Mapping[str, VoiceEntry], i18n: I18n, speech: str) -> VoiceEntry | None:
    """The menu entry whose keyword words were said ("une douche", "my balance"), in any language."""
    tokens = fold(speech).split()
    for entry in choices.values():
        if entry.words is not None and any(_has_phrase(tokens, phrase) for phrase in i18n.words(entry.words)):
            return entry
    return None


def arrondissement(digits: str) -> int | None:
    """Two keys, 01 to 20."""
    if len(digits) != 2 or not digits.isdigit():
        return None
    number = int(digits)
    return number if 1 <= number <= 20 else None
