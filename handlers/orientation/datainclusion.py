"""A data·inclusion v1 export (the national schema Soliguide and DORA publish to) read as the bot's places.

An export is two files, structures and services, linked by ``structure_id``; each is JSON (a list of
records, or the API's ``{"items": [...]}``) or CSV as data.gouv.fr publishes it, whatever the file is
called. What is not obvious, decided here (the mappings themselves are data:
``data/orientation/datainclusion.yaml``):

- Every record is validated with the package's v1 model; an invalid one is rejected with its record
  number (CSV: its spreadsheet line) and the field of the first error, and nothing else of it is used.
  A service of a rejected or unknown structure is rejected too. In CSV a list cell may be a JSON list,
  a PostgreSQL array ``{a,b}`` or ``a,b`` / ``a;b`` / ``a|b``.
- Services: the mapped ``thematiques``, plus the services named by words in the service's name and
  description (v1 has no shower, laundry, luggage or domiciliation theme). Only services received in
  person (``modes_accueil`` absent or with ``en-presentiel``) count.
- Places: one per structure, with its services. A service with its own address (other than the
  structure's) or for another public is a place of its own (keyed by the service), so a women's service
  is never shown to everyone and a street address is never wrong. A structure with nothing for the bot
  is skipped (counted), as is a place outside Paris and the communes of the data file.
- Public: ``everyone`` when a public says so, else the first of families, women, young among the
  publics; only other publics (exiled people, seniors...): skipped. Young ages are read in the text
  ("18 à 25 ans"), else null.
- Hours: the service's ``horaires_accueil``, else the structure's, in OpenStreetMap format, over the
  week starting on the Monday of ``week_of``, without public holidays; a place's hours are its services'
  put together. Unparseable, absent, partly "unknown" or without one open range: ``hours: null`` and the
  text in ``note``. Hours that all say "on appointment" make the service an ``appointment`` one, and add
  no hours.
- Keys: ``di_`` + the folded source and id (the id without the source prefix it repeats), a hash at the
  end when longer than 60 characters: the same record keeps its key from one import to the next.
- Each place is checked with the orientation's own check (``content.load_centres``) before it is given.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeAlias

import opening_hours
import pydantic
import yaml
from data_inclusion.schema import v1
from opening_hours import OpeningHours, State

from bot import csvfiles
from bot.csvfiles import CsvFileError, Rejected
from bot.people import normalise_phone
from bot.people.roster import display_phone
from bot.text import fold
from handlers.orientation import content

MAPPING_FILE = "datainclusion.yaml"
MAX_KEY = 60
# Fields that the schema types as lists (sets): in CSV they are one cell.
LIST_FIELDS = frozenset(
    {"thematiques", "publics", "modes_accueil", "modes_mobilisation", "mobilisable_par"}
    | {"zone_eligibilite", "reseaux_porteurs"}
)
STRUCTURE_REQUIRED = ("source", "id", "nom", "date_maj")
SERVICE_REQUIRED = ("source", "structure_id", "id", "nom", "description", "date_maj")
_AGES = re.compile(r"\b(\d{1,2}) (?:a |et )?(\d{2}) ans\b")
_FRENCH_PHONE = re.compile(r"^0\d( \d\d){4}$")
# Paris and the places just outside it, as content.py checks them.
_LATITUDES, _LONGITUDES = (48.78, 48.93), (2.2, 2.5)

Ranges: TypeAlias = list[tuple[time, time]]
Week: TypeAlias = dict[int, Ranges]


@dataclass(frozen=True)
class Export:
    """What an export gave: places in places.yaml form, the records refused, the records not for us."""

    places: list[dict[str, Any]]
    rejected: list[Rejected]
    skipped: int


@dataclass(frozen=True)
class Rules:
    """datainclusion.yaml, checked."""

    thematiques: dict[str, str]
    needs_words: dict[str, tuple[str, ...]]
    words: dict[str, tuple[str, ...]]
    appointment_words: tuple[str, ...]
    publics: dict[str, str]
    midday_before: time
    evening_after: time
    kinds: dict[str, str]
    kinds_besides: frozenset[str]
    postcodes: frozenset[str]


def _words(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise content.ContentError(f"{where}: expected a list of words")
    for word in raw:
        if fold(str(word)) != word:
            raise content.ContentError(f"{where}: {word!r} must be written folded ({fold(str(word))!r})")
    return tuple(str(w) for w in raw)


def _clock(raw: object, where: str) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError:
        raise content.ContentError(f"{where}: {raw!r} is not HH:MM") from None


def load_mapping(raw: object, services: Sequence[str], where: str = MAPPING_FILE) -> Rules:
    """The mapping, every value checked against the schema's enums and the bot's vocabularies."""
    if not isinstance(raw, dict):
        raise content.ContentError(f"{where}: expected a mapping")
    thematiques = {str(k): str(v) for k, v in (raw.get("thematiques") or {}).items()}
    known = {t.value for t in v1.Thematique}
    for thematique, service in thematiques.items():
        if thematique not in known:
            raise content.ContentError(f"{where}: {thematique!r} is not a data·inclusion v1 thematique")
        if service not in services:
            raise content.ContentError(f"{where}: {service!r} is not a service of places.yaml")
    words = {str(k): _words(v, f"{where} words {k}") for k, v in (raw.get("words") or {}).items()}
    needs = {str(k): _words(v, f"{where} needs_words {k}") for k, v in (raw.get("needs_words") or {}).items()}
    for service in (*words, *needs):
        if service not in services:
            raise content.ContentError(f"{where}: {service!r} is not a service of places.yaml")
    publics = {str(k): str(v) for k, v in (raw.get("publics") or {}).items()}
    if set(publics) != {p.value for p in v1.Public}:
        raise content.ContentError(f"{where}: publics must name every v1 public, and only them")
    if not set(publics.values()) <= {*content.PUBLICS, "skip"}:
        raise content.ContentError(f"{where}: a public maps to one of {content.PUBLICS} or skip")
    kinds = {str(k): str(v) for k, v in (raw.get("kinds") or {}).items()}
    if not set(kinds) <= set(services) or not set(kinds.values()) <= set(content.KINDS):
        raise content.ContentError(f"{where}: kinds maps services to one of {content.KINDS}")
    besides = frozenset(str(s) for s in raw.get("kinds_besides") or ())
    if not besides <= set(services):
        raise content.ContentError(f"{where}: kinds_besides lists services of places.yaml")
    postcodes = frozenset(str(p) for p in raw.get("postcodes") or ())
    if any(not re.fullmatch(r"\d{5}", p) or p.startswith("75") for p in postcodes):
        raise content.ContentError(f"{where}: postcodes outside Paris are five digits in quotes")
    meals = raw.get("meals") or {}
    return Rules(
        thematiques=thematiques,
        needs_words=needs,
        words=words,
        appointment_words=_words(raw.get("appointment_words"), f"{where} appointment_words"),
        publics=publics,
        midday_before=_clock(meals.get("midday_before"), f"{where} meals"),
        evening_after=_clock(meals.get("evening_after"), f"{where} meals"),
        kinds=kinds,
        kinds_besides=besides,
        postcodes=postcodes,
    )


@functools.cache
def mapping() -> Rules:
    """The data file's mapping, read and checked once."""
    raw = yaml.safe_load((content.DATA_DIR / MAPPING_FILE).read_text(encoding="utf-8"))
    return load_mapping(raw, content.centres().services)


