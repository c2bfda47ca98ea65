"""Shifts, assignments and contract hours: the rules both the chat and the command line go through.

Every function takes the caller's transaction (``db``), so a change, the checks that allow it and the
messages it causes (queued in the outbox) are written together or not at all. Rule breaks raise
``ShiftError`` with a catalog key, so each caller says why in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiosqlite
from babel.dates import format_date

from bot import outbox, people
from bot.clock import iso
from bot.dates import written_day
from bot.i18n import I18n
from bot.people import Role
from bot.text import FarDate, fold, format_minutes

# The Premières Heures scheme: never more than 16 hours in a calendar week, whatever the contract.
MAX_WEEKLY_MINUTES = 16 * 60


class ShiftError(Exception):
    """A rule refused the change; ``key`` and ``params`` say why, in a catalog message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def text(self, i18n: I18n, language: str) -> str:
        """The reason in ``language``: a shift, a date or a nested error among the params is said in it
        too, and a ``count`` picks the key's plural form (``key_one``, ``key_other``)."""
        params = {name: _said(value, i18n, language) for name, value in self.params.items()}
        count = self.params.get("count")
        if isinstance(count, int):
            return i18n.plural(language, self.key, count, **params)
        return i18n.t(language, self.key, **params)


def _said(value: object, i18n: I18n, language: str) -> object:
    if isinstance(value, Shift):
        return describe(value, language)
    if isinstance(value, ShiftError):
        return value.text(i18n, language)
    if isinstance(value, date):
        return long_date(value, language)
    return value


def counted(i18n: I18n, language: str, key: str, count: int) -> str:
    """ "1 personne prévenue", "3 personnes prévenues": ``key_one`` or ``key_other`` with ``{count}``."""
    return i18n.plural(language, key, count)


def long_date(day: date, language: str) -> str:
    """ "30 novembre 2026", "November 30, 2026": a date inside a sentence."""
    return format_date(day, "long", locale=language)


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    activity_id: int
    activity: str
    place_id: int
    place: str
    local_date: date
    start_local: time
    end_local: time
    starts_at: datetime
    ends_at: datetime
    capacity: int
    coordinator_id: int | None
    template_id: int | None
    status: str
    reason: str | None
    version: int
    taken: int

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    shift_id: int
    person_id: int
    name: str | None
    member_code: str | None
    status: str
    released_reason: str | None
    answer: str | None
    attendance: str | None

    @property
    def live(self) -> bool:
        return self.status == "assigned"


# --- Time -----------------------------------------------------------------------------------------


def parse_day(text: str) -> date:
    """A whole date, as the command line and spreadsheets give it: 2026-12-09, 09/12/2026, and the
    09/12/2026 00:00:00 a French Excel saves (:func:`bot.dates.written_day`)."""
    try:
        found = written_day(text)
    except FarDate as far:
        raise ShiftError(far.key, **far.params) from None
    if found is None:
        raise ShiftError("shifts.error.bad_date", value=text.strip()[:20])
    return found


def parse_clock(text: str) -> time:
    """ "9:00", "09:00", "9h", "9h30", and the "09:00:00" a spreadsheet saves -> a local time of day."""
    cleaned = text.strip().lower().replace("h", ":")
    if cleaned.count(":") == 2 and cleaned.endswith(":00"):
        cleaned = cleaned[:-3]
    if cleaned.endswith(":"):
        cleaned += "00"
    hours, _, minutes = cleaned.partition(":")
    if hours.isdecimal() and minutes.isdecimal() and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60:
        return time(int(hours), int(minutes))
    raise ShiftError("shifts.error.bad_time", value=text.strip()[:20])


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a Paris wall-clock time; a time the spring clock change skips is refused."""
    local = datetime.combine(day, at, tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ShiftError("shifts.error.no_such_time", day=day, time=at.strftime("%H:%M"))
    return instant


def span(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    if end <= start:
        raise ShiftError("shifts.error.end_before_start", start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
    return local_instant(day, start, tz), local_instant(day, end, tz)


def week_of(day: date) -> tuple[date, date]:
    """Monday and the next Monday of the calendar week (Monday to Sunday) that holds ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def describe(shift: Shift, language: str) -> str:
    """ "mer. 2 déc. 11:30-14:30, Service cantine, Lingerie": how a worker reads a shift."""
    return f"{when(shift, language)}, {shift.activity}, {shift.place}"


