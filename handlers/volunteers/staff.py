"""The staff's changes to the meeting calendar, the same from the chat and from the command line.

A change is checked first (:func:`check`, nothing written: the chat shows it for OUI/NON), then
applied in one transaction with the notices it causes (:func:`apply`), checked again there since the
calendar may have moved in between.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.i18n import I18n
from handlers.volunteers import calendar, reminders, texts
from handlers.volunteers.calendar import CalendarError, Meeting

OPS = ("reference", "cancel", "move", "add")


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


async def check(db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, change: Change) -> Meeting | None:
    """Raise CalendarError when the change cannot be made; the meeting it is about, if any."""
    day = date.fromisoformat(change.day)
    if change.op == "reference":
        if day.weekday() != calendar.WEDNESDAY:
            raise CalendarError("volunteers.err_not_wednesday", day=change.day)
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
            raise CalendarError("volunteers.err_same", day=change.day)
        await calendar.check_new(db, tz, now, new_day, starts, ends, replacing=meeting.key)
    return meeting


def preview(i18n: I18n, language: str, tz: ZoneInfo, change: Change, count: int) -> str:
    """What OUI will do, said before it is done."""
    day = date.fromisoformat(change.day)
    reason = i18n.t(language, "volunteers.reason", reason=change.reason) if change.reason else ""
    if change.op == "reference":
        dates = ", ".join(
            texts.day_text(s.date(), language) for s in calendar.regular_starts(day, tz, day, day + 6 * calendar.RHYTHM)
        )
        return i18n.t(language, "volunteers.staff_reference_ask", day=texts.day_text(day, language), dates=dates)
    hours = change.hours or (calendar.STARTS, calendar.ENDS)
    if change.op == "add":
        extra = Meeting("x", calendar.local(day, hours[0], tz), calendar.local(day, hours[1], tz))
        return i18n.t(language, "volunteers.staff_add_ask", when=texts.when(i18n, language, extra), reason=reason)
    if change.op == "cancel":
        return i18n.t(
            language, "volunteers.staff_cancel_ask", day=texts.day_text(day, language), reason=reason, count=count
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
        count=count,
    )


async def apply(
    db: aiosqlite.Connection, tz: ZoneInfo, now: datetime, i18n: I18n, change: Change, by: int | None
) -> tuple[Meeting | None, int]:
    """Make the change and queue its notices, in the caller's transaction; (the meeting, notices queued)."""
    day = date.fromisoformat(change.day)
    if change.op == "reference":
        await calendar.set_reference(db, now, day, by)
        return None, 0
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
        return i18n.t(
            language, "volunteers.staff_reference_done", day=texts.day_text(date.fromisoformat(change.day), language)
        )
    assert meeting is not None
    if change.op == "add":
        return i18n.t(language, "volunteers.staff_add_done", when=texts.when(i18n, language, meeting))
    return i18n.t(
        language, "volunteers.staff_change_done", change=texts.change(i18n, language, meeting), count=notified
    )
