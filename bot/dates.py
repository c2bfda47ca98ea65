"""A whole date as staff write it on the command line or in a spreadsheet, shared by the features.

French staff write 09/12/2026; a French Excel saves a date cell as 09/12/2026 or, when the cell
holds a date and time, 09/12/2026 00:00 (or 00:00:00); others write 2026-12-09. The day itself is
read by :func:`bot.text.typed_day`, as in chat; unlike chat, the year must be written: a command or a
file has no "today" to guess it from.
"""

from __future__ import annotations

import re
from datetime import date

from bot.text import FIRST_YEAR, typed_day

# What Excel adds to a date cell that also holds a time: midnight only, since a day is wanted.
_MIDNIGHT = re.compile(r"\s+0?0:00(?::00)?$")
_PARTS = re.compile(r"[/.-]")


def written_day(text: str) -> date | None:
    """The day of "2026-12-09", "09/12/2026", "9/12/26", "09.12.2026" or "09/12/2026 00:00:00".

    None when it is no day or lacks its year; :class:`bot.text.FarDate` when the year is out of range.
    """
    typed = _MIDNIGHT.sub("", text.strip())
    if len(_PARTS.split(typed)) != 3:
        return None
    # With the year written, typed_day never looks at today.
    return typed_day(typed, date(FIRST_YEAR, 1, 1))
