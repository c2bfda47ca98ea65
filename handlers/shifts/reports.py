"""What staff read and edit around the shifts: rosters, the payroll's hours, contract hours as typed,
and the activity and place lists. Shared by the chat (staff.py) and the command line (cli.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import aiosqlite
from rapidfuzz import fuzz, process

from bot.csvfiles import to_csv
from bot.text import FarDate, fold, within_years
from handlers.shifts import model
from handlers.shifts.model import MAX_WEEKLY_MINUTES, Assignment, Shift, ShiftError

_HOURS = re.compile(r"^(\d{1,2})(?:[.,](\d{1,2}))?\s*(?:h|hours?|heures?)?$|^(\d{1,2})\s*h\s*(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-?w(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_hours(text: str) -> int:
    """ "8", "8.5", "8,5", "8h", "8h30" -> minutes a week, at most 16 h."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _HOURS.match(cleaned)
    if match is None:
        raise ShiftError("shifts.staff.bad_hours", value=text.strip()[:20])
    if match.group(3) is not None:
        hours, minutes = int(match.group(3)), int(match.group(4))
        if minutes >= 60:
            raise ShiftError("shifts.staff.bad_hours", value=text.strip()[:20])
    else:
        hours = int(match.group(1))
        fraction = match.group(2) or "0"
        minutes = round(float("0." + fraction) * 60)
    total = hours * 60 + minutes
    if total > MAX_WEEKLY_MINUTES:
        raise ShiftError("shifts.error.contract_range", hours=text.strip()[:20])
    return total


def parse_week(text: str) -> date:
    """ "2026-W49" (ISO week) -> its Monday."""
    match = _WEEK.match(text.strip().lower())
    if match is None:
        raise ShiftError("shifts.staff.bad_week", value=text.strip()[:20])
    try:
        return within_years(date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1), text)
    except FarDate as far:
        raise ShiftError(far.key, **far.params) from None
    except ValueError:
        raise ShiftError("shifts.staff.bad_week", value=text.strip()[:20]) from None


def is_week(text: str) -> bool:
    return _WEEK.match(text.strip().lower()) is not None


def parse_week_or_day(text: str) -> date:
    """ "2026-W49", or any day of that week ("09/12/2026", "2026-12-09") -> its Monday."""
    return parse_week(text) if is_week(text) else model.week_of(model.parse_day(text))[0]


def parse_month(text: str) -> date:
    """ "2026-12" -> the first day of that month."""
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ShiftError("shifts.staff.bad_month", value=text.strip()[:20])
    try:
        return within_years(date(int(match.group(1)), int(match.group(2)), 1), text)
    except FarDate as far:
        raise ShiftError(far.key, **far.params) from None
    except ValueError:  # the year 0000
        raise ShiftError("shifts.staff.bad_month", value=text.strip()[:20]) from None


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


# --- Rosters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterShift:
    """One shift with who is on it (live seats), who said NON, and who was taken off."""

    shift: Shift
    live: list[Assignment]
    declined: list[Assignment]

    @property
    def free(self) -> int:
        return 0 if self.shift.cancelled else max(self.shift.capacity - len(self.live), 0)


async def roster(db: aiosqlite.Connection, first: date, after_last: date) -> list[RosterShift]:
    """Every shift of the Paris days [first, after_last), cancelled ones included, in time order."""
    entries = []
    for shift in await model.shifts_on_days(db, first, after_last):
        everyone = await model.assignments_of(db, shift.id)
        live = [a for a in everyone if a.live]
        declined = [a for a in everyone if not a.live and a.released_reason in ("declined", "worker_cancelled")]
        entries.append(RosterShift(shift, live, declined))
    return entries


# --- Payroll -------------------------------------------------------------------------------------


@dataclass
class WorkerHours:
    """One worker's month: minutes marked present per ISO week (only the days of the month), the
    whole week's for reference, and the shifts still unmarked or marked absent."""

    person_id: int
    name: str
    member_code: str
    weeks: dict[str, int] = field(default_factory=dict)
    whole_weeks: dict[str, int] = field(default_factory=dict)
    unmarked: list[Shift] = field(default_factory=list)
    absent: list[Shift] = field(default_factory=list)

    @property
    def month_minutes(self) -> int:
        return sum(self.weeks.values())


async def month_hours(db: aiosqlite.Connection, first: date) -> list[WorkerHours]:
    """Hours worked in the month of ``first`` per worker, for the payroll of the contracts."""
    after = next_month(first)
    # Whole ISO weeks around the month, so a week's full total can be shown beside the month's part.
    span_first, _ = model.week_of(first)
    _, span_after = model.week_of(after - timedelta(days=1))
    async with db.execute(
        "SELECT x.person_id, COALESCE(p.name, ''), COALESCE(p.member_code, ''), x.shift_id, x.attendance"
        " FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id JOIN persons p ON p.id = x.person_id"
        " WHERE s.status = 'planned' AND s.local_date >= ? AND s.local_date < ?"
        " AND (x.status = 'assigned' OR x.attendance IS NOT NULL)"
        " ORDER BY p.name, p.member_code, s.starts_at",
        (span_first.isoformat(), span_after.isoformat()),
    ) as cursor:
        rows = await cursor.fetchall()
    workers: dict[int, WorkerHours] = {}
    for person_id, name, code, shift_id, attendance in rows:
        shift = await model.get_shift(db, int(shift_id))
        assert shift is not None
        worker = workers.setdefault(int(person_id), WorkerHours(int(person_id), str(name), str(code)))
        week = week_label(shift.local_date)
        in_month = first <= shift.local_date < after
        if attendance == "present":
            worker.whole_weeks[week] = worker.whole_weeks.get(week, 0) + shift.minutes
            if in_month:
                worker.weeks[week] = worker.weeks.get(week, 0) + shift.minutes
        elif in_month and attendance == "absent":
            worker.absent.append(shift)
        elif in_month:
            worker.unmarked.append(shift)
    for worker in workers.values():
        for week in worker.weeks:
            worker.whole_weeks.setdefault(week, 0)
    return [w for w in workers.values() if w.weeks or w.unmarked or w.absent]


