"""Which places to show, in which order: by service, by whom they are for, distance and opening hours.

Pure functions of the data, a local time and what the person wrote, so the rules (women-only places
never in general lists, young people's places only to the young, open places first) are tested
without a bot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from bot.text import fold
from handlers.orientation.content import DayCentre

EARTH_RADIUS_KM = 6371.0
NEAREST = 3
# From mid-afternoon a meal question is about tonight's meal: the places serving dinner come first.
EVENING = time(15, 0)
# Keyword keys (data/locales/<language>/keywords/orientation.yaml) that tell who is asking.
AGE_UNIT = "orientation.places.age_unit"
AGE_LEAD = "orientation.places.age_lead"
DURATION = "orientation.places.duration"
FAMILY = "orientation.places.family"
# An age people write: a number of one or two digits, glued to its unit or not ("19ans", "22yo").
AGES = range(10, 100)
_NUMBER = re.compile(r"^(\d{1,2})([a-z]*)$")
_DAY = (time(0, 0), time(23, 59))


class State(StrEnum):
    OPEN = "open"  # open now, until ``at`` (None: day and night)
    OPENS_TODAY = "opens_today"  # closed now, opens at ``at`` today
    OPENS_LATER = "opens_later"  # closed today, opens on ``weekday`` at ``at``
    CLOSED = "closed"  # no opening hour in the week recorded
    UNKNOWN = "unknown"  # hours not recorded: the answer says to call


@dataclass(frozen=True)
class Status:
    state: State
    at: time | None = None
    weekday: int | None = None


# Order in a list: what can help right now comes first; a place known to be closed comes last.
_RANK = {State.OPEN: 0, State.OPENS_TODAY: 1, State.UNKNOWN: 2, State.OPENS_LATER: 3, State.CLOSED: 4}


def always_open(centre: DayCentre) -> bool:
    """Open day and night, every day (recorded as 00:00-23:59 on each weekday)."""
    return centre.hours is not None and all(centre.hours.get(day) == (_DAY,) for day in range(7))


def status(centre: DayCentre, now: datetime) -> Status:
    """Open or closed at ``now`` (a local, Europe/Paris time) and when it next opens."""
    if centre.hours is None:
        return Status(State.UNKNOWN)
    if always_open(centre):
        return Status(State.OPEN)
    today, clock = now.weekday(), now.time()
    for start, end in centre.hours.get(today, ()):
        if start <= clock < end:
            return Status(State.OPEN, end)
        if clock < start:
            return Status(State.OPENS_TODAY, start)
    for ahead in range(1, 8):
        day = (now + timedelta(days=ahead)).weekday()
        ranges = centre.hours.get(day, ())
        if ranges:
            return Status(State.OPENS_LATER, ranges[0][0], day)
    return Status(State.CLOSED)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance: plenty precise to order places across Paris."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


# -- who is asking ------------------------------------------------------------------------------


class Words(Protocol):
    """The keyword lists of the configured languages (``I18n`` is one)."""

    def words(self, key: str, language: str | None = None) -> frozenset[str]: ...


@dataclass(frozen=True)
class Asker:
    """What a person's words tell about them, as far as the places for a given public care.

    ``age`` wins over ``young``: "je suis jeune, j'ai 27 ans" is 27.
    """

    women: bool = False
    young: bool = False
    age: int | None = None
    family: bool = False

    def may_use(self, centre: DayCentre) -> bool:
        """Women's places to women asking for them, young people's to the young (in their age range
        when an age is given), family places to families; every other place to everyone."""
        if centre.women_only:
            return self.women
        if centre.young_only:
            if self.age is None:
                return self.young
            low, high = centre.age_min, centre.age_max
            return low is not None and high is not None and low <= self.age <= high
        if centre.families_only:
            return self.family
        return True


def _phrases(listed: Iterable[str]) -> list[tuple[str, ...]]:
    return [tuple(phrase.split()) for phrase in listed if phrase]


def _has(tokens: Sequence[str], at: int, phrase: tuple[str, ...]) -> bool:
    return tuple(tokens[at : at + len(phrase)]) == phrase


def age(text: str, words: Words) -> int | None:
    """The age written in ``text``: "j'ai 19 ans", "19ans", "I'm 22", "22 years old"; None when none
    (nor in "a la rue depuis 20 ans", a duration)."""
    tokens = fold(text).split()
    units, leads = _phrases(words.words(AGE_UNIT)), _phrases(words.words(AGE_LEAD))
    durations = _phrases(words.words(DURATION))
    for at, token in enumerate(tokens):
        match = _NUMBER.match(token)
        if match is None or int(match.group(1)) not in AGES:
            continue
        if any(at >= len(before) and _has(tokens, at - len(before), before) for before in durations):
            continue
        glued = match.group(2)
        if glued:
            if (glued,) in units:
                return int(match.group(1))
            continue
        if any(_has(tokens, at + 1, unit) for unit in units):
            return int(match.group(1))
        if any(at >= len(lead) and _has(tokens, at - len(lead), lead) for lead in leads):
            return int(match.group(1))
    return None


def family(text: str, words: Words) -> bool:
    """True when ``text`` mentions children, a family or a pregnancy."""
    tokens = fold(text).split()
    phrases = _phrases(words.words(FAMILY))
    return any(_has(tokens, at, phrase) for at in range(len(tokens)) for phrase in phrases)


def asker(text: str, words: Words, *, women: bool = False, young: bool = False) -> Asker:
    """Who is asking, from the message: ``women`` and ``young`` as the matcher understood them."""
    return Asker(women=women, young=young, age=age(text, words), family=family(text, words))


# -- which places, in which order -----------------------------------------------------------------


def eligible(
    centres: Iterable[DayCentre],
    *,
    service: str | None = None,
    women: bool = False,
    young: bool = False,
    person: Asker | None = None,
) -> list[DayCentre]:
    """Places offering ``service`` that ``person`` may use (see :meth:`Asker.may_use`); without a
    person, one who said only whether they are a woman or young."""
    who = person or Asker(women=women, young=young)
    return [c for c in centres if who.may_use(c) and (service is None or service in c.services)]


def evening(now: datetime) -> bool:
    return now.time() >= EVENING


def no_dinner(centre: DayCentre, service: str | None, now: datetime) -> bool:
    """In the evening, a meal list puts the places serving no dinner after the others."""
    return service == "meal" and evening(now) and "evening" not in centre.meals


def first_of(centre: DayCentre, service: str | None, now: datetime) -> tuple[bool, bool]:
    """What comes before status or distance: a meal tonight in the evening, then the places for the
    person's own public (women, young, families) before the places for everyone."""
    return no_dinner(centre, service, now), centre.public == "everyone"