def when(shift: Shift, language: str) -> str:
    day = format_date(shift.local_date, "EEE d MMM", locale=language)
    return f"{day} {shift.start_local.strftime('%H:%M')}-{shift.end_local.strftime('%H:%M')}"


# --- Activities and places ------------------------------------------------------------------------


async def _named(db: aiosqlite.Connection, table: str, name: str) -> tuple[int, str] | None:
    async with db.execute(f"SELECT id, name FROM {table} WHERE folded = ?", (fold(name),)) as cursor:  # noqa: S608
        row = await cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else None


async def _ensure(db: aiosqlite.Connection, table: str, now: datetime, name: str) -> tuple[int, str]:
    name = " ".join(name.split())[:60]
    if not fold(name):
        raise ShiftError("shifts.error.empty_name")
    found = await _named(db, table, name)
    if found:
        return found
    cursor = await db.execute(
        f"INSERT INTO {table} (name, folded, created_at) VALUES (?, ?, ?)",  # noqa: S608
        (name, fold(name), iso(now)),
    )
    return int(cursor.lastrowid or 0), name


async def find_activity(db: aiosqlite.Connection, name: str) -> tuple[int, str] | None:
    return await _named(db, "shift_activities", name)


async def find_place(db: aiosqlite.Connection, name: str) -> tuple[int, str] | None:
    return await _named(db, "shift_places", name)


async def ensure_activity(db: aiosqlite.Connection, now: datetime, name: str) -> tuple[int, str]:
    return await _ensure(db, "shift_activities", now, name)


async def ensure_place(db: aiosqlite.Connection, now: datetime, name: str) -> tuple[int, str]:
    return await _ensure(db, "shift_places", now, name)


# --- Reading shifts -------------------------------------------------------------------------------

_SHIFT_SELECT = """
SELECT s.id, s.activity_id, a.name, s.place_id, p.name, s.local_date, s.start_local, s.end_local,
       s.starts_at, s.ends_at, s.capacity, s.coordinator_person_id, s.template_id, s.status, s.reason,
       s.version,
       (SELECT COUNT(*) FROM shift_assignments x WHERE x.shift_id = s.id AND x.status = 'assigned')
FROM shifts s JOIN shift_activities a ON a.id = s.activity_id JOIN shift_places p ON p.id = s.place_id
"""


def _shift(row: aiosqlite.Row) -> Shift:
    return Shift(
        id=int(row[0]),
        activity_id=int(row[1]),
        activity=str(row[2]),
        place_id=int(row[3]),
        place=str(row[4]),
        local_date=date.fromisoformat(row[5]),
        start_local=time.fromisoformat(row[6]),
        end_local=time.fromisoformat(row[7]),
        starts_at=datetime.fromisoformat(row[8]),
        ends_at=datetime.fromisoformat(row[9]),
        capacity=int(row[10]),
        coordinator_id=row[11],
        template_id=row[12],
        status=str(row[13]),
        reason=row[14],
        version=int(row[15]),
        taken=int(row[16]),
    )


async def get_shift(db: aiosqlite.Connection, shift_id: int) -> Shift | None:
    async with db.execute(_SHIFT_SELECT + " WHERE s.id = ?", (shift_id,)) as cursor:
        row = await cursor.fetchone()
    return _shift(row) if row else None


