"""The orientation data under ``data/orientation/``, read and checked once, on first use.

Staff edit these YAML files, not the code: a wrong entry fails loudly at start-up with the file and
the entry named, rather than sending someone to a half-described place. An unknown phone or hour is
written ``null`` and stays None here, so the answers say "call" or "hours to check" instead.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from bot.text import fold

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "orientation"
PLACES_FILE = "places.yaml"
LANDMARKS_FILE = "landmarks.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PUBLICS = ("everyone", "women", "young", "families")
KINDS = ("bains_douches", "esi", "day_centre", "meal", "health", "clothes", "luggage", "domiciliation", "other")
MEALS = ("breakfast", "midday", "evening")
STATUSES = ("to_check", "checked")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SOURCE_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")
_POSTCODE = re.compile(r"^\d{5}$")
_PHONE = re.compile(r"^0\d( \d\d){4}$")
# Paris and the places just outside it: a point elsewhere is a typo in the coordinates.
_LATITUDES, _LONGITUDES = (48.78, 48.93), (2.2, 2.5)

Ranges = tuple[tuple[time, time], ...]


class ContentError(ValueError):
    """A data file is wrong: the message names the file and the entry."""


@dataclass(frozen=True)
class DayCentre:
    """One place of places.yaml, as recorded with its source.

    ``hours`` and ``phone`` are None when unknown; ``arrondissement`` is None just outside Paris.
    """

    key: str
    kind: str
    name: str
    short_name: str
    address: str
    postcode: str
    arrondissement: int | None
    phone: str | None
    website: str | None
    services: frozenset[str]
    appointment: frozenset[str]
    meals: frozenset[str]
    public: str
    age_min: int | None
    age_max: int | None
    hours: dict[int, Ranges] | None
    latitude: float
    longitude: float
    coordinates: str
    source: str
    source_date: str | None
    verified: tuple[int, int]
    status: str
    note: str | None

    @property
    def women_only(self) -> bool:
        return self.public == "women"

    @property
    def young_only(self) -> bool:
        return self.public == "young"

    @property
    def families_only(self) -> bool:
        return self.public == "families"

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


@dataclass(frozen=True)
class Landmark:
    """A station, square or monument people name to say where they are; ``aliases`` are folded."""

    name: str
    aliases: tuple[str, ...]
    arrondissement: int
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Landmarks:
    """Which arrondissements border each other, and the named places of Paris."""

    adjacent: dict[int, tuple[int, ...]]
    landmarks: tuple[Landmark, ...]


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
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ContentError(f"{where}: verified must be YYYY-MM, got {raw!r}")
    return int(match.group(1)), int(match.group(2))


def _text(raw: dict[str, Any], name: str, where: str) -> str | None:
    """An optional text field: None (written ``null``) stays None, never the text "None"."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{where}: {name} must be a text or null, got {value!r}")
    return value.strip()


