"""Reminders of shifts as outbox rows: the OUI/NON question the day before, the nudge to those who
said OUI, and the coordinator's alert when nobody answered.

Reminders are data, never timers: the running outbox ticks this hook about every second; at most
once a minute of clock time (or at once when a shift or an assignment changed) it looks at the
shifts of the next two days and queues what has become due. Each row's cause names the shift, its
version and the assignment (``shift:12:v2:reminder:40``), and a row is queued only when none of that
cause exists for the person, so a restart repeats nothing, a moved shift is asked again, and a bot
that was down at the reminder hour sends it when it starts if the shift is still ahead. Just before
a row is sent, :meth:`ShiftReminders.hold` drops it if it became pointless: the shift started, was
cancelled or moved, or the seat was released.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot import outbox as ob
from bot.clock import Clock, iso
from bot.config import Settings
from bot.i18n import I18n
from bot.outbox import Hold, Outbox, Row
from bot.store import Store
from handlers.shifts import model
from handlers.shifts.model import Assignment, Shift
from handlers.shifts.router import router

log = logging.getLogger(__name__)

REMINDER = "reminder"
NUDGE = "nudge"
NO_ANSWER = "noanswer"
_CAUSE = re.compile(r"^shift:(\d+):v(\d+):(reminder|nudge|noanswer):(\d+)$")
# The reminder is the day before at a local hour (00:00 at the earliest): a shift up to two days
# ahead may be due; an hour more covers the day the clocks go back.
LOOK_AHEAD = timedelta(days=2, hours=1)
# The button or numbered choice that answers a reminder: shifts.my_answer:<assignment>:<version>:yes|no
ANSWER = "shifts.my_answer"


def cause(shift: Shift, kind: str, assignment_id: int) -> str:
    return f"shift:{shift.id}:v{shift.version}:{kind}:{assignment_id}"


def answer_key(assignment_id: int, version: int, value: str) -> str:
    return f"{ANSWER}:{assignment_id}:{version}:{value}"


def wall(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a Paris wall-clock time; a time the spring change skips counts as just after it."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Times:
    """When each message of a shift becomes due, from the settings (local hour, minutes before the start)."""

    tz: ZoneInfo
    reminder_at: time
    nudge: timedelta
    cutoff: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Times:
        return cls(
            settings.tz,
            time.fromisoformat(settings.shift_reminder_at),
            timedelta(minutes=settings.shift_nudge_minutes),
            timedelta(minutes=settings.shift_answer_cutoff_minutes),
        )

    def reminder(self, shift: Shift) -> datetime:
        """The day before the shift's Paris date, at the reminder hour (calendar days, never 24 h)."""
        return wall(shift.local_date - timedelta(days=1), self.reminder_at, self.tz)

    def nudge_at(self, shift: Shift) -> datetime:
        return shift.starts_at - self.nudge

    def cutoff_at(self, shift: Shift) -> datetime:
        return shift.starts_at - self.cutoff


@dataclass(frozen=True)
class Seat:
    """A live assignment with what the scan needs beyond :class:`Assignment`."""

    assignment: Assignment
    assigned_at: datetime
    answered_at: datetime | None