# Reading the files ------------------------------------------------------------------------------


def _list_cell(text: str) -> list[str] | None:
    """A list as a CSV cell: ``["a","b"]``, ``{a,b}``, ``a,b``, ``a;b`` or ``a|b``; empty: None."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    separator = next((s for s in ("|", ";", ",") if s in text), ",")
    return [item.strip().strip("\"'") for item in text.split(separator) if item.strip()]


def _csv_record(cells: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as the record JSON would give: no empty cells, lists split, decimal commas read."""
    record: dict[str, Any] = {}
    for name, cell in cells.items():
        if not cell.strip():
            continue
        if name in LIST_FIELDS:
            record[name] = _list_cell(cell)
        elif name in ("latitude", "longitude"):
            record[name] = cell.strip().replace(",", ".")
        else:
            record[name] = cell.strip()
    return record


def _records(path: Path, model: type[pydantic.BaseModel], required: Sequence[str]) -> list[tuple[int, object]]:
    """(record number or spreadsheet line, record) of one file; CsvFileError when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvFileError("people.roster_unreadable", file=path, error=exc.strerror or exc) from None
    text, _ = csvfiles.decode(data)
    if text.lstrip()[:1] in ("[", "{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CsvFileError("places.di_bad_json", file=path.name, line=exc.lineno) from None
        if isinstance(loaded, dict) and isinstance(loaded.get("items"), list):
            loaded = loaded["items"]
        if not isinstance(loaded, list):
            raise CsvFileError("places.di_not_export", file=path.name)
        return list(enumerate(loaded, start=1))
    table = csvfiles.read_table(data, list(model.model_fields))
    missing = table.missing(required)
    if missing:
        raise CsvFileError("people.roster_missing_columns", columns=", ".join(missing), header=",".join(required))
    columns = [c for c in table.columns if c in model.model_fields]
    return [(line, _csv_record(cells)) for line, cells in table.rows(columns)]


def _validated(
    path: Path, model: type[pydantic.BaseModel], required: Sequence[str], rejected: list[Rejected]
) -> tuple[list[tuple[int, Any]], set[str]]:
    """The valid records of a file, and the ids of the invalid ones, each rejected with its first error's field."""
    valid: list[tuple[int, Any]] = []
    refused: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for line, record in _records(path, model, required):
        if not isinstance(record, dict):
            rejected.append(Rejected(line, "places.di_not_record", {"file": path.name}))
            continue
        try:
            item: Any = model.model_validate(record)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"] if not isinstance(part, int)) or "?"
            rejected.append(Rejected(line, "places.di_invalid", {"file": path.name, "field": where}))
            refused.add(str(record.get("id")))
            continue
        identity = (item.source, item.id)
        if identity in seen:
            rejected.append(Rejected(line, "places.di_duplicate", {"file": path.name, "id": item.id}))
            continue
        seen.add(identity)
        valid.append((line, item))
    return valid, refused


