"""The orientation data under ``data/orientation/``, read and checked once, on first use.

Staff edit these YAML files, not the code: a wrong entry fails loudly at start-up with the file and
the entry named, rather than sending someone to a half-described place.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "orientation"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PUBLICS = ("everyone", "women", "young")
STATUSES = ("to_check", "checked")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

Ranges = tuple[tuple[time, time], ...]


class ContentError(ValueError):
    """A data file is wrong: the message names the file and the entry."""


@dataclass(frozen=True)
class DayCentre:
    """One accueil de jour, as recorded with its source; ``hours`` is None when unknown."""

    key: str
    name: str
    short_name: str
    address: str
    postcode: str
    arrondissement: int
    phone: str
    services: frozenset[str]
    appointment: frozenset[str]
    public: str
    age_min: int | None
    age_max: int | None
    hours: dict[int, Ranges] | None
    latitude: float
    longitude: float
    coordinates: str
    source: str
    verified: tuple[int, int]
    status: str

    @property
    def women_only(self) -> bool:
        return self.public == "women"

    @property
    def young_only(self) -> bool:
        return self.public == "young"

    @property
    def to_check(self) -> bool:
        return self.status != "checked"


@dataclass(frozen=True)
class Number:
    number: str
    what: str
    source: str
    checked: str


@dataclass(frozen=True)
class References:
    city_page: str
    numbers: tuple[Number, ...]
    arrondissements: dict[int, tuple[float, float]]


@dataclass(frozen=True)
class Centres:
    services: tuple[str, ...]
    centres: tuple[DayCentre, ...]


def _read(name: str) -> Any:
    path = DATA_DIR / name
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when built: 10 times faster
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 (a safe loader)


def _hours(raw: object, where: str) -> dict[int, Ranges] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: hours must be a mapping of weekdays or null")
    hours: dict[int, Ranges] = {}
    for day, ranges in raw.items():
        if day not in WEEKDAYS:
            raise ContentError(f"{where}: unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        parsed = []
        for text in ranges:
            match = _RANGE.match(str(text))
            if match is None:
                raise ContentError(f"{where}: hours {text!r} are not HH:MM-HH:MM")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = time(h1, m1), time(h2, m2)
            if end <= start:
                raise ContentError(f"{where}: {text!r} ends before it starts")
            parsed.append((start, end))
        hours[WEEKDAYS.index(day)] = tuple(sorted(parsed))
    return hours


def _month(raw: object, where: str) -> tuple[int, int]:
    match = _MONTH.match(str(raw))
    if match is None:
        raise ContentError(f"{where}: verified must be YYYY-MM, got {raw!r}")
    return int(match.group(1)), int(match.group(2))


def _centre(raw: dict[str, Any], services: tuple[str, ...], where: str) -> DayCentre:
    where = f"{where} {raw.get('key', '?')}"
    offered = frozenset(raw["services"])
    appointment = frozenset(raw.get("appointment") or ())
    unknown = (offered | appointment) - set(services)
    if unknown:
        raise ContentError(f"{where}: services {sorted(unknown)} are not in the vocabulary {services}")
    if raw["public"] not in PUBLICS:
        raise ContentError(f"{where}: public must be one of {PUBLICS}")
    if raw["status"] not in STATUSES:
        raise ContentError(f"{where}: status must be one of {STATUSES}")
    if not raw.get("source"):
        raise ContentError(f"{where}: every place needs its source")
    arrondissement = int(raw["arrondissement"])
    if not 1 <= arrondissement <= 20:
        raise ContentError(f"{where}: arrondissement must be 1 to 20")
    return DayCentre(
        key=str(raw["key"]),
        name=str(raw["name"]),
        short_name=str(raw.get("short_name") or raw["name"]),
        address=str(raw["address"]),
        postcode=str(raw["postcode"]),
        arrondissement=arrondissement,
        phone=str(raw["phone"]),
        services=offered,
        appointment=appointment,
        public=str(raw["public"]),
        age_min=raw.get("age_min"),
        age_max=raw.get("age_max"),
        hours=_hours(raw.get("hours"), where),
        latitude=float(raw["latitude"]),
        longitude=float(raw["longitude"]),
        coordinates=str(raw["coordinates"]),
        source=str(raw["source"]),
        verified=_month(raw["verified"], where),
        status=str(raw["status"]),
    )


@functools.cache
def centres() -> Centres:
    """The day centres, checked against the service vocabulary."""
    raw = _read("day_centres.yaml")
    services = tuple(str(s) for s in raw["services"])
    loaded = tuple(_centre(entry, services, "day_centres.yaml") for entry in raw["centres"])
    keys = [c.key for c in loaded]
    if len(set(keys)) != len(keys):
        raise ContentError("day_centres.yaml: two places share a key")
    return Centres(services, loaded)


@functools.cache
def references() -> References:
    """The city page, the emergency numbers with their sources, the arrondissements' centres."""
    raw = _read("references.yaml")
    numbers = tuple(
        Number(str(n["number"]), str(n["what"]), str(n["source"]), str(n["checked"])) for n in raw["numbers"]
    )
    arrondissements = {int(k): (float(v[0]), float(v[1])) for k, v in raw["arrondissements"].items()}
    if sorted(arrondissements) != list(range(1, 21)):
        raise ContentError("references.yaml: arrondissements must be 1 to 20")
    return References(str(raw["city_page"]["url"]), numbers, arrondissements)


@functools.cache
def intents() -> dict[str, Any]:
    """The input vocabulary (see intents.yaml); matching.py turns it into a matcher."""
    raw: dict[str, Any] = _read("intents.yaml")
    return raw
