"""Text folding shared by the dispatcher and the features: people type without accents, in caps, with typos.

And the days people type ("2/12", "02/12/2026", "2026-12-02"), read the same way by every feature.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from unidecode import unidecode

_NOT_WORD = re.compile(r"[^a-z0-9+\u0621-\u06ff\u1200-\u135a\u1380-\u139f\u2d80-\u2ddf\uab00-\uab2f]+")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}
_JOINERS = "\u200c\u200d"  # part of Persian and Pashto spelling (می‌خواهم), not control
# Arabic-script and Ge'ez letters stay letters: unidecode would spell أين "'yn" but اين "yn", ک "kh" but
# ك "k", and read the short vowels as letters. Instead the ways people type the same word are made one:
# no short vowels, shadda or tatweel; the Arabic and Persian forms of a letter as one; Pashto's own letters
# as their Persian look-alikes (many type Pashto on a Persian keyboard); Ge'ez homophone series as one.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200c\u200d]")
_ARABIC_LETTERS = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
        "ة": "ه", "ۀ": "ه", "ە": "ه", "ۃ": "ه", "ھ": "ه",
        "ي": "ی", "ى": "ی", "ې": "ی", "ۍ": "ی", "ئ": "ی", "ے": "ی", "ێ": "ی",
        "ك": "ک", "ګ": "گ", "ڪ": "ک",
        "ؤ": "و", "ټ": "ت", "ډ": "د", "ړ": "ر", "ښ": "ش", "ږ": "ژ", "ځ": "ز", "څ": "س", "ڼ": "ن",
    }
)  # fmt: skip
# Ge'ez series written alike (ሠ and ሰ, ፀ and ጸ, ኀ and ሐ and ሀ, ዐ and አ), and in the series of ሀ and አ the
# first and fourth orders, which Amharic keyboards and habits mix (ሐኪም for ሓኪም, አበይ for ኣበይ).
_GEEZ_SERIES = {0x1220: 0x1230, 0x1340: 0x1338, 0x1280: 0x1200, 0x1210: 0x1200, 0x12D0: 0x12A0}
_GEEZ_FOURTH = {0x1200: 0x1203, 0x12A0: 0x12A3}


def _geez(code: int) -> str:
    for start, to in _GEEZ_SERIES.items():
        if start <= code < start + 8:
            code = to + code - start
    return chr(_GEEZ_FOURTH.get(code, code))


_GEEZ_LETTERS = str.maketrans(
    {chr(start + order): _geez(start + order) for start in (*_GEEZ_SERIES, *_GEEZ_FOURTH) for order in range(8)}
)
_KEPT = "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff\u1200-\u139f\u2d80-\u2ddf\uab00-\uab2f"
_KEPT_SCRIPT = re.compile(f"[{_KEPT}]")
_WORD_OR_KEPT = re.compile(f"([{_KEPT}]+)")


def clean(text: str, limit: int = 2000) -> str:
    """What a handler may read: no control characters, trimmed, at most ``limit`` characters."""
    kept = "".join(
        " " if unicodedata.category(ch) in _CONTROL and ch not in _JOINERS else ch for ch in text[: limit * 2]
    )
    return " ".join(kept.split())[:limit]


def fold(text: str) -> str:
    """Lower-case words separated by single spaces: "Où  DORMIR ce soir ?!" -> "ou dormir ce soir".

    Latin, Greek or Cyrillic letters become ASCII; Arabic-script and Ge'ez words keep their letters,
    each way of typing them made one (see ``_ARABIC_LETTERS``): "أينَ" and "اين" fold alike.
    """
    if _KEPT_SCRIPT.search(text) is None:
        return _NOT_WORD.sub(" ", unidecode(text).lower()).strip()
    text = unicodedata.normalize("NFKC", text)  # presentation forms (ﻻ) as letters
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS).translate(_GEEZ_LETTERS)
    parts = _WORD_OR_KEPT.split(text)  # odd indexes: runs of kept letters; the rest through unidecode
    spelled = "".join(part if index % 2 else _ascii_digits(unidecode(part)) for index, part in enumerate(parts))
    return _NOT_WORD.sub(" ", _ascii_digits(spelled).lower()).strip()


def _ascii_digits(text: str) -> str:
    """Arabic-Indic and Persian digits as 0-9 (people copy the 115 from a poster or type on their keyboard)."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def words(text: str) -> list[str]:
    return fold(text).split()


