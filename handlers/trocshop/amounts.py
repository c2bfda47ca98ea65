"""Amounts of time as people type and say them: "30", "30min", "1h30", "1 heure", "une demi-heure".

Whole minutes only: a note is 15, 30 or 60 minutes, and nobody counts seconds.
"""

from __future__ import annotations

import re

from bot.text import fold

MAX_MINUTES = 100 * 60  # a hundred hours: beyond that it is a typo, not a payment

_WORDS = {
    "un": "1",
    "une": "1",
    "one": "1",
    "an": "1",
    "a": "1",
    "deux": "2",
    "two": "2",
    "trois": "3",
    "three": "3",
    "quatre": "4",
    "four": "4",
    "cinq": "5",
    "five": "5",
}
_HALF = re.compile(r"\b(?:une |a |an )?(?:demi heure|demie heure|demi h|half (?:an )?hour|half h)\b")
_QUARTER = re.compile(r"\b(?:un |a )?quart d heure\b|\bquarter (?:of an )?hour\b")
_HOURS = r"(?:h|hr|hrs|heure|heures|hour|hours|hre|hres)"
_MINUTES = r"(?:m|mn|mns|min|mins|minute|minutes|minut|minute s)"
_PATTERN = re.compile(
    rf"^(?:(?P<h>\d{{1,3}}) ?{_HOURS} ?(?:(?P<hm>\d{{1,2}}) ?(?:{_MINUTES})?)?|(?P<m>\d{{1,4}}) ?(?:{_MINUTES})?)$"
)


def parse_minutes(text: str) -> int | None:
    """Minutes in ``text`` (which holds only the amount), or None when it is not an amount.

    Zero is returned as 0 so the caller can refuse it with a clear message; negatives are None.
    """
    folded = fold(text)
    if not folded:
        return None
    if _HALF.fullmatch(folded):
        return 30
    if _QUARTER.fullmatch(folded):
        return 15
    folded = _numbers_in_words(folded)
    # "1 h et demie" / "1h et quart"
    tail = re.fullmatch(rf"(\d{{1,3}}) ?{_HOURS} (?:et )?(demi|demie|quart|half)", folded)
    if tail:
        return int(tail.group(1)) * 60 + (15 if tail.group(2) == "quart" else 30)
    match = _PATTERN.fullmatch(folded)
    if match is None:
        return None
    if match.group("m") is not None:
        return int(match.group("m"))
    extra = int(match.group("hm") or 0)
    if extra >= 60:
        return None
    return int(match.group("h")) * 60 + extra


def _numbers_in_words(folded: str) -> str:
    """ "une heure" -> "1 heure"; but "a" stays "a" unless a unit follows ("1h a gv k7p2" is not 1 h 01)."""
    words = folded.split()
    out = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        unit = re.fullmatch(f"{_HOURS}|{_MINUTES}", following) is not None
        out.append(_WORDS[word] if word in _WORDS and unit else word)
    return " ".join(out)


def find_amount(words: list[str]) -> tuple[int, int, int] | None:
    """The longest run of words that reads as an amount: (minutes, start, end) or None."""
    for length in range(min(4, len(words)), 0, -1):
        for start in range(0, len(words) - length + 1):
            chunk = " ".join(words[start : start + length])
            if not any(ch.isdigit() for ch in chunk) and not _HALF.search(chunk) and not _QUARTER.search(chunk):
                if not re.search(r"\b(heure|hour)\b", chunk):
                    continue
            minutes = parse_minutes(chunk)
            if minutes is not None:
                return minutes, start, start + length
    return None