async def shifts_between(
    db: aiosqlite.Connection, start: datetime, end: datetime, *, with_cancelled: bool = True
) -> list[Shift]:
    """Shifts that start in [start, end), in time order."""
    sql = _SHIFT_SELECT + " WHERE s.starts_at >= ? AND s.starts_at < ?"
    if not with_cancelled:
        sql += " AND s.status = 'planned'"
    async with db.execute(sql + " ORDER BY s.starts_at, s.id", (iso(start), iso(end))) as cursor:
        return [_shift(row) for row in await cursor.fetchall()]


async def shifts_on_days(db: aiosqlite.Connection, first: date, after_last: date) -> list[Shift]:
    """Shifts whose Paris date is in [first, after_last), cancelled ones included, in time order."""
    async with db.execute(
        _SHIFT_SELECT + " WHERE s.local_date >= ? AND s.local_date < ? ORDER BY s.starts_at, s.id",
        (first.isoformat(), after_last.isoformat()),
    ) as cursor:
        return [_shift(row) for row in await cursor.fetchall()]


_ASSIGNMENT_SELECT = """
SELECT x.id, x.shift_id, x.person_id, p.name, p.member_code, x.status, x.released_reason, x.answer,
       x.attendance
FROM shift_assignments x JOIN persons p ON p.id = x.person_id
"""


def _assignment(row: aiosqlite.Row) -> Assignment:
    return Assignment(
        id=int(row[0]),
        shift_id=int(row[1]),
        person_id=int(row[2]),
        name=row[3],
        member_code=row[4],
        status=str(row[5]),
        released_reason=row[6],
        answer=row[7],
        attendance=row[8],
    )


async def get_assignment(db: aiosqlite.Connection, assignment_id: int) -> Assignment | None:
    async with db.execute(_ASSIGNMENT_SELECT + " WHERE x.id = ?", (assignment_id,)) as cursor:
        row = await cursor.fetchone()
    return _assignment(row) if row else None


async def assignments_of(db: aiosqlite.Connection, shift_id: int, *, live_only: bool = False) -> list[Assignment]:
    sql = _ASSIGNMENT_SELECT + " WHERE x.shift_id = ?"
    if live_only:
        sql += " AND x.status = 'assigned'"
    async with db.execute(sql + " ORDER BY p.name, x.id", (shift_id,)) as cursor:
        return [_assignment(row) for row in await cursor.fetchall()]


async def live_assignment(db: aiosqlite.Connection, shift_id: int, person_id: int) -> Assignment | None:
    async with db.execute(
        _ASSIGNMENT_SELECT + " WHERE x.shift_id = ? AND x.person_id = ? AND x.status = 'assigned'",
        (shift_id, person_id),
    ) as cursor:
        row = await cursor.fetchone()
    return _assignment(row) if row else None


async def shifts_of_person(
    db: aiosqlite.Connection, person_id: int, start: datetime, end: datetime
) -> list[tuple[Shift, Assignment]]:
    """The person's live assignments on planned shifts starting in [start, end), in time order."""
    async with db.execute(
        "SELECT x.id FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id"
        " WHERE x.person_id = ? AND x.status = 'assigned' AND s.status = 'planned'"
        " AND s.starts_at >= ? AND s.starts_at < ? ORDER BY s.starts_at",
        (person_id, iso(start), iso(end)),
    ) as cursor:
        ids = [int(row[0]) for row in await cursor.fetchall()]
    pairs = []
    for assignment_id in ids:
        assignment = await get_assignment(db, assignment_id)
        shift = await get_shift(db, assignment.shift_id) if assignment else None
        if assignment and shift:
            pairs.append((shift, assignment))
    return pairs


# --- Contracts and the cap ------------------------------------------------------------------------


