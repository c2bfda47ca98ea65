"""Amounts of time as people type and say them, read by one parser for the chat and the command line.

"30", "30min", "90 mn", "1h30", "1 h 30", "1h 30min", "1,5 h", "1.5h", "0,25 h", "1:30", "1h1/2", "1½ h",
"une heure", "1 heure et demie", "une demi-heure", "trois quarts d'heure", "an hour and a half"...
Numbers in words ("une", "two") are the keyword files' (``trocshop.number_1`` to ``trocshop.number_10``),
so a translator adds them; the bot passes its I18n, and a parser called on its own reads the shipped ones.
Whole minutes only: a note is 15, 30 or 60 minutes and nobody counts seconds, so "1,5 min" or
"0,33 h" is refused rather than rounded. Every minus sign and dash people's phones produce (U+2212,
the en and em dashes, the full-width hyphen...) in front of an amount makes it a negative, refused.
One operation moves at most ``MAX_MINUTES``: beyond that it is a typo (or worse), and the refusal
says the cap.

A refusal is a ``LedgerError`` (catalog key and parameters), rendered by the chat and the command
line as every other refusal of the books.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import phonenumbers
from unidecode import unidecode

from bot.i18n import I18n, shipped
from bot.text import format_minutes
from handlers.trocshop.ledger import DENOMINATIONS, LedgerError

MAX_MINUTES = 24 * 60  # one operation: a day of time. More is a typo, or an attempt to empty the books.
MAX_ENTRY_DIGITS = 15  # entry numbers: far beyond any journal, far below SQLite's 64-bit integers
_MAX_DIGITS = 6  # an integer part longer than this is beyond the cap in any unit: no need to convert it

# Minus signs and dashes that are not "Pd" (dash punctuation), which is checked by category.
_MINUS_SIGNS = frozenset("\u2212\u207b\u208b\u2796\u02d7\ufe63\uff0d")

# The keyword keys of the numbers people write in words, and their values.
NUMBER_KEYS = {f"trocshop.number_{n}": n for n in range(1, 11)}
_WORD = "<number in words>"  # where the unit forms take the numbers' alternation (see _unit_forms)
_NUM = r"(?:\d+(?:[.,]\d+)?|[.,]\d+)"
_START = r"(?<![a-z0-9/])(?<!\d[.,])"
_H = r"(?:heures?|hours?|hrs?|hres?|h)(?![a-z])"
_H_LONG = r"(?:heures?|hours?)(?![a-z])"  # after a number in words: "une h" is too easily something else
_M = r"(?:minutes?|minut|mins?|mnts?|mns?|m)(?![a-z0-9])"
_M_LONG = r"(?:minutes?|mins?)(?![a-z0-9])"
_HALF = r"(?:demie?|a\s+half|half|1\s*/\s*2)(?![a-z0-9])"  # "1h1/2"; "½" is read as " 1/2"
# Minutes after the hours: written together ("1h30") they are the amount's; apart ("1 h 30"), only
# when no digits follow, since "1h 06 39 98 00 03" pays 1 h to a phone number.
_TAIL = rf"""(?:
      \s*(?:et|and)?\s*(?P<frac>{_HALF}|quart(?![a-z]))
    | \s*moins\s+(?:le\s+)?(?P<less>quart)(?![a-z])
    | (?<=[a-z])(?P<hm>[0-5]?\d)(?![\d.,/])(?:\s*{_M}|(?![a-z]))
    | \s*(?:et|and)?\s*(?P<hms>[0-5]?\d)(?!\d)(?:\s*{_M}|(?![a-z]|[.,]\d)(?!\s*[-.]?\s*\d)(?!\s*{_H}))
)?"""
_UNIT_FORMS = rf"""{_START}(?:
      (?P<quarter>(?:(?P<qn>(?:un|une|a|one|1|trois|three|3)\s+)?
        (?:quarts?\s*(?:d\s*'?\s*)?(?:heure|h)|quarters?\s*(?:of\s+)?(?:an\s+)?(?:hour|h))
        | (?P<qf>[13])\s*/\s*4\s*(?:d\s*'?\s*)?(?:heure|hour|h))(?![a-z]))
    | (?P<half>(?:(?:une|un|a|an)\s+)?(?:demie?\s*-?\s*(?:heure|h)|half\s*-?\s*(?:an\s+)?(?:hour|hr|h))(?![a-z])
        | 1\s*/\s*2\s*(?:d\s*'?\s*)?(?:heure|hour|h)(?![a-z]))
    | (?P<an>{_NUM}|{_WORD})(?:\s+and\s+a\s+half\s+|\s*1\s*/\s*2\s*){_H}
    | (?:(?P<hn>{_NUM})\s*{_H}|(?P<hw>{_WORD})\s+{_H_LONG}){_TAIL}
    | (?P<ch>\d{{1,2}}):(?P<cm>[0-5]\d)(?!\d)(?:\s*{_H})?
    | (?:(?P<mn>{_NUM})\s*{_M}|(?P<mw>{_WORD})\s+{_M_LONG})
)"""


@lru_cache(maxsize=8)
def _unit_forms(numbers: tuple[str, ...]) -> re.Pattern[str]:
    """The unit forms with these numbers in words, longest first so "une" is not read as "un"."""
    words = "|".join(re.escape(word) for word in sorted(numbers, key=lambda word: (-len(word), word)))
    return re.compile(_UNIT_FORMS.replace(_WORD, f"(?:{words or '(?!)'})"), re.VERBOSE)


def number_words(i18n: I18n | None = None) -> dict[str, int]:
    """The numbers people write in words ("une": 1, "two": 2), from the keyword files."""
    words = i18n or shipped()
    return {word: value for key, value in NUMBER_KEYS.items() for word in sorted(words.words(key))}


_BARE = re.compile(rf"{_START}(?P<bare>{_NUM})(?![a-z0-9/])(?![.,]\d)")
_MEMBER_CODE = re.compile(r"(?<![a-z0-9])gv[\s._-]*[acdefghjkmnprtuvwxy2346789]{4}(?![a-z0-9])")
_NOTE = re.compile(r"(?:(?P<count>\d+)\s*[x*]\s*(?P<of>15|30|60)|(?P<one>15|30|60)\s*(?:min|mn|m)?)(?![a-z0-9])")
_NOTE_GAP = re.compile(r"(?:[\s,;+]|\bet\b|\band\b)*")
_ENTRY = re.compile(r"#?([0-9]+)")


@dataclass(frozen=True, slots=True)
class Found:
    """An amount in a message: its minutes and where it was typed (``text[start:end]``)."""

    minutes: int
    start: int
    end: int


def too_big() -> LedgerError:
    """The refusal of an amount over the cap, saying the cap."""
    return LedgerError("trocshop.amount_too_big", max=format_minutes(MAX_MINUTES))


def search_amount(text: str, i18n: I18n | None = None) -> Found | None:
    """The amount in a sentence ("payer 1,5 h a GV-K7P2"), or None; a bad amount is refused.

    An amount with its unit wins over a bare number, and a member code or a phone number is never
    read as one, so the amount never swallows the payee.
    """
    return _scan(text, number_words(i18n), anchored=False)


def leading_amount(text: str, i18n: I18n | None = None) -> Found | None:
    """The amount ``text`` begins with ("1h30 activite atelier"), or None; a bad amount is refused."""
    return _scan(text, number_words(i18n), anchored=True)


def read_amount(text: str, i18n: I18n | None = None) -> int | None:
    """The minutes when ``text`` is only an amount, None when it is not one; a bad amount is refused."""
    found = leading_amount(text, i18n)
    if found is None or text[found.end :].strip():
        return None
    return found.minutes


def read_notes(text: str) -> dict[int, int] | None:
    """Paper notes as staff type them ("2x30 1x15", "60 30"): count by denomination, None when unreadable."""
    prepared, _ = _prepare(text)
    notes = dict.fromkeys(DENOMINATIONS, 0)
    total = 0
    pos = _gap_end(prepared, 0)
    while pos < len(prepared):
        match = _NOTE.match(prepared, pos)
        if match is None:
            if prepared[pos] == "-":
                raise LedgerError("trocshop.amount_negative")
            return None
        count_text = match.group("count")
        if count_text is not None and len(count_text.lstrip("0")) > _MAX_DIGITS:
            raise too_big()
        denomination = int(match.group("of") or match.group("one"))
        count = int(count_text) if count_text is not None else 1
        notes[denomination] += count
        total += denomination * count
        if total > MAX_MINUTES:
            raise too_big()
        pos = _gap_end(prepared, match.end())
    if total <= 0:
        return None
    return {d: c for d, c in notes.items() if c}


def read_entry(text: str) -> int | None:
    """An entry number as staff type it ("12", "#12"), None when it is not one; a number too long for any
    entry is refused as no such entry, before it reaches the database."""
    match = _ENTRY.fullmatch(text.strip())
    if match is None:
        return None
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > MAX_ENTRY_DIGITS:
        raise LedgerError("trocshop.no_entry", entry=digits[:MAX_ENTRY_DIGITS] + "...")
    return int(digits)


def parse_minutes(text: str, i18n: I18n | None = None) -> int | None:
    """Minutes when ``text`` is only an amount within the cap (0 included), else None: a yes-or-no reading."""
    try:
        return read_amount(text, i18n)
    except LedgerError as exc:
        return 0 if exc.key == "trocshop.amount_positive" else None


def find_amount(words: list[str], i18n: I18n | None = None) -> tuple[int, int, int] | None:
    """:func:`search_amount` over words: (minutes, first word, word after), or None when none or refused."""
    text = " ".join(words)
    try:
        found = search_amount(text, i18n)
    except LedgerError:
        return None
    if found is None:
        return None
    starts = [m.start() for m in re.finditer(r"\S+", text)]
    first = max(i for i, s in enumerate(starts) if s <= found.start)
    after = sum(1 for s in starts if s < found.end)
    return found.minutes, first, after


# --- Reading --------------------------------------------------------------------------------------


def _gap_end(prepared: str, pos: int) -> int:
    """Where the next note starts, past spaces, commas, "+" and "et"."""
    gap = _NOTE_GAP.match(prepared, pos)
    return gap.end() if gap else pos


def _is_minus(ch: str) -> bool:
    return ch in _MINUS_SIGNS or unicodedata.category(ch) == "Pd"


def _prepare(text: str) -> tuple[str, list[int]]:
    """Lower-case ASCII with every minus and dash as "-", and where each character came from in ``text``."""
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        replacement = "-" if _is_minus(ch) else unidecode(ch).lower()
        out.append(replacement)
        origin.extend([index] * len(replacement))
    return "".join(out), origin


def _mask(prepared: str) -> str:
    """Member codes and phone numbers become walls ("#"), so no amount is read inside them."""
    chars = list(prepared)
    spans = [(m.start(), m.end()) for m in _MEMBER_CODE.finditer(prepared)]
    spans += [
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(prepared, "FR", leniency=phonenumbers.Leniency.POSSIBLE)
    ]
    for start, end in spans:
        chars[start:end] = "#" * (end - start)
    return "".join(chars)


def _isolated(masked: str, start: int, end: int) -> bool:
    """A bare number next to other digits is a piece of a phone number or a list, not an amount."""
    before = masked[:start].rstrip(" .-")
    after = masked[end:].lstrip(" .-")
    return not (before[-1:].isdigit() or after[:1].isdigit())


def _number(text: str, numbers: Mapping[str, int]) -> Fraction:
    """ "1,5", "2", "une": exactly, so a fraction of a minute is seen, never rounded away."""
    if text in numbers:
        return Fraction(numbers[text])
    whole, _, decimals = text.replace(",", ".").partition(".")
    if len(whole.lstrip("0")) > _MAX_DIGITS:
        raise too_big()
    decimals = decimals.rstrip("0")
    if len(decimals) > _MAX_DIGITS:
        raise LedgerError("trocshop.amount_fraction")
    return Fraction(int(whole or "0")) + (Fraction(int(decimals), 10 ** len(decimals)) if decimals else 0)


def _minutes(match: re.Match[str], numbers: Mapping[str, int]) -> Fraction:
    """The minutes of one of the unit forms, exactly."""
    group = match.group
    if group("quarter") is not None:
        three = (group("qn") or "").strip() in ("trois", "three", "3") or group("qf") == "3"
        return Fraction(45 if three else 15)
    if group("half") is not None:
        return Fraction(30)
    if group("an") is not None:
        return (_number(group("an"), numbers) + Fraction(1, 2)) * 60
    if group("hn") is not None or group("hw") is not None:
        minutes = _number(group("hn") or group("hw"), numbers) * 60
        if group("frac") is not None:
            minutes += 15 if group("frac").startswith("quart") else 30
        elif group("less") is not None:
            minutes -= 15
        elif group("hm") is not None or group("hms") is not None:
            minutes += int(group("hm") or group("hms"))
        return minutes
    if group("ch") is not None:
        return Fraction(int(group("ch")) * 60 + int(group("cm")))
    return _number(group("mn") or group("mw"), numbers)


def _negative(masked: str, start: int) -> bool:
    """A minus sign or a dash just before the amount, not inside a word ("t-shirt 30")."""
    return re.search(r"(?:^|[^a-z0-9])-[\s-]*$", masked[:start]) is not None


def _scan(text: str, numbers: Mapping[str, int], *, anchored: bool) -> Found | None:
    """The first amount in ``text`` (or the one it begins with), checked: sign, whole minutes, cap."""
    prepared, origin = _prepare(text)
    masked = _mask(prepared)
    begin = len(masked) - len(masked.lstrip(" \t\r\n-")) if anchored else 0
    unit_forms = _unit_forms(tuple(numbers))
    match: re.Match[str] | None
    if anchored:
        match = unit_forms.match(masked, begin) or _BARE.match(masked, begin)
    else:
        match = unit_forms.search(masked)
        if match is None:
            match = next((m for m in _BARE.finditer(masked) if _isolated(masked, m.start(), m.end())), None)
    if match is None:
        return None
    if _negative(masked, match.start()):
        raise LedgerError("trocshop.amount_negative")
    value = _number(match.group("bare"), numbers) if match.re is _BARE else _minutes(match, numbers)
    if value.denominator != 1:
        raise LedgerError("trocshop.amount_fraction")
    if value <= 0:
        raise LedgerError("trocshop.amount_positive")
    if value > MAX_MINUTES:
        raise too_big()
    end = origin[match.end() - 1] + 1
    return Found(int(value), origin[match.start()], end)