# Rules --------------------------------------------------------------------------------------------


def make_key(source: str, identifier: str, *parts: str) -> str:
    """``di_`` + folded snake_case source and id, at most 60 characters; the same record, the same key."""
    source_words, id_words = fold(source), fold(identifier)
    if id_words.startswith(source_words + " "):
        id_words = id_words[len(source_words) + 1 :]
    key = "_".join(["di", *(w.replace(" ", "_") for w in (source_words, *parts, id_words) if w)])
    if len(key) > MAX_KEY:
        digest = hashlib.blake2s(key.encode(), digest_size=4).hexdigest()
        key = f"{key[: MAX_KEY - 9].rstrip('_')}_{digest}"
    return key


def _has(text: str, words: Iterable[str]) -> bool:
    padded = f" {text} "
    return any(f" {word} " in padded for word in words)


def _services(service: Any, rules: Rules) -> set[str]:
    """The bot's services one data·inclusion service gives: by its themes, then by its words."""
    text = fold(f"{service.nom} {service.description}")
    found = {rules.thematiques[t.value] for t in service.thematiques or () if t.value in rules.thematiques}
    found = {s for s in found if s not in rules.needs_words or _has(text, rules.needs_words[s])}
    return found | {s for s, words in rules.words.items() if _has(text, words)}


def _public(service: Any, rules: Rules) -> tuple[str, int | None, int | None] | None:
    """(public, age_min, age_max) of a service; None when it is only for publics the bot cannot say."""
    publics = {rules.publics[p.value] for p in service.publics or ()}
    if not publics or "everyone" in publics:
        return "everyone", None, None
    public = next((p for p in ("families", "women", "young") if p in publics), None)
    if public is None:
        return None
    if public == "young":
        text = fold(" ".join(t for t in (service.publics_precisions, service.nom, service.description) if t))
        match = _AGES.search(text)
        if match is not None:
            low, high = int(match.group(1)), int(match.group(2))
            if 0 < low <= high < 100:
                return "young", low, high
    return public, None, None


@dataclass
class _Hours:
    """A service's hours: its week (None: unknown), whether it is by appointment only, what to tell staff."""

    week: Week | None
    appointment: bool = False
    note: str | None = None


def _hours(text: str | None, monday: date, rules: Rules) -> _Hours:
    """OpenStreetMap opening hours over the reference week, per weekday."""
    if text is None or not text.strip():
        return _Hours(None)
    text = text.strip()
    said_appointment = _has(fold(text), rules.appointment_words)
    if not opening_hours.validate(text):
        return _Hours(None, said_appointment, f"hours: {text}")
    # No country: public holidays never apply, the week read is the ordinary one.
    parsed = OpeningHours(text, auto_country=False, auto_timezone=False)
    start = datetime.combine(monday, time())
    week: Week = {}
    by_appointment = False
    for begin, end, state, comment in parsed.intervals(start, start + timedelta(days=7)):
        if state == State.UNKNOWN:
            return _Hours(None, said_appointment, f"hours: {text}")
        if state != State.OPEN:
            continue
        if _has(fold(comment), rules.appointment_words):
            by_appointment = True
            continue
        day = begin
        while day < end:
            midnight = datetime.combine(day.date() + timedelta(days=1), time())
            until = min(end, midnight)
            closing = time(23, 59) if until == midnight else until.time()
            if closing > day.time():
                week.setdefault(day.weekday(), []).append((day.time(), closing))
            day = until
    if not week:
        return _Hours(None, by_appointment or said_appointment, f"hours: {text}")
    return _Hours(week)