def _age(raw: dict[str, Any], name: str, where: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 100:
        raise ContentError(f"{where}: {name} must be an age or null, got {value!r}")
    return value


def _coordinate(raw: dict[str, Any], name: str, bounds: tuple[float, float], where: str) -> float:
    value = raw.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not bounds[0] < value < bounds[1]:
        raise ContentError(f"{where}: {name} {value!r} is not in Paris or next to it")
    return float(value)


def _arrondissement(raw: dict[str, Any], postcode: str, where: str) -> int | None:
    """1 to 20, matching the postcode (75116 is the 16e); null only for a postcode outside Paris."""
    value = raw.get("arrondissement")
    if value is None:
        if postcode.startswith("75"):
            raise ContentError(f"{where}: a Paris postcode needs its arrondissement")
        return None
    if not isinstance(value, int) or not 1 <= value <= 20:
        raise ContentError(f"{where}: arrondissement must be 1 to 20 (or null outside Paris)")
    if postcode not in (f"750{value:02d}", *(("75116",) if value == 16 else ())):
        raise ContentError(f"{where}: postcode {postcode} is not in the {value}e arrondissement")
    return value


def _services(raw: dict[str, Any], name: str, vocabulary: tuple[str, ...], where: str) -> frozenset[str]:
    listed = raw.get(name)
    if listed is None:
        return frozenset()
    if not isinstance(listed, list):
        raise ContentError(f"{where}: {name} must be a list")
    found = frozenset(str(s) for s in listed)
    unknown = found - set(vocabulary)
    if unknown:
        raise ContentError(f"{where}: {name} {sorted(unknown)} are not in {vocabulary}")
    return found


FIELDS = frozenset(
    {
        *("key", "kind", "name", "short_name", "address", "postcode", "arrondissement", "phone", "website"),
        *("services", "appointment", "meals", "public", "age_min", "age_max", "hours", "latitude", "longitude"),
        *("coordinates", "source", "source_date", "verified", "status", "note"),
    }
)


def _centre(raw: dict[str, Any], services: tuple[str, ...], where: str) -> DayCentre:
    where = f"{where} {raw.get('key', '?')}"
    unknown_fields = set(raw) - FIELDS
    if unknown_fields:
        raise ContentError(f"{where}: unknown fields {sorted(unknown_fields)}")
    key, name, address, postcode = (_text(raw, f, where) for f in ("key", "name", "address", "postcode"))
    if key is None or name is None or address is None or postcode is None:
        raise ContentError(f"{where}: key, name, address and postcode are needed")
    if not _POSTCODE.match(postcode):
        raise ContentError(f"{where}: postcode must be five digits in quotes, got {postcode!r}")
    offered = _services(raw, "services", services, where)
    appointment = _services(raw, "appointment", services, where)
    meals = _services(raw, "meals", MEALS, where)
    if not offered:
        raise ContentError(f"{where}: a place offers at least one service")
    if not appointment <= offered:
        raise ContentError(f"{where}: appointment lists services the place does not offer")
    if meals and "meal" not in offered:
        raise ContentError(f"{where}: meals are given for a place without the meal service")
    kind, public, status = raw.get("kind"), raw.get("public"), raw.get("status")
    if kind not in KINDS:
        raise ContentError(f"{where}: kind must be one of {KINDS}")
    if public not in PUBLICS:
        raise ContentError(f"{where}: public must be one of {PUBLICS}")
    if status not in STATUSES:
        raise ContentError(f"{where}: status must be one of {STATUSES}")
    age_min, age_max = _age(raw, "age_min", where), _age(raw, "age_max", where)
    if (age_min is not None or age_max is not None) and public != "young":
        raise ContentError(f"{where}: an age range is for young people's places (public: young)")
    if (age_min is None) != (age_max is None) or (age_min is not None and age_max is not None and age_max < age_min):
        raise ContentError(f"{where}: age_min and age_max go together, the smaller first")
    phone = _text(raw, "phone", where)
    if phone is not None and not _PHONE.match(phone):
        raise ContentError(f"{where}: phone {phone!r} is not like 01 23 45 67 89")
    source = _text(raw, "source", where)
    if source is None:
        raise ContentError(f"{where}: every place needs its source")
    source_date = None if raw.get("source_date") is None else str(raw["source_date"])
    if source_date is not None and not _SOURCE_DATE.match(source_date):
        raise ContentError(f"{where}: source_date must be YYYY or YYYY-MM (in quotes) or null")
    coordinates = _text(raw, "coordinates", where)
    if coordinates is None:
        raise ContentError(f"{where}: say how the coordinates were found")
    return DayCentre(
        key=key,
        kind=str(kind),
        name=name,
        short_name=_text(raw, "short_name", where) or name,
        address=address,
        postcode=postcode,
        arrondissement=_arrondissement(raw, postcode, where),
        phone=phone,
        website=_text(raw, "website", where),
        services=offered,
        appointment=appointment,
        meals=meals,
        public=str(public),
        age_min=age_min,
        age_max=age_max,
        hours=_hours(raw.get("hours"), where),
        latitude=_coordinate(raw, "latitude", _LATITUDES, where),
        longitude=_coordinate(raw, "longitude", _LONGITUDES, where),
        coordinates=coordinates,
        source=source,
        source_date=source_date,
        verified=_month(raw.get("verified"), where),
        status=str(status),
        note=_text(raw, "note", where),
    )


def load_centres(raw: object, where: str = PLACES_FILE) -> Centres:
    """The places of a loaded places.yaml, each checked; any wrong entry raises, named."""
    if not isinstance(raw, dict) or not isinstance(raw.get("places"), list) or not raw.get("services"):
        raise ContentError(f"{where}: expected `services:` and a list of `places:`")
    services = tuple(str(s) for s in raw["services"])
    loaded = []
    for number, entry in enumerate(raw["places"], start=1):
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: place {number} is not a mapping of fields")
        try:
            loaded.append(_centre(entry, services, where))
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ContentError):
                raise
            raise ContentError(f"{where} {entry.get('key', number)}: {error!r}") from error
    seen: set[str] = set()
    for centre in loaded:
        if centre.key in seen:
            raise ContentError(f"{where}: two places share the key {centre.key}")
        seen.add(centre.key)
    return Centres(services, tuple(loaded))


