"""The places as a CSV file, for staff who keep them in a spreadsheet (``voisins places export/import``).

One row a place, in places.yaml's fields; the opening hours in one column per weekday ("09:00-12:30,
14:00-17:00", blank when closed; every day blank: hours unknown, the answers say to call). What a
French Excel does to cells is read back: decimal commas, dates as 01/12/2026, a phone number that lost
its 0. A row staff add without a key gets one from its name; without coordinates, the centre of its
arrondissement. Every row is checked as places.yaml's entries are, so a mistake is a line of the
report and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers

from bot.csvfiles import CsvFileError, Rejected, Table, read_table, to_csv, unquote_cell
from bot.text import fold
from handlers.orientation import content
from handlers.orientation.content import WEEKDAYS, ContentError

LISTS = ("services", "appointment", "meals")
COLUMNS = (
    *("key", "name", "short_name", "kind", "address", "postcode", "arrondissement", "phone", "website"),
    *LISTS,
    *("public", "age_min", "age_max", *WEEKDAYS, "latitude", "longitude", "coordinates"),
    *("source", "source_date", "verified", "status", "note"),
)
REQUIRED = ("key", "name", "address", "postcode", "services", "source", "verified")
LIST_SEPARATOR = ", "
MAX_KEY = 60
# Written for a place staff added without coordinates: the answers order places by distance.
CENTRE_OF_ARRONDISSEMENT = "the centre of its arrondissement (no coordinates were given)"
GIVEN_BY_STAFF = "given by staff in the places file"

_SPLIT = re.compile(r"\s*[,;/|]\s*|\s+et\s+|\s+and\s+")
_RANGE = re.compile(r"^(\d{1,2})(?:[:h.](\d{2})?)?-(\d{1,2})(?:[:h.](\d{2})?)?$")
_RANGES = re.compile(r"\s*[,;/]\s*|\s+et\s+|\s+and\s+|\s+")
_DASH = re.compile(r"\s*(?:-|–|\ba\b|\bto\b)\s*")
_CLOSED = frozenset({"", "-", "ferme", "closed", "x"})
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FRENCH_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_FRENCH_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")


class RowError(ValueError):
    """One row is refused: ``key`` is a catalog id (orientation_staff.po), ``params`` its values."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Row:
    """A checked row: the place's fields, and the exact day it was checked when the file gives one."""

    entry: dict[str, Any]
    verified_on: date | None


def parse(data: bytes) -> Table:
    """Decode the file and check its header names the columns every place needs."""
    table = read_table(data, COLUMNS)
    missing = table.missing(REQUIRED)
    if missing:
        raise CsvFileError("places.file_missing_columns", columns=", ".join(missing), header=";".join(COLUMNS))
    return table


def ignored_columns(table: Table) -> tuple[str, ...]:
    return tuple(n for n, column in zip(table.header, table.columns, strict=True) if column not in COLUMNS and n)


def rows(table: Table) -> list[tuple[int, dict[str, str]]]:
    """Each row's cells by line, the columns the file lacks read as blank."""
    present = [column for column in COLUMNS if column in table.columns]
    return [
        (line, {column: unquote_cell(cells.get(column, "")) for column in COLUMNS})
        for line, cells in table.rows(present, strip=True)
    ]


def checked_rows(table: Table) -> list[tuple[int, dict[str, Any] | Rejected, date | None]]:
    """Every row checked, for :func:`directory.import_places`: a place, or why its line is refused."""
    found: list[tuple[int, dict[str, Any] | Rejected, date | None]] = []
    for line, cells in rows(table):
        try:
            checked = check_row(cells)
        except RowError as error:
            found.append((line, Rejected(line, error.key, error.params), None))
            continue
        found.append((line, checked.entry, checked.verified_on))
    return found


def cells_of(entry: Mapping[str, Any], verified_on: date) -> dict[str, str]:
    """A stored place as the cells of its CSV row: what the console's edit form shows."""
    return {column: str(value) for column, value in _cells(entry, verified_on).items()}


def _optional(value: str) -> str | None:
    return value or None


def _integer(value: str, column: str) -> int | None:
    if not value:
        return None
    try:
        return int(float(value.replace(",", ".")))
    except ValueError:
        raise RowError("places.row_not_a_number", column=column, value=value) from None


def _float(value: str, column: str) -> float | None:
    if not value:
        return None
    try:
        return float(value.replace(",", ".").replace(" ", ""))
    except ValueError:
        raise RowError("places.row_not_a_number", column=column, value=value) from None


def _list(value: str) -> list[str]:
    return [fold(word).replace(" ", "_") for word in _SPLIT.split(value) if word.strip()]


def _day(value: str, weekday: str) -> list[str]:
    """A weekday's cell as "HH:MM-HH:MM" ranges: "9h-12h30 / 14h-17h" reads too; blank or "fermé" is closed."""
    if fold(value) in _CLOSED:
        return []
    joined = _DASH.sub("-", value.strip().lower().replace("à", "a"))
    ranges = []
    for part in _RANGES.split(joined):
        if not part:
            continue
        match = _RANGE.match(part)
        if match is None:
            raise RowError("places.row_bad_hours", day=weekday, value=value)
        h1, m1, h2, m2 = match.groups()
        ranges.append(f"{int(h1):02d}:{int(m1 or 0):02d}-{int(h2):02d}:{int(m2 or 0):02d}")
    return ranges