def _merge(weeks: Iterable[Week]) -> Week:
    """Several services' weeks as the place's: open when one of them is."""
    merged: Week = {}
    for week in weeks:
        for day, ranges in week.items():
            merged.setdefault(day, []).extend(ranges)
    for day, ranges in merged.items():
        joined: Ranges = []
        for begin, end in sorted(ranges):
            if joined and begin <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
            else:
                joined.append((begin, end))
        merged[day] = joined
    return merged


def _meals(week: Week | None, rules: Rules) -> list[str]:
    ranges = [r for day in (week or {}).values() for r in day]
    return [
        *(["midday"] if any(begin < rules.midday_before for begin, _ in ranges) else []),
        *(["evening"] if any(end > rules.evening_after for _, end in ranges) else []),
    ]


def _phone(raw: str | None) -> str | None:
    """A French number as places.yaml writes it (01 23 45 67 89); anything else: None."""
    e164 = normalise_phone(raw) if raw else None
    shown = display_phone(e164) if e164 else None
    return shown if shown is not None and _FRENCH_PHONE.match(shown) else None


def _arrondissement(postcode: str) -> int | None:
    if postcode == "75116":
        return 16
    number = int(postcode[3:]) if postcode.startswith("750") else 0
    return number if 1 <= number <= 20 else None


# Places -------------------------------------------------------------------------------------------


@dataclass
class _Spot:
    """Where a place is: the record that gave its address (for a rejection), its address fields."""

    file: str
    line: int
    record: Any


@dataclass
class _Group:
    """A would-be place: a spot, a public, the services received there; ``origin`` is the record whose
    key it takes (its structure, or its first service when it is a place of its own)."""

    key: str
    name: str
    spot: _Spot
    public: tuple[str, int | None, int | None]
    origin: Any
    offered: set[str] = field(default_factory=set)
    services: list[tuple[Any, set[str], _Hours]] = field(default_factory=list)


def _own_address(service: Any, structure: Any) -> bool:
    """A service whose address is given and is not its structure's is a door of its own."""
    if not service.adresse or not service.code_postal:
        return False
    return (fold(service.adresse), service.code_postal) != (fold(structure.adresse or ""), structure.code_postal)


def _place(group: _Group, structure: Any, rules: Rules, vocabulary: Sequence[str]) -> dict[str, Any] | str:
    """The place of a group, in places.yaml form; or the catalog key saying why it cannot be one."""
    where = group.spot.record
    postcode = where.code_postal
    if not where.adresse or not postcode:
        return "places.di_no_address"
    arrondissement = _arrondissement(postcode)
    if arrondissement is None and postcode not in rules.postcodes:
        return "skip"
    if where.latitude is not None and where.longitude is not None:
        latitude, longitude = float(where.latitude), float(where.longitude)
        coordinates = "from the data·inclusion export (latitude, longitude)"
        if not (_LATITUDES[0] < latitude < _LATITUDES[1] and _LONGITUDES[0] < longitude < _LONGITUDES[1]):
            return "places.di_far_coordinates"
    elif arrondissement is not None:
        latitude, longitude = content.references().arrondissements[arrondissement]
        coordinates = f"centre of the {arrondissement}e arrondissement: the export gives no coordinates"
    else:
        return "places.di_no_coordinates"
    appointment = {s for service, offered, hours in group.services if hours.appointment for s in offered}
    timed = [hours for _, _, hours in group.services if not hours.appointment]
    week = None if not timed or any(h.week is None for h in timed) else _merge(h.week for h in timed if h.week)
    meal_weeks = [h.week for _, offered, h in group.services if "meal" in offered and h.week]
    notes = sorted({h.note for _, _, h in group.services if h.note})
    records = [structure, *(service for service, _, _ in group.services)]
    updated = max(record.date_maj for record in records).strftime("%Y-%m")
    own = group.origin
    link = own.lien_source or structure.lien_source
    website = link or structure.site_web
    source = f"data·inclusion export, source {own.source}, id {own.id}" + (f", {link}" if link else "")
    offered = [s for s in vocabulary if s in group.offered]
    main = [s for s in offered if s not in rules.kinds_besides] or offered
    public, age_min, age_max = group.public
    return {
        "key": group.key,
        "kind": rules.kinds.get(main[0], "day_centre") if len(main) == 1 else "day_centre",
        "name": group.name,
        "short_name": group.name,
        "address": where.adresse,
        "postcode": postcode,
        "arrondissement": arrondissement,
        "phone": _phone(own.telephone) or _phone(structure.telephone),
        "website": str(website) if website else None,
        "services": offered,
        "appointment": [s for s in offered if s in appointment],
        "meals": _meals(_merge(meal_weeks), rules) if "meal" in group.offered else [],
        "public": public,
        "age_min": age_min,
        "age_max": age_max,
        "hours": None if week is None else _yaml_week(week),
        "latitude": latitude,
        "longitude": longitude,
        "coordinates": coordinates,
        "source": source,
        "source_date": updated,
        "verified": updated,
        "status": "to_check",
        "note": " ; ".join(notes) or None,
    }