# --- Activities and places -----------------------------------------------------------------------

NAMED_TABLES = {"activity": "shift_activities", "place": "shift_places"}


async def list_named(db: aiosqlite.Connection, kind: str) -> list[tuple[int, str]]:
    async with db.execute(
        f"SELECT id, name FROM {NAMED_TABLES[kind]} WHERE active = 1 ORDER BY name"  # noqa: S608
    ) as cursor:
        return [(int(row[0]), str(row[1])) for row in await cursor.fetchall()]


async def rename_named(db: aiosqlite.Connection, kind: str, item_id: int, name: str) -> str:
    """Rename an activity or a place; every shift shows the new name at once."""
    table = NAMED_TABLES[kind]
    name = " ".join(name.split())[:60]
    if not fold(name):
        raise ShiftError("shifts.error.empty_name")
    async with db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (item_id,)) as cursor:  # noqa: S608
        if await cursor.fetchone() is None:
            raise ShiftError(f"shifts.staff.no_{kind}", id=item_id)
    try:
        await db.execute(
            f"UPDATE {table} SET name = ?, folded = ? WHERE id = ?",  # noqa: S608
            (name, fold(name), item_id),
        )
    except aiosqlite.IntegrityError:
        raise ShiftError("shifts.staff.name_taken", name=name) from None
    return name


async def match_named(db: aiosqlite.Connection, kind: str, text: str) -> tuple[int, str] | None:
    """The activity or place staff meant: its exact name, or the only one whose name holds those words."""
    wanted = fold(text)
    if not wanted:
        return None
    items = await list_named(db, kind)
    exact = [item for item in items if fold(item[1]) == wanted]
    if exact:
        return exact[0]
    words = wanted.split()
    close = [item for item in items if all(word in fold(item[1]).split() for word in words)]
    return close[0] if len(close) == 1 else None


# A name typed with a slip ("cusine", "lingeri") scores 90 or more against the one meant; unrelated
# names of the site's lists stay under 70 (rapidfuzz's WRatio, on folded names).
CLOSE_SCORE = 75
CLOSE_LIMIT = 3


async def close_names(db: aiosqlite.Connection, kind: str, text: str) -> list[tuple[str, float]]:
    """The activities or places whose name is close to ``text`` and how close (0-100), the closest first."""
    names = {name: fold(name) for _, name in await list_named(db, kind)}
    found = process.extract(fold(text), names, scorer=fuzz.WRatio, score_cutoff=CLOSE_SCORE, limit=CLOSE_LIMIT)
    return [(name, score) for _, score, name in found]


async def unknown_named(db: aiosqlite.Connection, kind: str, text: str, how: str) -> ShiftError:
    """Why ``text`` is refused as an activity or a place: the close names, else the known ones, and
    ``how`` (a catalog key) to create it when it really is new."""
    close = await close_names(db, kind, text)
    if close:
        hint = ShiftError("shifts.error.did_you_mean", names=", ".join(name for name, _ in close))
    else:
        known = ", ".join(name for _, name in await list_named(db, kind))
        hint = ShiftError(f"shifts.error.known_{kind}", names=known) if known else ShiftError(f"shifts.error.no_{kind}")
    return ShiftError(f"shifts.error.unknown_{kind}", name=" ".join(text.split())[:60], hint=hint, how=ShiftError(how))


async def known_named(db: aiosqlite.Connection, kind: str, text: str, how: str) -> tuple[int, str]:
    """The activity or place named exactly (case and accents aside); a slip is refused, never created."""
    if not fold(text):
        raise ShiftError("shifts.error.empty_name")
    found = await (model.find_activity if kind == "activity" else model.find_place)(db, text)
    if found is None:
        raise await unknown_named(db, kind, text, how)
    return found


# --- Hours for the payroll ----------------------------------------------------------------------

HOURS_COLUMNS = (
    "member_code",
    "name",
    "kind",
    "period",
    "date",
    "shift",
    "worked_minutes",
    "worked_hours",
    "week_total_hours",
)


def span_text(shift: Shift) -> str:
    """The shift's local times, as the payroll and the staff lists write them."""
    return f"{shift.start_local.strftime('%H:%M')}-{shift.end_local.strftime('%H:%M')}"


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def hours_csv(workers: list[WorkerHours], month: date) -> bytes:
    """One row per worker and ISO week (the month's days only), one for the month, then the shifts
    marked absent and those not marked yet, so nothing is paid or forgotten silently."""
    rows: list[list[object]] = []
    period = month.strftime("%Y-%m")
    for worker in workers:
        who = [worker.member_code, worker.name]
        for week in sorted(worker.weeks):
            minutes = worker.weeks[week]
            rows.append([*who, "week", week, "", "", minutes, _hours(minutes), _hours(worker.whole_weeks[week])])
        rows.append([*who, "month", period, "", "", worker.month_minutes, _hours(worker.month_minutes), ""])
        for kind, shifts in (("absent", worker.absent), ("unmarked", worker.unmarked)):
            for shift in shifts:
                label = f"{span_text(shift)} {shift.activity}, {shift.place}"
                week, day = week_label(shift.local_date), shift.local_date.isoformat()
                rows.append([*who, kind, week, day, label, shift.minutes, _hours(shift.minutes), ""])
    return to_csv(HOURS_COLUMNS, rows)