# The years a typed date may fall in. Outside them it is a typing mistake, and near the ends of
# Python's calendar (year 1, year 9999) the first week added to it overflows.
FIRST_YEAR = 2000
LAST_YEAR = 2100
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")


class FarDate(ValueError):
    """A date written correctly whose year is outside FIRST_YEAR..LAST_YEAR: the answer says the range.

    ``key`` and ``params`` are the catalog message a feature answers with.
    """

    key = "core.far_date"

    def __init__(self, typed: str) -> None:
        super().__init__(typed)
        self.params: dict[str, object] = {"value": typed.strip()[:20], "first": FIRST_YEAR, "last": LAST_YEAR}


def within_years(day: date, typed: str | None = None) -> date:
    """``day`` itself, or FarDate when its year is outside FIRST_YEAR..LAST_YEAR (for any parser of dates)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise FarDate(typed if typed is not None else day.isoformat())
    return day


def typed_day(text: str, today: date, recent: timedelta = timedelta(0)) -> date | None:
    """A day as people type it: "2026-12-02", "02/12/2026", "2/12/26", "2.12", "2-12".

    Without a year it is this year's, or next year's when this year's was more than ``recent`` before
    ``today``. None when the text is no day (30 February included); FarDate when its year is out of range.
    """
    typed = text.strip()
    iso = _ISO_DAY.match(typed)
    numbers = iso or _DAY_MONTH.match(typed)
    if numbers is None:
        return None
    if iso:
        year, month, day = (int(group) for group in iso.groups())
    else:
        day, month = int(numbers.group(1)), int(numbers.group(2))
        written = numbers.group(3)
        year = today.year if written is None else int(written) + (2000 if len(written) == 2 else 0)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FarDate(typed)
    try:
        found = date(year, month, day)
        if not iso and numbers.group(3) is None and found < today - recent:
            found = date(year + 1, month, day)  # "5/1" typed in December is next January
    except ValueError:
        return None
    return found


def digits_of(text: str) -> str:
    """The decimal digits in ``text``, as ASCII: "n°١٢" -> "12". "²" is no digit here: ``int()`` refuses it."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def typed_number(text: str, digits: int = 9) -> int | None:
    """A count or an id typed as a word: decimal digits only, at most ``digits`` of them (so SQLite can
    store it), else None. ``str.isdigit`` alone lets "²" through to ``int()``, which raises."""
    return int(text) if 0 < len(text) <= digits and text.isdecimal() else None


def format_minutes(minutes: int) -> str:
    """As people say it: "45 min", "1 h", "1 h 30"; a negative amount keeps its sign."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours == 0:
        return f"{sign}{rest} min"
    if rest == 0:
        return f"{sign}{hours} h"
    return f"{sign}{hours} h {rest:02d}"


# Inside right-to-left text, a run such as "01 45 44 00 00", "24h/24" or "82 avenue Denfert-Rochereau" is
# reordered by the bidirectional algorithm ("00 00 44 45 01"). An isolate (LRI ... PDI, Unicode 6.3, shown by
# Telegram and by phones of the last ten years) keeps it left to right; a bare number ("115", "18:30") needs none.
LRI, PDI = "\u2066", "\u2069"
_LTR_RUN = re.compile(
    r"[0-9A-Za-z\u00c0-\u024f+/][0-9A-Za-z\u00c0-\u024f +.,:;/'’\-–°@_&#%=?]*[0-9A-Za-z\u00c0-\u024f/]|[0-9]"
)  # no parenthesis: a pair split by an isolate would be mirrored apart
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:[:.,][0-9]+)*")


def isolate_ltr(text: str) -> str:
    """``text`` with each left-to-right run that could be reordered (a digit in it, a /command, a URL)
    wrapped in LRI ... PDI."""

    def wrap(match: re.Match[str]) -> str:
        run = match.group(0)
        if _PLAIN_NUMBER.fullmatch(run) or not (any(ch.isdigit() or ch in "/:@" for ch in run)):
            return run  # "115", "18:30", or words only ("Magasin général"): shown in order already
        return f"{LRI}{run}{PDI}"

    # A text made of translated parts is isolated again as a whole: the same text, whatever its parts.
    return _LTR_RUN.sub(wrap, text.replace(LRI, "").replace(PDI, ""))