def _yaml_week(week: Week) -> dict[str, list[str]]:
    return {content.WEEKDAYS[day]: [f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges] for day, ranges in sorted(week.items())}


def _groups(
    structure: Any, line: int, files: tuple[str, str], services: list[tuple[int, Any]], monday: date, rules: Rules
) -> list[_Group]:
    """A structure's services for the bot, grouped by the door they are received at and their public."""
    groups: dict[tuple[str, tuple[str, int | None, int | None]], _Group] = {}
    for service_line, service in services:
        if service.modes_accueil is not None and v1.ModeAccueil.EN_PRESENTIEL not in service.modes_accueil:
            continue
        offered, public = _services(service, rules), _public(service, rules)
        if not offered or public is None:
            continue
        own = _own_address(service, structure)
        spot = _Spot(files[1], service_line, service) if own else _Spot(files[0], line, structure)
        key = make_key(service.source, service.id, "service") if own else "structure"
        group = groups.get((key, public))
        if group is None:
            name = f"{structure.nom} : {service.nom}" if own else structure.nom
            group = groups[(key, public)] = _Group(key, name[:150], spot, public, service if own else structure)
        group.offered |= offered
        hours = _hours(service.horaires_accueil or structure.horaires_accueil, monday, rules)
        group.services.append((service, offered, hours))
    # At the structure's address, the group for everyone (else the first) is the structure's place.
    at_structure = [g for (k, _), g in groups.items() if k == "structure"]
    main = next((g for g in at_structure if g.public[0] == "everyone"), at_structure[0] if at_structure else None)
    for group in groups.values():
        if group is main:
            group.key = make_key(structure.source, structure.id)
        elif group.key == "structure":
            group.origin = first = group.services[0][0]
            group.key = make_key(first.source, first.id, "service")
            group.name = f"{structure.nom} : {first.nom}"[:150]
    return list(groups.values())


def read_export(structures: Path, services: Path, *, week_of: date | None = None) -> Export:
    """The places of an export; raises CsvFileError for a file that cannot be read at all.

    ``week_of``: a day of the week the hours are read over (default today), so seasonal hours are
    those of that week.
    """
    rules, vocabulary = mapping(), content.centres().services
    day = week_of or date.today()
    monday = day - timedelta(days=day.weekday())
    rejected: list[Rejected] = []
    valid_structures, rejected_ids = _validated(structures, v1.Structure, STRUCTURE_REQUIRED, rejected)
    known = {item.id for _, item in valid_structures}
    by_structure: dict[str, list[tuple[int, Any]]] = {}
    for line, service in _validated(services, v1.Service, SERVICE_REQUIRED, rejected)[0]:
        if service.structure_id in known:
            by_structure.setdefault(service.structure_id, []).append((line, service))
        else:
            why = "places.di_structure_rejected" if service.structure_id in rejected_ids else "places.di_no_structure"
            rejected.append(Rejected(line, why, {"file": services.name, "id": service.structure_id}))
    places: list[dict[str, Any]] = []
    skipped = 0
    keys: set[str] = set()
    files = (structures.name, services.name)
    for line, structure in valid_structures:
        groups = _groups(structure, line, files, by_structure.get(structure.id, []), monday, rules)
        if not groups:
            skipped += 1
            continue
        for group in groups:
            place = _place(group, structure, rules, vocabulary)
            if place == "skip":
                skipped += 1
            elif isinstance(place, str):
                rejected.append(Rejected(group.spot.line, place, {"file": group.spot.file}))
            elif place["key"] in keys:
                rejected.append(Rejected(group.spot.line, "places.di_duplicate_key", {"file": group.spot.file}))
            else:
                try:  # the orientation's own check, so that no place is stored that it would refuse
                    content.check_place(place, group.spot.file)
                except content.ContentError as exc:
                    params = {"file": group.spot.file, "error": str(exc)}
                    rejected.append(Rejected(group.spot.line, "places.di_not_a_place", params))
                    continue
                keys.add(place["key"])
                places.append(place)
    rejected.sort(key=lambda r: (r.params.get("file") != structures.name, r.line))
    return Export(places, rejected, skipped)
