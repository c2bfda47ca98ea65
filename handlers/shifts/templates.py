"""Weekly patterns (the canteen service Monday to Thursday at the Lingerie) that make a week's shifts.

Generating a week is idempotent: a shift that exists (same date, times, activity and place) is left
as staff may have changed it. French public holidays are skipped unless the template works on
holidays or staff say so for that run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiosqlite
import holidays
from unidecode import unidecode

from bot.clock import iso
from bot.i18n import I18n, shipped
from handlers.shifts import model
from handlers.shifts.model import ShiftError

# The keyword keys of the day names staff type (data/locales/<lang>/keywords/shifts_staff.yaml), Monday first.
DAY_KEYS = (
    "shifts.monday", "shifts.tuesday", "shifts.wednesday", "shifts.thursday",
    "shifts.friday", "shifts.saturday", "shifts.sunday",
)  # fmt: skip


def day_words(i18n: I18n | None = None) -> dict[str, int]:
    """The day names staff type, folded, and their ISO numbers ("lun": 1, "sunday": 7); without the
    bot's I18n, the shipped keyword files'."""
    words = i18n or shipped()
    return {word: number for number, key in enumerate(DAY_KEYS, start=1) for word in words.words(key)}


@dataclass(frozen=True)
class Template:
    id: int
    activity_id: int
    activity: str
    place_id: int
    place: str
    weekdays: tuple[int, ...]
    start_local: time
    end_local: time
    capacity: int
    coordinator_id: int | None
    on_holidays: bool


@dataclass
class Generated:
    """What a run made: new shifts, shifts that were there already, days skipped as holidays."""

    created: list[model.Shift]
    existing: list[model.Shift]
    skipped: list[tuple[date, str, Template]]


def _day(word: str, days: dict[str, int]) -> int:
    if word.isdecimal() and len(word) == 1:
        return int(word)
    number = days.get(word)
    if number is None:
        raise ShiftError("shifts.staff.bad_weekdays", value=word[:20])
    return number


def parse_weekdays(text: str, i18n: I18n | None = None) -> tuple[int, ...]:
    """ "lun-jeu", "lun,mar,jeu", "1-4", "mon-thu", "1,2,3,4" -> (1, 2, 3, 4)."""
    names = day_words(i18n)
    days: set[int] = set()
    parts = [p for p in re.split(r"[,;/\s]+", unidecode(text).lower()) if p]
    if not parts:
        raise ShiftError("shifts.staff.bad_weekdays", value=text[:20])
    for part in parts:
        first, dash, last = part.partition("-")
        start = _day(first.strip("."), names)
        end = _day(last.strip("."), names) if dash else start
        if end < start:
            raise ShiftError("shifts.staff.bad_weekdays", value=text[:20])
        days.update(range(start, end + 1))
    if not all(1 <= d <= 7 for d in days):
        raise ShiftError("shifts.staff.bad_weekdays", value=text[:20])
    return tuple(sorted(days))


def weekday_names(days: tuple[int, ...], language: str) -> str:
    """(1, 2, 3, 4) -> "lun.-jeu." or "Mon-Thu" for a run; a list otherwise."""
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=language)
    if len(days) > 2 and days == tuple(range(days[0], days[-1] + 1)):
        return f"{names[days[0] - 1]}-{names[days[-1] - 1]}"
    return ", ".join(names[d - 1] for d in days)


_TEMPLATE_SELECT = """
SELECT t.id, t.activity_id, a.name, t.place_id, p.name, t.weekdays, t.start_local, t.end_local, t.capacity,
       t.coordinator_person_id, t.on_holidays