def tonight_first(centres: Sequence[DayCentre], service: str | None, now: datetime) -> list[DayCentre]:
    """``centres`` in their order, but in the evening a meal list's places serving dinner first."""
    return sorted(centres, key=lambda c: no_dinner(c, service, now))


def by_status(centres: Iterable[DayCentre], now: datetime, service: str | None = None) -> list[DayCentre]:
    """The person's own public's places first, then open now, unknown hours (may be open), closed;
    in the evening, a meal list starts with the places serving dinner."""
    return sorted(centres, key=lambda c: (*first_of(c, service, now), rank(c, now), c.name))


def rank(centre: DayCentre, now: datetime) -> float:
    """Open now first, then opening later today, unknown hours (call), another day, closed; unknown
    hours with no number to call come just before closed: nothing tells whether the door is open."""
    state = status(centre, now).state
    if state is State.UNKNOWN and centre.phone is None:
        return (_RANK[State.OPENS_LATER] + _RANK[State.CLOSED]) / 2
    return _RANK[state]


def in_arrondissement(centres: Iterable[DayCentre], arrondissement: int) -> list[DayCentre]:
    return [c for c in centres if c.arrondissement == arrondissement]


def nearest(
    centres: Iterable[DayCentre],
    latitude: float,
    longitude: float,
    count: int = NEAREST,
    *,
    service: str | None = None,
    now: datetime | None = None,
) -> list[tuple[DayCentre, float]]:
    """The ``count`` closest places with their distance in km, closest first (in the evening, a meal
    list's places serving dinner first)."""
    ranked = sorted(
        ((c, haversine_km(latitude, longitude, c.latitude, c.longitude)) for c in centres),
        key=lambda pair: (now is not None and no_dinner(pair[0], service, now), pair[1], pair[0].name),
    )
    return ranked[:count]