@functools.cache
def centres() -> Centres:
    """The places of the seed file, checked against the service vocabulary (the answers read the
    database's, see directory.py: staff keep them up to date there)."""
    return load_centres(_read(PLACES_FILE))


def seed_entries() -> list[dict[str, Any]]:
    """The places of places.yaml as written (checked by :func:`centres`), to seed the database."""
    centres()
    return [dict(entry) for entry in _read(PLACES_FILE)["places"]]


def check_place(entry: dict[str, Any], where: str) -> DayCentre:
    """One place in places.yaml's fields, checked as the file's are; ContentError names what is wrong."""
    return load_centres({"services": list(centres().services), "places": [entry]}, where).centres[0]


def load_landmarks(raw: object, where: str = LANDMARKS_FILE) -> Landmarks:
    """Adjacency (1 to 20, symmetric) and landmarks (folded aliases, unique, inside Paris)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("adjacent"), dict) or not raw.get("landmarks"):
        raise ContentError(f"{where}: expected `adjacent:` and `landmarks:`")
    adjacent = {int(k): tuple(int(n) for n in v) for k, v in raw["adjacent"].items()}
    if sorted(adjacent) != list(range(1, 21)):
        raise ContentError(f"{where}: adjacent must list the arrondissements 1 to 20")
    for number, around in adjacent.items():
        for other in around:
            if other == number or number not in adjacent.get(other, ()):
                raise ContentError(f"{where}: {number} and {other} must list each other (and not themselves)")
    landmarks = []
    owner: dict[str, str] = {}
    for entry in raw["landmarks"]:
        name = str(entry.get("name") or "?")
        point = f"{where} {name}"
        aliases = tuple(str(a) for a in entry.get("aliases") or ())
        if not aliases:
            raise ContentError(f"{point}: a landmark needs aliases")
        for alias in aliases:
            if fold(alias) != alias:
                raise ContentError(f"{point}: alias {alias!r} must be written folded ({fold(alias)!r})")
            if alias in owner:
                raise ContentError(f"{point}: alias {alias!r} is already {owner[alias]}'s")
            owner[alias] = name
        arrondissement = entry.get("arrondissement")
        if not isinstance(arrondissement, int) or not 1 <= arrondissement <= 20:
            raise ContentError(f"{point}: arrondissement must be 1 to 20")
        landmarks.append(
            Landmark(
                name,
                aliases,
                arrondissement,
                _coordinate(entry, "latitude", _LATITUDES, point),
                _coordinate(entry, "longitude", _LONGITUDES, point),
            )
        )
    return Landmarks(adjacent, tuple(landmarks))


@functools.cache
def landmarks() -> Landmarks:
    """The arrondissements' neighbours and the named places of Paris, for "near" questions."""
    return load_landmarks(_read(LANDMARKS_FILE))


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
