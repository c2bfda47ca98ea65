"""The volunteer meeting's calendar: every other Wednesday, 18:30-20:00 local time, from a reference Wednesday.

The regular dates come from APScheduler's ``CalendarIntervalTrigger`` (two calendar weeks, 18:30 in
``TIMEZONE``), never from a fixed number of seconds, so the meeting stays at 18:30 across the clock
changes and the new year. Staff changes are data beside the rule: a cancellation names the meeting it
removes (``r2026-12-02`` for a date of the rhythm, ``x7`` for an extra one), a move is a cancellation
pointing at the extra meeting that replaces it. A meeting's key never changes, so reminders and
notices use it in their outbox cause and are sent once.

A new reference makes a new rhythm: the staff's changes to dates it no longer has (a cancellation, a
move and the meeting it moved to) and the extra meetings that fall on its own dates are dropped with
it (:func:`rebase`), so no day has two meetings and no move points from a date that is gone.

Every function takes the caller's transaction; rule breaks raise :class:`CalendarError` with a
catalog key, so the chat and the command line say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiosqlite
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger

from bot.clock import iso
from bot.dates import written_day
from bot.store import Store
from bot.text import FarDate, typed_number

WEDNESDAY = 2
STARTS = time(18, 30)
ENDS = time(20, 0)
RHYTHM = timedelta(weeks=2)
MAX_REASON = 160
# How far ahead a list or a question looks for a meeting that is not cancelled.
HORIZON = timedelta(days=400)

_HOURS = re.compile(r"^([01]?\d|2[0-3])[:h]([0-5]\d)?\s*-\s*([01]?\d|2[0-3])[:h]([0-5]\d)?$")


# Reading works on a transaction's connection or, without taking the write lock, on the store itself
# (the outbox hook's tick and the .ics route only read).
Source = aiosqlite.Connection | Store


async def _fetchall(source: Source, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
    if isinstance(source, Store):
        return await source.fetchall(sql, params)
    async with source.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


class CalendarError(Exception):
    """A change the calendar refuses; ``key`` and ``params`` make the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Meeting:
    """One meeting as it stands: where the rhythm or staff put it, and whether it still takes place."""

    key: str
    starts: datetime  # aware, local time
    ends: datetime
    reason: str | None = None  # why it is extra or moved
    moved_from: date | None = None  # its day before a move
    created_at: str | None = None  # when staff added it (extra or moved ones)
    cancelled: bool = False
    cancel_reason: str | None = None
    moved_to: Meeting | None = None

    @property
    def day(self) -> date:
        return self.starts.date()

    @property
    def extra(self) -> bool:
        return self.key.startswith("x") and self.moved_from is None

    @property
    def live(self) -> bool:
        return not self.cancelled


def parse_day(text: str) -> date:
    """The command line's dates: a whole date with its year, 2026-12-02 or 02/12/2026 (:mod:`bot.dates`)."""
    try:
        found = written_day(text)
    except FarDate as far:
        raise CalendarError(far.key, **far.params) from None
    if found is None:
        raise CalendarError("volunteers.err_date", text=text.strip()[:20])
    return found


def parse_hours(text: str) -> tuple[time, time]:
    """``18:30-20:00``, ``18h30-20h``: the hours of a moved or extra meeting."""
    match = _HOURS.match(text.strip().lower())
    if match is None:
        raise CalendarError("volunteers.err_hours", text=text[:20])
    starts = time(int(match.group(1)), int(match.group(2) or 0))
    ends = time(int(match.group(3)), int(match.group(4) or 0))
    if ends <= starts:
        raise CalendarError("volunteers.err_hours", text=text[:20])
    return starts, ends


def clean_reason(text: str | None) -> str | None:
    reason = " ".join((text or "").split())[:MAX_REASON]
    return reason or None