def _verified(value: str) -> tuple[str, date | None]:
    """The month and, if given, the day: "2026-12-01", "01/12/2026" (as Excel shows it), "2026-12", "12/2026"."""
    days: tuple[tuple[re.Pattern[str], tuple[int, ...]], ...] = ((_ISO_DAY, (0, 1, 2)), (_FRENCH_DAY, (2, 1, 0)))
    months: tuple[tuple[re.Pattern[str], tuple[int, ...]], ...] = ((_ISO_MONTH, (0, 1)), (_FRENCH_MONTH, (1, 0)))
    for pattern, order in days:
        match = pattern.match(value)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                checked = date(year, month, day)
            except ValueError:
                break
            return f"{year:04d}-{month:02d}", checked
    for pattern, order in months:
        match = pattern.match(value)
        if match:
            y, m = (int(match.group(i + 1)) for i in order)
            return f"{y:04d}-{m:02d}", None
    raise RowError("places.row_bad_date", value=value)


def _phone(value: str) -> str | None:
    """A French number as the answers write it ("01 40 18 04 41"), even when Excel dropped its 0."""
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        raise RowError("places.row_bad_phone", value=value) from None
    if number.country_code != 33 or not phonenumbers.is_valid_number(number):
        raise RowError("places.row_bad_phone", value=value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def new_key(name: str, postcode: str) -> str:
    """A key for a place added without one: its folded name and postcode ("accueil_x_75013")."""
    words = re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")
    return f"{words[: MAX_KEY - 6]}_{postcode}".strip("_")


def check_row(cells: Mapping[str, str]) -> Row:
    """One row as a place, checked as places.yaml's are; RowError says the first thing wrong."""
    for column in ("name", "address", "postcode", "services", "source", "verified"):
        if not cells[column]:
            raise RowError("places.row_missing", column=column)
    postcode = cells["postcode"].replace(" ", "")
    postcode = postcode.zfill(5) if postcode.isdigit() else postcode
    arrondissement = _integer(cells["arrondissement"], "arrondissement")
    if arrondissement is None and postcode.startswith("750") and postcode[3:].isdigit():
        arrondissement = int(postcode[3:]) or None
    if arrondissement is None and postcode == "75116":
        arrondissement = 16
    latitude, longitude = _float(cells["latitude"], "latitude"), _float(cells["longitude"], "longitude")
    coordinates = cells["coordinates"] or GIVEN_BY_STAFF
    if latitude is None or longitude is None:
        centre = content.references().arrondissements.get(arrondissement or 0)
        if centre is None:
            raise RowError("places.row_missing", column="latitude, longitude")
        latitude, longitude = centre
        coordinates = CENTRE_OF_ARRONDISSEMENT
    hours = {day: _day(cells[day], day) for day in WEEKDAYS}
    month, checked = _verified(cells["verified"])
    entry: dict[str, Any] = {
        "key": cells["key"] or new_key(cells["name"], postcode),
        "kind": cells["kind"] or "other",
        "name": cells["name"],
        "short_name": cells["short_name"] or cells["name"],
        "address": cells["address"],
        "postcode": postcode,
        "arrondissement": arrondissement,
        "phone": _phone(cells["phone"]),
        "website": _optional(cells["website"]),
        **{column: _list(cells[column]) for column in LISTS},
        "public": fold(cells["public"]) or "everyone",
        "age_min": _integer(cells["age_min"], "age_min"),
        "age_max": _integer(cells["age_max"], "age_max"),
        "hours": {day: ranges for day, ranges in hours.items() if ranges} or None,
        "latitude": round(latitude, 6),
        "longitude": round(longitude, 6),
        "coordinates": coordinates,
        "source": cells["source"],
        "source_date": _optional(cells["source_date"]),
        "verified": month,
        "status": fold(cells["status"]).replace(" ", "_") or "to_check",
        "note": _optional(cells["note"]),
    }
    try:
        content.check_place(entry, entry["key"])
    except ContentError as error:
        raise RowError("places.row_invalid", error=str(error).partition(": ")[2] or str(error)) from None
    return Row(entry, checked)


def _cells(entry: Mapping[str, Any], verified_on: date) -> dict[str, object]:
    hours = entry.get("hours") or {}
    cells: dict[str, object] = {column: entry.get(column) for column in COLUMNS}
    for column in LISTS:
        cells[column] = LIST_SEPARATOR.join(entry.get(column) or ())
    for day in WEEKDAYS:
        cells[day] = LIST_SEPARATOR.join(hours.get(day, ()))
    cells["verified"] = verified_on.isoformat()
    return {column: "" if value is None else value for column, value in cells.items()}


def to_file(places: Iterable[tuple[Mapping[str, Any], date]], delimiter: str) -> bytes:
    """The places as a CSV file that imports back unchanged (the checked day included)."""
    return to_csv(COLUMNS, [_cells(entry, verified_on) for entry, verified_on in places], delimiter=delimiter)
