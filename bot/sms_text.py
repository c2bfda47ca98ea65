"""SMS presentation: GSM-7 rendering, segment counting, numbered choices and paging.

One character outside GSM-7 turns a whole SMS into UCS-2 (70 characters a segment instead of 160),
so French and English texts are transliterated for SMS only: ``ê`` becomes ``e``, ``’`` becomes ``'``.
The accents GSM-7 has (é è à ù ì ò Ç) are kept. A text in a script that has no Latin spelling
(Arabic, Persian, Pashto, Ge'ez) is sent as it is, in UCS-2, and paged at three segments, not two.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from unidecode import unidecode

from bot.messages import Reply

CODEC = "gsm03.38"
GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67
PAGE_SEPTETS = 2 * GSM_MULTI  # an orientation answer fits in two segments or is paged
PAGE_UCS2_UNITS = 3 * UCS2_MULTI  # in a script GSM-7 lacks, three segments (201 characters)
MAX_BODY = 1600  # Twilio refuses longer bodies (21617)

# What unidecode would spell worse for a French reader.
_SPECIAL = {
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "…": "...",
    "–": "-",
    "—": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "°": "o",  # "n°" -> "no", not unidecode's "ndeg"
    "→": "->",  # unidecode's "-" loses the direction ("ê → e" in a broadcast warning)
    "œ": "oe",
    "Œ": "OE",
    "€": "€",
}


@functools.lru_cache(maxsize=4096)
def _char_septets(ch: str) -> int:
    """Septets of one character (2 for the extension table), 0 when GSM-7 lacks it.

    The codec encodes character by character in pure Python (about 2 ms for one answer, a third
    of the bot's time per SMS): asking it once per character and remembering is the same answer.
    """
    try:
        return len(ch.encode(CODEC))
    except UnicodeEncodeError:
        return 0


def is_gsm(text: str) -> bool:
    return all(map(_char_septets, set(text)))


def septets(text: str) -> int:
    """GSM-7 length: characters of the extension table (€ [ ] { } ...) count twice."""
    total = 0
    for ch in set(text):
        size = _char_septets(ch)
        if not size:
            position = next(i for i, c in enumerate(text) if not _char_septets(c))
            raise UnicodeEncodeError(CODEC, text, position, position + 1, "character not mapped")
        total += size * text.count(ch)
    return total


def to_gsm(text: str) -> str:
    """The closest GSM-7 spelling of ``text``: characters GSM-7 has are kept as they are.

    A text with letters of a script GSM-7 cannot spell (Arabic, Ge'ez...) stays as it is: unidecode
    would make "أين" "'yn", which nobody reads.
    """
    if is_gsm(text) or needs_ucs2(text):
        return text
    return "".join(_gsm_char(ch) for ch in text)


def needs_ucs2(text: str) -> bool:
    """Whether ``text`` has letters of a script without a Latin spelling (Unicode's "other letters")."""
    return any(ch > "\u02ff" and unicodedata.category(ch) == "Lo" for ch in text)


def over_a_page(text: str) -> bool:
    """Whether ``text``, as an SMS would send it, is longer than one page of ``paginate``."""
    sent = to_gsm(text)
    return units(sent) > (PAGE_SEPTETS if is_gsm(sent) else PAGE_UCS2_UNITS)


def units(text: str) -> int:
    """What the segment limit counts in ``text``: septets in GSM-7, UTF-16 code units in UCS-2."""
    return septets(text) if is_gsm(text) else len(text.encode("utf-16-le")) // 2


@functools.lru_cache(maxsize=4096)
def _gsm_char(ch: str) -> str:
    if is_gsm(ch):
        return ch
    candidate = _SPECIAL.get(ch) or unidecode(ch)
    return candidate if candidate and is_gsm(candidate) else "?"


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    count: int


def segments(text: str) -> Segments:
    """How many SMS segments Twilio bills for ``text`` as sent."""
    if is_gsm(text):
        units = septets(text)
        count = 1 if units <= GSM_SINGLE else math.ceil(units / GSM_MULTI)
        return Segments("GSM-7", units, count)
    units = len(text.encode("utf-16-le")) // 2
    count = 1 if units <= UCS2_SINGLE else math.ceil(units / UCS2_MULTI)
    return Segments("UCS-2", units, count)


def render_reply(reply: Reply) -> str:
    """A reply as SMS text: choices become numbered lines the person answers with a digit."""
    return to_gsm(numbered(reply))


def numbered(reply: Reply) -> str:
    """A reply as plain text with its choices as numbered lines, every character as written (WhatsApp)."""
    lines = [reply.shown] if reply.shown else []
    lines.extend(f"{i} {choice.label}" for i, choice in enumerate(reply.choices, start=1))
    return "\n".join(lines)


def paginate(text: str, more_footer: str, limit: int | None = None, pinned: str = "", *, gsm: bool = True) -> list[str]:
    """Cut ``text`` into pages of at most ``limit`` units, each but the last ending with ``more_footer``.

    Without a limit a page is two GSM-7 segments, or three in UCS-2 (a script GSM-7 lacks).
    ``pinned`` ends the first page, whatever follows: the code a confirmation asks for must be read
    without SUITE. With ``gsm`` False (WhatsApp) every character stays as written and a page is
    ``limit`` characters.
    """
    spell: Callable[[str], str] = to_gsm if gsm else str
    text = spell(text)
    pin = "\n" + spell(pinned) if pinned else ""
    footer = "\n" + spell(more_footer)
    if limit is None:
        limit = PAGE_SEPTETS if is_gsm(text + pin + footer) else PAGE_UCS2_UNITS
    size: Callable[[str], int] = len
    if gsm:
        size = septets if is_gsm(text + pin + footer) else units
    if size(text + pin) <= limit:
        return [text + pin]
    room = limit - size(footer)
    first_room = room - size(pin)
    pages: list[str] = []
    current = ""
    for piece in _pieces(text, first_room, size):
        joined = f"{current}\n{piece}" if current else piece
        if size(joined) <= (room if pages else first_room):
            current = joined
        else:
            pages.append(current)
            current = piece
    if current:
        pages.append(current)
    pages[0] += pin
    if len(pages) == 1:
        return pages
    return [page + footer for page in pages[:-1]] + pages[-1:]


def _pieces(text: str, room: int, size: Callable[[str], int] = septets) -> list[str]:
    """Lines, and lines too long for a page cut at word boundaries."""
    pieces: list[str] = []
    for line in text.split("\n"):
        while size(line) > room:
            cut = room
            while size(line[:cut]) > room:
                cut -= 1
            space = line.rfind(" ", 0, cut)
            cut = space if space > room // 2 else cut
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        pieces.append(line)
    return pieces