async def _seats(db: aiosqlite.Connection, shift_id: int) -> list[Seat]:
    async with db.execute(
        "SELECT id, assigned_at, answered_at FROM shift_assignments WHERE shift_id = ? AND status = 'assigned'"
        " ORDER BY id",
        (shift_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    seats = []
    for row in rows:
        assignment = await model.get_assignment(db, int(row[0]))
        if assignment is not None:
            answered = datetime.fromisoformat(row[2]) if row[2] else None
            seats.append(Seat(assignment, datetime.fromisoformat(row[1]), answered))
    return seats


async def _queued(db: aiosqlite.Connection, key: str) -> bool:
    async with db.execute("SELECT 1 FROM outbox WHERE cause = ? LIMIT 1", (key,)) as cursor:
        return await cursor.fetchone() is not None


async def _moved_at(db: aiosqlite.Connection, shift: Shift) -> datetime | None:
    """When the shift took its current time or place (the workers were told then), if it ever moved."""
    if shift.version == 1:
        return None
    async with db.execute(
        "SELECT MIN(created_at) FROM outbox WHERE cause = ?", (f"shift:{shift.id}:changed:v{shift.version}",)
    ) as cursor:
        row = await cursor.fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


async def ask(db: aiosqlite.Connection, now: datetime, i18n: I18n, shift: Shift, assignment: Assignment) -> int:
    """Queue the OUI/NON question about ``shift`` to its worker, once per version and assignment."""
    language = await _language(db, i18n, assignment.person_id)
    return await ob.enqueue_for_person(
        db,
        now,
        i18n,
        assignment.person_id,
        cause=cause(shift, REMINDER, assignment.id),
        key="shifts.reminder.ask",
        params={"shift": model.describe(shift, language)},
        choices=[
            (answer_key(assignment.id, shift.version, "yes"), "shifts.reminder.yes"),
            (answer_key(assignment.id, shift.version, "no"), "shifts.reminder.no"),
        ],
    )


async def _language(db: aiosqlite.Connection, i18n: I18n, person_id: int) -> str:
    async with db.execute("SELECT language FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    language = row[0] if row else None
    return language if language in i18n.catalogs else i18n.default_language


class ShiftReminders:
    """The outbox hook (``Router.configured_outbox_hook``): queues reminders when due, drops pointless ones."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.times = Times.of(settings)
        self.i18n = I18n.configured(settings)
        self._scanned: tuple[datetime, tuple[object, ...]] | None = None

    async def tick(self, outbox: Outbox) -> None:
        """Scan when a new minute has come or the shifts changed; each due time is a whole minute."""
        now = self.clock.now()
        minute = now.replace(second=0, microsecond=0)
        signature = await self._signature(now)
        if self._scanned == (minute, signature):
            return
        queued = await self.queue_due(now)
        self._scanned = (minute, signature)
        if queued:
            outbox.wake()

    async def _signature(self, now: datetime) -> tuple[object, ...]:
        """A cheap summary of the shifts ahead: it changes whenever a scan could find something new."""
        row = await self.store.fetchone(
            "SELECT COUNT(*), TOTAL(s.version), TOTAL(s.status = 'planned'), TOTAL(x.status = 'assigned'),"
            " TOTAL(x.answer = 'yes'), TOTAL(x.answer IS NULL), MAX(x.id), MAX(x.updated_at), MAX(s.updated_at)"
            " FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id WHERE s.starts_at > ?",
            (iso(now),),
        )
        return tuple(row) if row is not None else ()

    async def queue_due(self, now: datetime) -> int:
        """Queue every reminder, nudge and alert that is due and still useful; how many rows were queued."""
        queued = 0
        async with self.store.transaction() as db:
            for shift in await model.shifts_between(db, now, now + LOOK_AHEAD, with_cancelled=False):
                for seat in await _seats(db, shift.id):
                    queued += await self._queue_seat(db, now, shift, seat)
        if queued:
            log.info("queued %d shift reminders and alerts", queued)
        return queued

    async def _queue_seat(self, db: aiosqlite.Connection, now: datetime, shift: Shift, seat: Seat) -> int:
        times, assignment = self.times, seat.assignment
        due = times.reminder(shift)
        queued = 0
        if now >= due and assignment.answer is None and not await _queued(db, cause(shift, REMINDER, assignment.id)):
            queued += await ask(db, now, self.i18n, shift, assignment)
        nudge_at = times.nudge_at(shift)
        if (
            assignment.answer == "yes"
            and now >= nudge_at
            and seat.answered_at is not None
            and seat.answered_at <= nudge_at  # said OUI just now: the thanks said where and when
            and not await _queued(db, cause(shift, NUDGE, assignment.id))
        ):
            language = await _language(db, self.i18n, assignment.person_id)
            queued += await ob.enqueue_for_person(
                db,
                now,
                self.i18n,
                assignment.person_id,
                cause=cause(shift, NUDGE, assignment.id),
                key="shifts.reminder.nudge",
                params={"when": model.when(shift, language), "activity": shift.activity, "place": shift.place},
            )
        cutoff_at = times.cutoff_at(shift)
        if assignment.answer is None and now >= cutoff_at:
            # Only those who had the question before the cut-off: someone put on (or moved) later was not.
            moved = await _moved_at(db, shift)
            asked = max(due, seat.assigned_at, moved or due)
            key = cause(shift, NO_ANSWER, assignment.id)
            if asked < cutoff_at and not await _queued(db, key):
                queued += await model.alert_coordinator(
                    db, now, self.i18n, shift, cause=key, key="shifts.reminder.no_answer", who=assignment
                )
        return queued

    async def hold(self, row: Row, now: datetime) -> Hold | None:
        """Drop a reminder, nudge or alert whose shift started, was cancelled or moved, or whose seat was freed."""
        found = _CAUSE.match(row.cause)
        if found is None:
            return None
        shift_id, version, kind, assignment_id = int(found[1]), int(found[2]), found[3], int(found[4])
        async with self.store.transaction() as db:
            shift = await model.get_shift(db, shift_id)
            assignment = await model.get_assignment(db, assignment_id)
        reason = _pointless(shift, version, kind, assignment, now)
        if reason is None:
            return None
        log.info("shift %s: %s not sent (%s)", shift_id, kind, reason)
        return Hold(status="skipped", reason=reason)


def _pointless(
    shift: Shift | None, version: int, kind: str, assignment: Assignment | None, now: datetime
) -> str | None:
    if shift is None:
        return "shift gone"
    if shift.cancelled:
        return "shift cancelled"
    if shift.version != version:
        return "shift moved"
    if shift.starts_at <= now:
        return "shift started"
    if assignment is None or not assignment.live:
        return "seat released"
    if kind == NUDGE and assignment.answer != "yes":
        return "not confirmed"
    if kind in (REMINDER, NO_ANSWER) and assignment.answer is not None:
        return "already answered"
    return None


def factory(store: Store, clock: Clock, settings: Settings) -> ShiftReminders:
    return ShiftReminders(store, clock, settings)


router.configured_outbox_hook(factory)
