"""Text folding shared by the dispatcher and the features: people type without accents, in caps, with typos.

And the days people type ("2/12", "02/12/2026", "2026-12-02"), read the same way by every feature.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from unidecode import unidecode

_NOT_WORD = re.compile(r"[^a-z0-9+]+")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean(text: str, limit: int = 2000) -> str:
    """What a handler may read: no control characters, trimmed, at most ``limit`` characters."""
    kept = "".join(" " if unicodedata.category(ch) in _CONTROL else ch for ch in text[: limit * 2])
    return " ".join(kept.split())[:limit]


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: "Où  DORMIR ce soir ?!" -> "ou dormir ce soir"."""
    return _NOT_WORD.sub(" ", unidecode(text).lower()).strip()


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
