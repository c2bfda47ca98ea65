"""The staff's changes to the meeting calendar, the same from the chat and from the command line.

A change is checked first (:func:`check`, nothing written: the chat shows it for OUI/NON), then
applied in one transaction with the notices it causes (:func:`apply`), checked again there since the
calendar may have moved in between. :func:`effects` says beforehand who will be told and, for a new
reference, which changes it drops (it is tried, then undone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.i18n import I18n
from handlers.volunteers import calendar, reminders, texts
from handlers.volunteers.calendar import CalendarError, Meeting

OPS = ("reference", "cancel", "move", "add")
# A new reference is news when it moves one of this many coming meetings; the notice names the first ones.
COMPARED = 6
NOTICE_DATES = 3


@dataclass(frozen=True)
class Change:
    op: str
    day: str  # ISO dates and HH:MM hours: a change waits in the conversation as JSON
    new_day: str | None = None
    starts: str | None = None
    ends: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Change:
        return cls(
            data["op"], data["day"], data.get("new_day"), data.get("starts"), data.get("ends"), data.get("reason")
        )

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def hours(self) -> tuple[time, time] | None:
        if self.starts is None or self.ends is None:
            return None
        return time.fromisoformat(self.starts), time.fromisoformat(self.ends)


def make(
    op: str,
    day: date,
    *,
    new_day: date | None = None,
    hours: tuple[time, time] | None = None,
    reason: str | None = None,
) -> Change:
    if op == "cancel" and not calendar.clean_reason(reason):
        raise CalendarError("volunteers.err_reason")
    return Change(
        op,
        day.isoformat(),
        new_day.isoformat() if new_day else None,
        hours[0].strftime("%H:%M") if hours else None,
        hours[1].strftime("%H:%M") if hours else None,
        calendar.clean_reason(reason),
    )


async def recipients(db: aiosqlite.Connection) -> int:
    async with db.execute(reminders.COUNT_RECIPIENTS) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def recipient_names(db: aiosqlite.Connection) -> list[tuple[int, str]]:
    """Who hears of a change (the volunteers who get reminders): (person, sign-up name), shown before OUI."""
    async with db.execute(reminders.RECIPIENTS) as cursor:
        reached = {row[0] for row in await cursor.fetchall()}
    async with db.execute("SELECT person_id, name FROM volunteer_signups ORDER BY name COLLATE NOCASE, id") as cursor:
        return [(row[0], row[1]) for row in await cursor.fetchall() if row[0] in reached]


async def check(db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, change: Change) -> Meeting | None:
    """Raise CalendarError when the change cannot be made; the meeting it is about, if any."""
    day = date.fromisoformat(change.day)
    if change.op == "reference":
        if day.weekday() != calendar.WEDNESDAY:
            raise CalendarError("volunteers.err_not_wednesday", day=day)
        return None
    if change.op == "add":
        starts, ends = change.hours or (calendar.STARTS, calendar.ENDS)
        await calendar.check_new(db, tz, now, day, starts, ends)
        return None
    meeting = await calendar.meeting_to_change(db, tz, now, day)
    if change.op == "move":
        assert change.new_day is not None
        new_day = date.fromisoformat(change.new_day)
        starts, ends = change.hours or (meeting.starts.time(), meeting.ends.time())
        if new_day == day and (starts, ends) == (meeting.starts.time(), meeting.ends.time()):
            raise CalendarError("volunteers.err_same", day=day)
        await calendar.check_new(db, tz, now, new_day, starts, ends, replacing=meeting.key)
    return meeting


@dataclass(frozen=True)
class Effects:
    told: int  # volunteers who will get a notice
    dropped: list[Meeting]  # a new reference: the staff's changes it drops


async def effects(db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, change: Change) -> Effects:
    """Who a checked change will tell, and what else it undoes; nothing stays written."""
    if change.op in ("cancel", "move"):
        return Effects(await recipients(db), [])
    if change.op == "add":
        return Effects(0, [])
    await db.execute("SAVEPOINT volunteers_reference")
    try:
        stale, dates = await _new_reference(db, tz, now, date.fromisoformat(change.day), None)
    finally:
        await db.execute("ROLLBACK TO volunteers_reference")
        await db.execute("RELEASE volunteers_reference")
    return Effects(await recipients(db) if dates else 0, stale.dropped)


async def _live(db: aiosqlite.Connection, tz: ZoneInfo, now: datetime) -> list[Meeting]:
    return [m for m in await calendar.coming(db, tz, now, COMPARED) if m.live][:COMPARED]


async def _new_reference(
    db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, day: date, by: int | None
) -> tuple[calendar.Rebase, list[Meeting]]:
    """Set the reference and drop the changes its rhythm makes pointless; the coming meetings when
    that moved any of them (none for a first reference: nobody had dates to unlearn)."""
    had = await calendar.reference(db)
    before = await _live(db, tz, now)
    stale = await calendar.rebase(db, tz, now, day)
    await calendar.set_reference(db, now, day, by)
    await calendar.drop(db, stale)
    after = await _live(db, tz, now)
    moved = had is not None and [(m.starts, m.ends) for m in before] != [(m.starts, m.ends) for m in after]
    return stale, after if moved else []


def preview(
    i18n: I18n, language: str, tz: ZoneInfo, change: Change, count: int, dropped: Sequence[Meeting] = ()
) -> str:
    """What OUI will do, said before it is done: ``count`` volunteers told, and for a new reference
    the changes it drops (:func:`effects` gives both)."""
    day = date.fromisoformat(change.day)
    reason = i18n.t(language, "volunteers.reason", reason=change.reason) if change.reason else ""
    if change.op == "reference":
        dates = ", ".join(
            texts.day_text(s.date(), language) for s in calendar.regular_starts(day, tz, day, day + 6 * calendar.RHYTHM)
        )
        ask = i18n.t(language, "volunteers.staff_reference_ask", day=texts.full_day_text(day, language), dates=dates)
        lines = [ask]
        if dropped:
            changes = "; ".join(texts.dropped_text(i18n, language, m) for m in dropped)
            lines.append(i18n.t(language, "volunteers.staff_reference_drops", changes=changes))
        if count:
            lines.append(i18n.plural(language, "volunteers.told_dates", count))
        return " ".join(lines)
    hours = change.hours or (calendar.STARTS, calendar.ENDS)
    if change.op == "add":
        extra = Meeting("x", calendar.local(day, hours[0], tz), calendar.local(day, hours[1], tz))
        return i18n.t(language, "volunteers.staff_add_ask", when=texts.when(i18n, language, extra), reason=reason)
    told = i18n.plural(language, "volunteers.told_future", count)
    if change.op == "cancel":
        return i18n.t(
            language, "volunteers.staff_cancel_ask", day=texts.day_text(day, language), reason=reason, told=told
        )
    assert change.new_day is not None
    new_day = date.fromisoformat(change.new_day)
    target = Meeting("x", calendar.local(new_day, hours[0], tz), calendar.local(new_day, hours[1], tz))
    return i18n.t(
        language,
        "volunteers.staff_move_ask",
        day=texts.day_text(day, language),
        when=texts.when(i18n, language, target),
        reason=reason,
        told=told,
    )


async def apply(
    db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, i18n: I18n, change: Change, by: int | None
) -> tuple[Meeting | None, int]:
    """Make the change and queue its notices, in the caller's transaction; (the meeting, notices queued)."""
    day = date.fromisoformat(change.day)
    if change.op == "reference":
        _, dates = await _new_reference(db, tz, now, day, by)
        if not dates:
            return None, 0
        return None, await reminders.queue_dates_notice(db, now, i18n, day, dates[:NOTICE_DATES])
    if change.op == "add":
        return await calendar.add(db, tz, now, day, change.reason, by, change.hours), 0
    if change.op == "cancel":
        meeting = await calendar.cancel(db, tz, now, day, change.reason, by)
    else:
        assert change.new_day is not None
        new_day = date.fromisoformat(change.new_day)
        meeting = await calendar.move(db, tz, now, day, new_day, change.reason, by, change.hours)
    return meeting, await reminders.queue_notices(db, now, i18n, meeting)


def done(i18n: I18n, language: str, change: Change, meeting: Meeting | None, notified: int) -> str:
    if change.op == "reference":
        day = texts.full_day_text(date.fromisoformat(change.day), language)
        if notified:
            told = i18n.plural(language, "volunteers.told", notified)
            return i18n.t(language, "volunteers.staff_reference_done_told", day=day, told=told)
        return i18n.t(language, "volunteers.staff_reference_done", day=day)
    assert meeting is not None
    if change.op == "add":
        return i18n.t(language, "volunteers.staff_add_done", when=texts.when(i18n, language, meeting))
    told = i18n.plural(language, "volunteers.told", notified)
    return i18n.t(language, "volunteers.staff_change_done", change=texts.change(i18n, language, meeting), told=told)