FROM shift_templates t JOIN shift_activities a ON a.id = t.activity_id JOIN shift_places p ON p.id = t.place_id
WHERE t.active = 1
"""


def _template(row: aiosqlite.Row) -> Template:
    return Template(
        id=int(row[0]),
        activity_id=int(row[1]),
        activity=str(row[2]),
        place_id=int(row[3]),
        place=str(row[4]),
        weekdays=tuple(int(d) for d in str(row[5]).split(",")),
        start_local=time.fromisoformat(row[6]),
        end_local=time.fromisoformat(row[7]),
        capacity=int(row[8]),
        coordinator_id=row[9],
        on_holidays=bool(row[10]),
    )


async def list_templates(db: aiosqlite.Connection) -> list[Template]:
    async with db.execute(_TEMPLATE_SELECT + " ORDER BY t.start_local, a.name, t.id") as cursor:
        return [_template(row) for row in await cursor.fetchall()]


async def get_template(db: aiosqlite.Connection, template_id: int) -> Template | None:
    async with db.execute(_TEMPLATE_SELECT + " AND t.id = ?", (template_id,)) as cursor:
        row = await cursor.fetchone()
    return _template(row) if row else None


async def add_template(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    activity_id: int,
    place_id: int,
    weekdays: tuple[int, ...],
    start: time,
    end: time,
    capacity: int,
    coordinator_id: int | None = None,
    on_holidays: bool = False,
) -> Template:
    """A new weekly pattern; the same pattern twice is the same template."""
    if end <= start:
        raise ShiftError("shifts.error.end_before_start", start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
    if not 1 <= capacity <= 100:
        raise ShiftError("shifts.error.capacity", capacity=capacity)
    days = ",".join(str(d) for d in sorted(set(weekdays)))
    values = (activity_id, place_id, days, start.strftime("%H:%M"), end.strftime("%H:%M"))
    async with db.execute(
        "SELECT id FROM shift_templates WHERE active = 1 AND activity_id = ? AND place_id = ? AND weekdays = ?"
        " AND start_local = ? AND end_local = ?",
        values,
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        await db.execute(
            "UPDATE shift_templates SET capacity = ?, coordinator_person_id = ?, on_holidays = ? WHERE id = ?",
            (capacity, coordinator_id, int(on_holidays), int(row[0])),
        )
        template_id = int(row[0])
    else:
        cursor = await db.execute(
            "INSERT INTO shift_templates (activity_id, place_id, weekdays, start_local, end_local, capacity,"
            " coordinator_person_id, on_holidays, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, capacity, coordinator_id, int(on_holidays), iso(now)),
        )
        template_id = int(cursor.lastrowid or 0)
    template = await get_template(db, template_id)
    assert template is not None
    return template


async def remove_template(db: aiosqlite.Connection, template_id: int) -> None:
    """Stop a pattern; the shifts it already made stay."""
    cursor = await db.execute("UPDATE shift_templates SET active = 0 WHERE id = ? AND active = 1", (template_id,))
    if cursor.rowcount != 1:
        raise ShiftError("shifts.staff.no_template", id=template_id)


def public_holidays(first: date, after_last: date, language: str | None = None) -> dict[date, str]:
    """French public holidays in [first, after_last), named in ``language`` when the package can
    (by default in the country's own language)."""
    years = list(range(first.year, after_last.year + 1))
    try:
        own = holidays.country_holidays("FR").default_language
        found = holidays.country_holidays("FR", years=years, language=language or own)
    except (NotImplementedError, ValueError):
        found = holidays.country_holidays("FR", years=years)
    return {day: str(name) for day, name in sorted(found.items()) if first <= day < after_last}


async def generate_week(
    db: aiosqlite.Connection,
    now: datetime,
    tz: ZoneInfo,
    monday: date,
    *,
    include_holidays: bool = False,
    language: str | None = None,
    template_ids: set[int] | None = None,
) -> Generated:
    """Make the shifts of the week starting ``monday`` from every active template (or the ones named)."""
    monday, next_monday = model.week_of(monday)
    off = public_holidays(monday, next_monday, language)
    result = Generated([], [], [])
    for template in await list_templates(db):
        if template_ids is not None and template.id not in template_ids:
            continue
        for weekday in template.weekdays:
            day = monday + timedelta(days=weekday - 1)
            if day in off and not (template.on_holidays or include_holidays):
                result.skipped.append((day, off[day], template))
                continue
            shift, created = await model.create_shift(
                db,
                now,
                tz,
                activity_id=template.activity_id,
                place_id=template.place_id,
                day=day,
                start=template.start_local,
                end=template.end_local,
                capacity=template.capacity,
                coordinator_id=template.coordinator_id,
                template_id=template.id,
            )
            (result.created if created else result.existing).append(shift)
    result.created.sort(key=lambda s: s.starts_at)
    result.existing.sort(key=lambda s: s.starts_at)
    return result