def local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def regular_starts(reference: date, tz: ZoneInfo, first: date, last: date) -> list[datetime]:
    """The rhythm's meetings whose day is in [first, last], by the calendar rule."""
    if last < reference or last < first:
        return []
    start = reference
    if first > reference:
        periods = -(-(first - reference).days // RHYTHM.days)  # ceiling: the first date of the rhythm >= first
        start = reference + periods * RHYTHM
    if start > last:
        return []
    trigger = CalendarIntervalTrigger(
        weeks=2, hour=STARTS.hour, minute=STARTS.minute, start_date=start, end_date=last, timezone=tz
    )
    found: list[datetime] = []
    fire = trigger.get_next_fire_time(None, local(start, STARTS, tz))
    while fire is not None:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return found


def _ends(starts: datetime, tz: ZoneInfo) -> datetime:
    return local(starts.date(), ENDS, tz)


async def reference(db: Source) -> date | None:
    rows = await _fetchall(db, "SELECT day FROM meeting_reference WHERE id = 1")
    return date.fromisoformat(rows[0][0]) if rows else None


async def _cancellations(db: Source) -> dict[str, aiosqlite.Row]:
    return {
        row["meeting"]: row
        for row in await _fetchall(db, "SELECT meeting, reason, moved_to FROM meeting_cancellations")
    }


def _extra(row: aiosqlite.Row, tz: ZoneInfo) -> Meeting:
    day = date.fromisoformat(row["day"])
    return Meeting(
        key=f"x{row['id']}",
        starts=local(day, time.fromisoformat(row["starts"]), tz),
        ends=local(day, time.fromisoformat(row["ends"]), tz),
        reason=row["reason"],
        moved_from=date.fromisoformat(row["moved_from_day"]) if row["moved_from_day"] else None,
        created_at=row["created_at"],
    )


async def _extras(db: Source, tz: ZoneInfo, first: date, last: date) -> list[Meeting]:
    rows = await _fetchall(
        db,
        "SELECT * FROM meeting_extras WHERE day BETWEEN ? AND ? ORDER BY day, starts, id",
        (first.isoformat(), last.isoformat()),
    )
    return [_extra(row, tz) for row in rows]


async def _extra_by_id(db: Source, tz: ZoneInfo, extra_id: int) -> Meeting | None:
    rows = await _fetchall(db, "SELECT * FROM meeting_extras WHERE id = ?", (extra_id,))
    return _extra(rows[0], tz) if rows else None


def _day_of_key(key: str) -> date | None:
    """The day of a meeting of the rhythm (``r2026-12-02``); None for another key or a malformed one."""
    if not key.startswith("r"):
        return None
    try:
        return date.fromisoformat(key[1:])
    except ValueError:
        return None


async def _with_changes(db: Source, tz: ZoneInfo, meetings: list[Meeting]) -> list[Meeting]:
    cancelled = await _cancellations(db)
    result = []
    for meeting in meetings:
        found = cancelled.get(meeting.key)
        if found is not None:
            moved_to = None
            if found["moved_to"] is not None:
                moved_to = await _extra_by_id(db, tz, found["moved_to"])
            meeting = replace(meeting, cancelled=True, cancel_reason=found["reason"], moved_to=moved_to)
        result.append(meeting)
    return result


async def between(db: Source, tz: ZoneInfo, first: date, last: date) -> list[Meeting]:
    """Every meeting whose day is in [first, last], cancelled ones included, in time order."""
    meetings: list[Meeting] = []
    ref = await reference(db)
    if ref is not None:
        meetings += [Meeting(f"r{s.date().isoformat()}", s, _ends(s, tz)) for s in regular_starts(ref, tz, first, last)]
    meetings += await _extras(db, tz, first, last)
    meetings.sort(key=lambda m: (m.starts, m.key))
    return await _with_changes(db, tz, meetings)


async def coming(db: Source, tz: ZoneInfo, now: datetime, live: int) -> list[Meeting]:
    """Meetings not over yet, up to and including the ``live``-th one that takes place."""
    today = now.astimezone(tz).date()
    found = [m for m in await between(db, tz, today, today + HORIZON) if m.ends > now]
    result: list[Meeting] = []
    count = 0
    for meeting in found:
        result.append(meeting)
        count += meeting.live
        if count >= live:
            break
    return result


async def find(db: Source, tz: ZoneInfo, key: str) -> Meeting | None:
    """A meeting by its key, as it stands now; None when the rhythm no longer has that date."""
    extra_id = typed_number(key[1:], digits=12) if key.startswith("x") else None
    if extra_id is not None:
        extra = await _extra_by_id(db, tz, extra_id)
        return (await _with_changes(db, tz, [extra]))[0] if extra else None
    day = _day_of_key(key)
    if day is None:
        return None
    ref = await reference(db)
    if ref is None:
        return None
    regular = [Meeting(key, s, _ends(s, tz)) for s in regular_starts(ref, tz, day, day)]
    return (await _with_changes(db, tz, regular))[0] if regular else None


async def live_on(db: Source, tz: ZoneInfo, day: date) -> Meeting | None:
    return next((m for m in await between(db, tz, day, day) if m.live), None)


# --- Staff changes -----------------------------------------------------------------------------


async def set_reference(db: aiosqlite.Connection, now: datetime, day: date, by: int | None) -> None:
    """The Wednesday the rhythm counts from; a past one is fine, it only anchors the fortnights."""
    if day.weekday() != WEDNESDAY:
        raise CalendarError("volunteers.err_not_wednesday", day=day)
    await db.execute(
        "INSERT INTO meeting_reference (id, day, set_by, set_at) VALUES (1, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET day = excluded.day, set_by = excluded.set_by, set_at = excluded.set_at",
        (day.isoformat(), by, iso(now)),
    )


async def meeting_to_change(db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, day: date) -> Meeting:
    """The meeting on ``day`` that staff may still cancel or move: it exists and has not started."""
    meeting = await live_on(db, tz, day)
    if meeting is None:
        raise CalendarError("volunteers.err_no_meeting", day=day)
    if meeting.starts <= now:
        raise CalendarError("volunteers.err_past", day=day)
    return meeting


async def check_new(
    db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, day: date, starts: time, ends: time, replacing: str = ""
) -> None:
    """A new meeting (added or moved) must be in the future and not on a day that already has one."""
    if local(day, starts, tz) <= now:
        raise CalendarError("volunteers.err_past", day=day)
    other = await live_on(db, tz, day)
    if other is not None and other.key != replacing:
        raise CalendarError("volunteers.err_taken", day=day)


async def cancel(
    db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, day: date, reason: str | None, by: int | None
) -> Meeting:
    meeting = await meeting_to_change(db, tz, now, day)
    await db.execute(
        "INSERT INTO meeting_cancellations (meeting, reason, created_by, created_at) VALUES (?, ?, ?, ?)",
        (meeting.key, clean_reason(reason), by, iso(now)),
    )
    return replace(meeting, cancelled=True, cancel_reason=clean_reason(reason))


async def _insert_extra(
    db: aiosqlite.Connection,
    now: datetime,
    day: date,
    starts: time,
    ends: time,
    reason: str | None,
    moved_from: Meeting | None,
    by: int | None,
) -> int:
    cursor = await db.execute(
        "INSERT INTO meeting_extras (day, starts, ends, reason, moved_from, moved_from_day, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            day.isoformat(),
            starts.strftime("%H:%M"),
            ends.strftime("%H:%M"),
            clean_reason(reason),
            moved_from.key if moved_from else None,
            moved_from.day.isoformat() if moved_from else None,
            by,
            iso(now),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def move(
    db: aiosqlite.Connection,
    tz: ZoneInfo,
    now: datetime,
    day: date,
    new_day: date,
    reason: str | None,
    by: int | None,
    hours: tuple[time, time] | None = None,
) -> Meeting:
    """The meeting on ``day`` takes place on ``new_day`` instead, at the same hours unless ``hours``."""
    meeting = await meeting_to_change(db, tz, now, day)
    starts, ends = hours or (meeting.starts.time(), meeting.ends.time())
    if new_day == day and (starts, ends) == (meeting.starts.time(), meeting.ends.time()):
        raise CalendarError("volunteers.err_same", day=day)
    await check_new(db, tz, now, new_day, starts, ends, replacing=meeting.key)
    extra_id = await _insert_extra(db, now, new_day, starts, ends, reason, meeting, by)
    await db.execute(
        "INSERT INTO meeting_cancellations (meeting, reason, moved_to, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        (meeting.key, clean_reason(reason), extra_id, by, iso(now)),
    )
    found = await find(db, tz, meeting.key)
    assert found is not None
    return found


async def add(
    db: aiosqlite.Connection,
    tz: ZoneInfo,
    now: datetime,
    day: date,
    reason: str | None,
    by: int | None,
    hours: tuple[time, time] | None = None,
) -> Meeting:
    starts, ends = hours or (STARTS, ENDS)
    await check_new(db, tz, now, day, starts, ends)
    extra_id = await _insert_extra(db, now, day, starts, ends, reason, None, by)
    found = await find(db, tz, f"x{extra_id}")
    assert found is not None
    return found


# --- A new reference --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rebase:
    """What a new reference drops: the changes (as the meetings they made) that mean nothing in its rhythm."""

    dropped: list[Meeting]
    cancellations: list[str]  # meeting keys whose cancellation (or move) goes
    extras: list[int]  # meeting_extras rows that go
    unlinked: list[str]  # cancellations kept as such, whose moved-to meeting goes


async def rebase(db: Source, tz: ZoneInfo, now: datetime, day: date) -> Rebase:
    """Read what setting the reference to ``day`` drops among the meetings still to come.

    A cancellation or a move of a date of the old rhythm that the new one does not have goes, with
    the meeting it moved to (and any move of that one in turn); an extra or moved meeting on a date
    of the new rhythm goes too, since the rhythm holds a meeting there. Past meetings stay as they were.
    """
    today = now.astimezone(tz).date()
    last = today + HORIZON
    new_days = {s.date() for s in regular_starts(day, tz, today, last)}
    ahead = [m for m in await between(db, tz, today, last) if m.starts > now]
    cancelled = await _cancellations(db)
    result = Rebase([], [], [], [])
    for meeting in ahead:
        if meeting.key.startswith("r") and meeting.cancelled and meeting.day not in new_days:
            result.dropped.append(meeting)
            key: str | None = meeting.key
            while key is not None and key in cancelled:
                result.cancellations.append(key)
                moved_to = cancelled[key]["moved_to"]
                if moved_to is None:
                    break
                result.extras.append(int(moved_to))
                key = f"x{moved_to}"
    for meeting in ahead:
        extra_id = int(meeting.key[1:]) if meeting.key.startswith("x") else None
        if extra_id is None or extra_id in result.extras or not meeting.live or meeting.day not in new_days:
            continue
        if f"r{meeting.day.isoformat()}" in cancelled:
            continue  # that date of the new rhythm is cancelled: the extra meeting is the one held
        result.dropped.append(meeting)
        result.extras.append(extra_id)
        result.unlinked.extend(k for k, row in cancelled.items() if row["moved_to"] == extra_id)
    return result


async def drop(db: aiosqlite.Connection, stale: Rebase) -> None:
    """Delete what :func:`rebase` found, in the caller's transaction (with the new reference)."""
    for key in stale.unlinked:
        await db.execute("UPDATE meeting_cancellations SET moved_to = NULL WHERE meeting = ?", (key,))
    for key in stale.cancellations:
        await db.execute("DELETE FROM meeting_cancellations WHERE meeting = ?", (key,))
    for extra_id in stale.extras:
        await db.execute("DELETE FROM meeting_cancellations WHERE meeting = ?", (f"x{extra_id}",))
        await db.execute("DELETE FROM meeting_extras WHERE id = ?", (extra_id,))
