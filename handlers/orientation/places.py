"""Which day centres to show, in which order: by service, arrondissement, distance and opening hours.

Pure functions of the data and a local time, so the rules (women-only places never in general
lists, open places first) are tested without a bot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from handlers.orientation.content import DayCentre

EARTH_RADIUS_KM = 6371.0
NEAREST = 3


class State(StrEnum):
    OPEN = "open"  # open now, until ``at``
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


def status(centre: DayCentre, now: datetime) -> Status:
    """Open or closed at ``now`` (a local, Europe/Paris time) and when it next opens."""
    if centre.hours is None:
        return Status(State.UNKNOWN)
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


def eligible(
    centres: Iterable[DayCentre], *, service: str | None = None, women: bool = False, young: bool = False
) -> list[DayCentre]:
    """Places offering ``service``; women-only places only when a women's service was asked for."""
    kept = []
    for centre in centres:
        if centre.women_only and not women:
            continue
        if young and not centre.young_only:
            continue
        if service is not None and service not in centre.services:
            continue
        kept.append(centre)
    return kept


def by_status(centres: Iterable[DayCentre], now: datetime) -> list[DayCentre]:
    """Places anyone asking may use first (women's places to women), young people's after; then open
    now, unknown hours (may be open), closed."""
    return sorted(centres, key=lambda c: (not c.women_only, c.young_only, _RANK[status(c, now).state], c.name))


def in_arrondissement(centres: Iterable[DayCentre], arrondissement: int) -> list[DayCentre]:
    return [c for c in centres if c.arrondissement == arrondissement]


def nearest(
    centres: Iterable[DayCentre], latitude: float, longitude: float, count: int = NEAREST
) -> list[tuple[DayCentre, float]]:
    """The ``count`` closest places with their distance in km, closest first."""
    ranked = sorted(
        ((c, haversine_km(latitude, longitude, c.latitude, c.longitude)) for c in centres),
        key=lambda pair: (pair[1], pair[0].name),
    )
    return ranked[:count]