async def set_contract(
    db: aiosqlite.Connection, now: datetime, person_id: int, weekly_minutes: int, valid_from: date
) -> None:
    """Contract hours from ``valid_from`` on; the same date again replaces that step. Only a worker
    (Premières Heures) has contract hours: anyone else is refused, with how to give the role."""
    if not 0 <= weekly_minutes <= MAX_WEEKLY_MINUTES:
        raise ShiftError("shifts.error.contract_range", hours=format_minutes(weekly_minutes))
    if not await _has_role(db, person_id, Role.WORKER):
        async with db.execute("SELECT member_code FROM persons WHERE id = ?", (person_id,)) as cursor:
            row = await cursor.fetchone()
        raise ShiftError("shifts.error.contract_not_worker", code=(row[0] if row else None) or "GV-XXXX")
    await db.execute(
        "INSERT INTO shift_contracts (person_id, weekly_minutes, valid_from, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (person_id, valid_from) DO UPDATE SET weekly_minutes = excluded.weekly_minutes",
        (person_id, weekly_minutes, valid_from.isoformat(), iso(now)),
    )


async def contract_minutes_on(db: aiosqlite.Connection, person_id: int, day: date) -> int | None:
    async with db.execute(
        "SELECT weekly_minutes FROM shift_contracts WHERE person_id = ? AND valid_from <= ?"
        " ORDER BY valid_from DESC LIMIT 1",
        (person_id, day.isoformat()),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else None


async def contract_history(db: aiosqlite.Connection, person_id: int) -> list[tuple[date, int]]:
    async with db.execute(
        "SELECT valid_from, weekly_minutes FROM shift_contracts WHERE person_id = ? ORDER BY valid_from",
        (person_id,),
    ) as cursor:
        return [(date.fromisoformat(row[0]), int(row[1])) for row in await cursor.fetchall()]


async def planned_minutes(
    db: aiosqlite.Connection, person_id: int, day: date, *, exclude_shift: int | None = None
) -> int:
    """Minutes on the person's live assignments in the calendar week of ``day`` (Paris dates)."""
    monday, next_monday = week_of(day)
    async with db.execute(
        "SELECT s.starts_at, s.ends_at FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id"
        " WHERE x.person_id = ? AND x.status = 'assigned' AND s.status = 'planned'"
        " AND s.local_date >= ? AND s.local_date < ? AND s.id != ?",
        (person_id, monday.isoformat(), next_monday.isoformat(), exclude_shift or 0),
    ) as cursor:
        rows = await cursor.fetchall()
    seconds = sum((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() for start, end in rows)
    return int(seconds // 60)


async def check_fits(
    db: aiosqlite.Connection, person_id: int, day: date, starts_at: datetime, ends_at: datetime, shift_id: int
) -> None:
    """Refuse a shift that would break the week's contract hours, the 16 h cap, or overlap another."""
    contract = await contract_minutes_on(db, person_id, day)
    if contract is None:
        raise ShiftError("shifts.error.no_contract", day=day)
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    planned = await planned_minutes(db, person_id, day, exclude_shift=shift_id)
    monday, _ = week_of(day)
    params = {
        "planned": format_minutes(planned),
        "shift": format_minutes(minutes),
        "contract": format_minutes(contract),
        "week": monday,
    }
    if planned + minutes > MAX_WEEKLY_MINUTES:
        raise ShiftError("shifts.error.over_cap", **params)
    if planned + minutes > contract:
        raise ShiftError("shifts.error.over_contract", **params)
    async with db.execute(
        "SELECT s.id FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id"
        " WHERE x.person_id = ? AND x.status = 'assigned' AND s.status = 'planned' AND s.id != ?"
        " AND s.starts_at < ? AND s.ends_at > ? ORDER BY s.starts_at LIMIT 1",
        (person_id, shift_id, iso(ends_at), iso(starts_at)),
    ) as cursor:
        row = await cursor.fetchone()
    if row:
        other = await get_shift(db, int(row[0]))
        assert other is not None
        raise ShiftError("shifts.error.overlap", other=other, other_id=other.id)


# --- Changing shifts ------------------------------------------------------------------------------


async def create_shift(
    db: aiosqlite.Connection,
    now: datetime,
    tz: ZoneInfo,
    *,
    activity_id: int,
    place_id: int,
    day: date,
    start: time,
    end: time,
    capacity: int,
    coordinator_id: int | None = None,
    template_id: int | None = None,
) -> tuple[Shift, bool]:
    """The shift, and whether it is new: the same date, times, activity and place is the same shift."""
    if not 1 <= capacity <= 100:
        raise ShiftError("shifts.error.capacity", capacity=capacity)
    starts_at, ends_at = span(day, start, end, tz)
    cursor = await db.execute(
        "INSERT INTO shifts (activity_id, place_id, local_date, start_local, end_local, starts_at, ends_at,"
        " capacity, coordinator_person_id, template_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            activity_id,
            place_id,
            day.isoformat(),
            start.strftime("%H:%M"),
            end.strftime("%H:%M"),
            iso(starts_at),
            iso(ends_at),
            capacity,
            coordinator_id,
            template_id,
            iso(now),
            iso(now),
        ),
    )
    created = cursor.rowcount == 1
    async with db.execute(
        "SELECT id FROM shifts WHERE local_date = ? AND start_local = ? AND end_local = ? AND activity_id = ?"
        " AND place_id = ?",
        (day.isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M"), activity_id, place_id),
    ) as found:
        row = await found.fetchone()
    assert row is not None
    shift = await get_shift(db, int(row[0]))
    assert shift is not None
    return shift, created


async def _has_role(db: aiosqlite.Connection, person_id: int, role: str) -> bool:
    async with db.execute("SELECT 1 FROM person_roles WHERE person_id = ? AND role = ?", (person_id, role)) as cursor:
        return await cursor.fetchone() is not None


async def assign(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    shift_id: int,
    person_id: int,
    *,
    actor_id: int | None = None,
    notify: bool = True,
) -> Assignment:
    """Put a worker on a shift after every check; they are told if the shift is still ahead."""
    shift = await get_shift(db, shift_id)
    if shift is None:
        raise ShiftError("shifts.error.no_shift", id=shift_id)
    if shift.cancelled:
        raise ShiftError("shifts.error.shift_cancelled", id=shift_id)
    if not await _has_role(db, person_id, Role.WORKER):
        raise ShiftError("shifts.error.not_worker")
    if await live_assignment(db, shift_id, person_id):
        raise ShiftError("shifts.error.already_assigned", id=shift_id)
    if shift.taken >= shift.capacity:
        raise ShiftError("shifts.error.full", id=shift_id, count=shift.capacity)
    await check_fits(db, person_id, shift.local_date, shift.starts_at, shift.ends_at, shift.id)
    cursor = await db.execute(
        "INSERT INTO shift_assignments (shift_id, person_id, assigned_by, assigned_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (shift_id, person_id, actor_id, iso(now), iso(now)),
    )
    assignment_id = int(cursor.lastrowid or 0)
    if notify and shift.starts_at > now:
        await _tell(
            db, now, i18n, person_id, f"shift:{shift_id}:assigned:{assignment_id}", "shifts.notify.assigned", shift
        )
    assignment = await get_assignment(db, assignment_id)
    assert assignment is not None
    return assignment


async def release(db: aiosqlite.Connection, now: datetime, i18n: I18n, assignment_id: int, reason: str) -> Assignment:
    """Free a seat: ``declined`` (NON) and ``worker_cancelled`` alert the coordinator at once,
    ``unassigned`` (by staff) tells the worker."""
    assignment = await get_assignment(db, assignment_id)
    if assignment is None or not assignment.live:
        raise ShiftError("shifts.error.not_assigned")
    shift = await get_shift(db, assignment.shift_id)
    assert shift is not None
    await db.execute(
        "UPDATE shift_assignments SET status = 'released', released_reason = ?, answer = CASE WHEN ? = 'declined'"
        " THEN 'no' ELSE answer END, answered_at = CASE WHEN ? = 'declined' THEN ? ELSE answered_at END,"
        " updated_at = ? WHERE id = ?",
        (reason, reason, reason, iso(now), iso(now), assignment_id),
    )
    if reason == "unassigned":
        if shift.starts_at > now and not shift.cancelled:
            await _tell(
                db,
                now,
                i18n,
                assignment.person_id,
                f"shift:{shift.id}:unassigned:{assignment_id}",
                "shifts.notify.unassigned",
                shift,
            )
    else:
        await alert_coordinator(
            db,
            now,
            i18n,
            shift,
            cause=f"shift:{shift.id}:released:{assignment_id}",
            key="shifts.alert.released",
            who=assignment,
            why_key=f"shifts.why.{reason}",
        )
    released = await get_assignment(db, assignment_id)
    assert released is not None
    return released


async def alert_coordinator(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    shift: Shift,
    *,
    cause: str,
    key: str,
    who: Assignment | None = None,
    why_key: str | None = None,
    extra: dict[str, object] | None = None,
) -> int:
    """Tell the shift's coordinator (or, with none set, every staff member) about a seat at risk."""
    fresh = await get_shift(db, shift.id) or shift
    if fresh.coordinator_id is not None:
        recipients = [fresh.coordinator_id]
    else:
        recipients = await people.staff_ids(db)
    queued = 0
    for person_id in recipients:
        language = await _language(db, i18n, person_id)
        params: dict[str, object] = {
            "shift": describe(fresh, language),
            "taken": fresh.taken,
            "capacity": fresh.capacity,
            "id": fresh.id,
            **(extra or {}),
        }
        if who is not None:
            params["name"] = who.name or "?"
            params["code"] = who.member_code or "?"
        if why_key is not None:
            params["why"] = i18n.t(language, why_key)
        queued += await outbox.enqueue_for_person(
            db, now, i18n, person_id, cause=cause, key=key, params=params, about=who.person_id if who else None
        )
    return queued


async def cancel_shift(db: aiosqlite.Connection, now: datetime, i18n: I18n, shift_id: int, reason: str) -> Shift:
    """Cancel a shift; each worker on it is told, with the reason."""
    shift = await get_shift(db, shift_id)
    if shift is None:
        raise ShiftError("shifts.error.no_shift", id=shift_id)
    if shift.cancelled:
        raise ShiftError("shifts.error.shift_cancelled", id=shift_id)
    await db.execute(
        "UPDATE shifts SET status = 'cancelled', reason = ?, updated_at = ? WHERE id = ?",
        (reason.strip()[:200] or None, iso(now), shift_id),
    )
    cancelled = await get_shift(db, shift_id)
    assert cancelled is not None
    if cancelled.starts_at > now:
        for assignment in await assignments_of(db, shift_id, live_only=True):
            await _tell(
                db, now, i18n, assignment.person_id, f"shift:{shift_id}:cancelled", "shifts.notify.cancelled", cancelled
            )
    return cancelled


async def change_shift(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    tz: ZoneInfo,
    shift_id: int,
    *,
    day: date | None = None,
    start: time | None = None,
    end: time | None = None,
    place_id: int | None = None,
    capacity: int | None = None,
    coordinator_id: int | None = None,
    reason: str | None = None,
) -> Shift:
    """Move or resize one shift. Each worker on it must still fit (cap, contract, overlaps); those whose
    shift moved are told and asked again the day before."""
    shift = await get_shift(db, shift_id)
    if shift is None:
        raise ShiftError("shifts.error.no_shift", id=shift_id)
    if shift.cancelled:
        raise ShiftError("shifts.error.shift_cancelled", id=shift_id)
    new_day = day or shift.local_date
    new_start = start or shift.start_local
    new_end = end or shift.end_local
    new_place = place_id or shift.place_id
    new_capacity = capacity or shift.capacity
    starts_at, ends_at = span(new_day, new_start, new_end, tz)
    if not 1 <= new_capacity <= 100:
        raise ShiftError("shifts.error.capacity", capacity=new_capacity)
    if new_capacity < shift.taken:
        raise ShiftError("shifts.error.capacity_below_taken", capacity=new_capacity, taken=shift.taken)
    moved = (new_day, new_start, new_end, new_place) != (
        shift.local_date,
        shift.start_local,
        shift.end_local,
        shift.place_id,
    )
    live = await assignments_of(db, shift_id, live_only=True)
    if moved:
        for assignment in live:
            try:
                await check_fits(db, assignment.person_id, new_day, starts_at, ends_at, shift_id)
            except ShiftError as error:
                raise ShiftError(
                    "shifts.error.change_breaks",
                    name=assignment.name or "?",
                    code=assignment.member_code or "?",
                    why=error,
                ) from error
    try:
        await db.execute(
            "UPDATE shifts SET local_date = ?, start_local = ?, end_local = ?, starts_at = ?, ends_at = ?,"
            " place_id = ?, capacity = ?, coordinator_person_id = ?, reason = COALESCE(?, reason),"
            " version = version + ?, updated_at = ? WHERE id = ?",
            (
                new_day.isoformat(),
                new_start.strftime("%H:%M"),
                new_end.strftime("%H:%M"),
                iso(starts_at),
                iso(ends_at),
                new_place,
                new_capacity,
                coordinator_id if coordinator_id is not None else shift.coordinator_id,
                reason.strip()[:200] if reason and reason.strip() else None,
                1 if moved else 0,
                iso(now),
                shift_id,
            ),
        )
    except aiosqlite.IntegrityError:
        raise ShiftError("shifts.error.same_exists") from None
    changed = await get_shift(db, shift_id)
    assert changed is not None
    if moved:
        # Their answer was to the old time: they are asked again.
        await db.execute(
            "UPDATE shift_assignments SET answer = NULL, answered_at = NULL, updated_at = ?"
            " WHERE shift_id = ? AND status = 'assigned'",
            (iso(now), shift_id),
        )
        if changed.starts_at > now:
            for assignment in live:
                await _tell(
                    db,
                    now,
                    i18n,
                    assignment.person_id,
                    f"shift:{shift_id}:changed:v{changed.version}",
                    "shifts.notify.changed",
                    changed,
                    before=shift,
                )
    return changed


async def answer(db: aiosqlite.Connection, now: datetime, assignment_id: int, value: str) -> None:
    """Record OUI to the reminder (NON goes through ``release`` since it frees the seat)."""
    await db.execute(
        "UPDATE shift_assignments SET answer = ?, answered_at = ?, updated_at = ? WHERE id = ? AND status = 'assigned'",
        (value, iso(now), iso(now), assignment_id),
    )


async def mark_attendance(db: aiosqlite.Connection, now: datetime, assignment_id: int, present: bool) -> Assignment:
    """Present or absent, once the shift has started; marking again corrects the mark."""
    assignment = await get_assignment(db, assignment_id)
    if assignment is None or not assignment.live:
        raise ShiftError("shifts.error.not_assigned")
    shift = await get_shift(db, assignment.shift_id)
    assert shift is not None
    if shift.starts_at > now:
        raise ShiftError("shifts.error.not_started", id=shift.id)
    await db.execute(
        "UPDATE shift_assignments SET attendance = ?, attendance_at = ?, updated_at = ? WHERE id = ?",
        ("present" if present else "absent", iso(now), iso(now), assignment_id),
    )
    marked = await get_assignment(db, assignment_id)
    assert marked is not None
    return marked


async def _language(db: aiosqlite.Connection, i18n: I18n, person_id: int) -> str:
    async with db.execute("SELECT language FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row and row[0] else i18n.default_language


async def _tell(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    person_id: int,
    cause: str,
    key: str,
    shift: Shift,
    before: Shift | None = None,
) -> int:
    """A message to a worker about one of their shifts, in their language."""
    language = await _language(db, i18n, person_id)
    params: dict[str, object] = {
        "shift": describe(shift, language),
        "when": when(shift, language),
        "activity": shift.activity,
        "place": shift.place,
        "reason": shift.reason or "",
        "before": when(before, language) if before else "",
    }
    return await outbox.enqueue_for_person(db, now, i18n, person_id, cause=cause, key=key, params=params)
