"""Reminders of the volunteer meeting and notices of its changes, as outbox rows.

Reminders are data: the running outbox ticks this hook about every second; when a reminder's local
hour has come (MEETING_REMINDER_DAY_BEFORE_AT the day before, MEETING_REMINDER_SAME_DAY_AT on the
day) and it is still useful, one row per volunteer is queued with the cause
``permanence:<meeting>:<slot>``. The outbox's unique (cause, channel, address) and a check on the
person make each reminder go once, after a restart too. Just before a row is sent, :meth:`hold`
drops it if it became pointless: the meeting was cancelled or moved, its time has passed, or the
person withdrew or said STOP RAPPELS. A cancelled or moved meeting sends one notice instead
(``permanence:<meeting>:notice:<when>``), and a new reference that moves the coming dates one notice
of the new dates (``permanence:dates:notice:<reference>:<when>``): one cause per change and person,
so a change is told once, and a later change of the same meeting is told too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bot import outbox as ob
from bot.clock import Clock, iso
from bot.config import Settings
from bot.i18n import I18n
from bot.outbox import Hold, Outbox, Row
from bot.store import Store
from handlers.volunteers import calendar, texts
from handlers.volunteers.calendar import Meeting

log = logging.getLogger(__name__)

PREFIX = "permanence:"
DAY_BEFORE = "day_before"
SAME_DAY = "same_day"
NOTICE = "notice"
DATES = "dates"  # in place of a meeting's key: the notice of a new rhythm
SLOTS = (DAY_BEFORE, SAME_DAY)

# Who hears about the meeting: signed up, agreed to be contacted, no STOP RAPPELS, reachable somewhere
# (as bot.outbox.REACHABLE_SQL: on WhatsApp once the person wrote there).
RECIPIENTS = (
    "SELECT s.person_id FROM volunteer_signups s WHERE s.consent = 1 AND s.reminders = 1"
    " AND EXISTS (SELECT 1 FROM identities i WHERE i.person_id = s.person_id"
    " AND i.channel IN ('sms', 'telegram', 'whatsapp') AND i.opted_out_at IS NULL AND i.unreachable_at IS NULL"
    " AND (i.channel != 'whatsapp' OR i.opted_in_at IS NOT NULL))"
)
COUNT_RECIPIENTS = (
    "SELECT COUNT(*) FROM volunteer_signups s WHERE s.consent = 1 AND s.reminders = 1"
    " AND EXISTS (SELECT 1 FROM identities i WHERE i.person_id = s.person_id"
    " AND i.channel IN ('sms', 'telegram', 'whatsapp') AND i.opted_out_at IS NULL AND i.unreachable_at IS NULL"
    " AND (i.channel != 'whatsapp' OR i.opted_in_at IS NOT NULL))"
)
# The same people, less those this cause already reached or who signed up after its hour.
NOT_REMINDED = (
    "SELECT s.person_id FROM volunteer_signups s WHERE s.consent = 1 AND s.reminders = 1"
    " AND EXISTS (SELECT 1 FROM identities i WHERE i.person_id = s.person_id"
    " AND i.channel IN ('sms', 'telegram', 'whatsapp') AND i.opted_out_at IS NULL AND i.unreachable_at IS NULL"
    " AND (i.channel != 'whatsapp' OR i.opted_in_at IS NOT NULL)) AND s.created_at <= ?"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.cause = ? AND o.person_id = s.person_id)"
)


def cause(meeting: Meeting, slot: str) -> str:
    return f"{PREFIX}{meeting.key}:{slot}"


def stamp(now: datetime) -> str:
    """The change's instant in a cause (no colon: the cause's parts are separated by colons)."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")


class Times:
    """The local hours of the two reminders, from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.tz: ZoneInfo = settings.tz
        self.day_before = time.fromisoformat(settings.meeting_reminder_day_before_at)
        self.same_day = time.fromisoformat(settings.meeting_reminder_same_day_at)

    def window(self, meeting: Meeting, slot: str) -> tuple[datetime, datetime]:
        """When a reminder becomes due, and when it stops being worth sending (the next one, or the start)."""
        same_day = calendar.local(meeting.day, self.same_day, self.tz)
        if slot == DAY_BEFORE:
            due = calendar.local(meeting.day - timedelta(days=1), self.day_before, self.tz)
            return due, min(same_day, meeting.starts)
        return same_day, meeting.starts


async def language_of(db: aiosqlite.Connection, i18n: I18n, person_id: int) -> str:
    async with db.execute("SELECT language FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    language = row[0] if row else None
    return language if language in i18n.catalogs else i18n.default_language


async def tell(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    person_id: int,
    cause: str,
    text_of: Callable[[str], str],
    due: datetime,
    about: int | None = None,
) -> int:
    """Queue one text, written in the person's own language, on their preferred channel.

    ``about``: the person the text names (a new volunteer told to staff), whose erasure neutralises it.
    """
    language = await language_of(db, i18n, person_id)
    return await ob.enqueue_for_person(
        db,
        now,
        i18n,
        person_id,
        cause=cause,
        key="volunteers.message",
        params={"text": text_of(language)},
        due_at=due,
        about=about,
    )


class TextOf:
    """A message to render in each recipient's language."""

    def __init__(self, i18n: I18n, key: str, meeting: Meeting) -> None:
        self.i18n = i18n
        self.key = key
        self.meeting = meeting

    def __call__(self, language: str) -> str:
        i18n, meeting = self.i18n, self.meeting
        if self.key == NOTICE:
            return i18n.t(language, "volunteers.notice", change=texts.change(i18n, language, meeting))
        return i18n.t(
            language,
            f"volunteers.reminder_{self.key}",
            when=(
                texts.when(i18n, language, meeting)
                if self.key == DAY_BEFORE
                else texts.hours_text(i18n, language, meeting)
            ),
            place=i18n.t(language, "volunteers.place"),
            note=texts.note(i18n, language, meeting),
        )


async def queue_notices(db: aiosqlite.Connection, now: datetime, i18n: I18n, meeting: Meeting) -> int:
    """Inside the staff's change: the one notice of a cancelled or moved meeting; its reminders will not go."""
    for slot in SLOTS:
        await ob.cancel_cause(db, now, cause(meeting, slot))
    async with db.execute(RECIPIENTS) as cursor:
        people = [row[0] for row in await cursor.fetchall()]
    text_of = TextOf(i18n, NOTICE, meeting)
    key = f"{cause(meeting, NOTICE)}:{stamp(now)}"
    return sum([await tell(db, now, i18n, person, key, text_of, now) for person in people])


async def queue_dates_notice(
    db: aiosqlite.Connection, now: datetime, i18n: I18n, reference: date, meetings: list[Meeting]
) -> int:
    """Inside a new reference's transaction: the coming dates, to each volunteer who gets reminders."""
    async with db.execute(RECIPIENTS) as cursor:
        people = [row[0] for row in await cursor.fetchall()]

    def text_of(language: str) -> str:
        return i18n.t(language, "volunteers.notice_dates", dates=texts.dates_text(i18n, language, meetings))

    key = f"{PREFIX}{DATES}:{NOTICE}:{reference.isoformat()}:{stamp(now)}"
    return sum([await tell(db, now, i18n, person, key, text_of, now) for person in people])


class MeetingReminders:
    """The outbox hook (``Router.configured_outbox_hook``): queues reminders when due, drops pointless ones."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.times = Times(settings)
        self.i18n = catalogs(settings.default_language, settings.locales_dir, settings.languages)

    async def tick(self, outbox: Outbox) -> None:
        if await self.queue_due(self.clock.now()):
            outbox.wake()

    async def queue_due(self, now: datetime) -> int:
        """Queue every reminder whose hour has come and that is still useful; how many rows were queued.

        It only reads (no write lock, so a busy database never stalls the bot here) until there is
        someone to remind; then one transaction queues them.
        """
        tz = self.times.tz
        today = now.astimezone(tz).date()
        queued = 0
        for meeting in await calendar.between(self.store, tz, today, today + timedelta(days=1)):
            if not meeting.live or meeting.starts <= now:
                continue
            for slot in SLOTS:
                due, until = self.times.window(meeting, slot)
                if not due <= now < until:
                    continue
                if meeting.created_at is not None and meeting.created_at > iso(due):
                    continue  # added or moved after this hour: staff's change was the news
                key = cause(meeting, slot)
                # Once per person whatever their channels; someone who signed up after the hour was just told.
                people = [row[0] for row in await self.store.fetchall(NOT_REMINDED, (iso(due), key))]
                if not people:
                    continue
                text_of = TextOf(self.i18n, slot, meeting)
                async with self.store.transaction() as db:
                    for person in people:
                        queued += await tell(db, now, self.i18n, person, key, text_of, due)
        if queued:
            log.info("queued %d volunteer meeting reminders", queued)
        return queued

    async def hold(self, row: Row, now: datetime) -> Hold | None:
        if not row.cause.startswith(PREFIX) or row.person_id is None:
            return None
        parts = row.cause.split(":")
        _, key, slot, reference = [*parts, "", "", ""][:4]
        signup = await self.store.fetchone(
            "SELECT 1 FROM volunteer_signups WHERE person_id = ? AND consent = 1 AND reminders = 1", (row.person_id,)
        )
        if signup is None:
            return Hold(status="skipped", reason="no longer wanted")
        if key == DATES:
            current = await calendar.reference(self.store)
            if current is None or current.isoformat() != reference:
                return Hold(status="skipped", reason="dates changed again")
            return None
        meeting = await calendar.find(self.store, self.times.tz, key)
        if meeting is None:
            return Hold(status="skipped", reason="meeting gone")
        if slot in SLOTS:
            if meeting.cancelled:
                return Hold(status="skipped", reason="meeting cancelled or moved")
            if now >= self.times.window(meeting, slot)[1]:
                return Hold(status="skipped", reason="too late")
        elif slot == NOTICE and now >= (meeting.moved_to or meeting).starts:
            return Hold(status="skipped", reason="meeting passed")
        return None


@functools.lru_cache(maxsize=4)
def catalogs(default_language: str, locales_dir: Path, languages: tuple[str, ...]) -> I18n:
    """The texts, read once per process: the hook runs outside any conversation (and the start stays quick)."""
    return I18n(default_language, locales_dir, languages=languages)


def factory(store: Store, clock: Clock, settings: Settings) -> MeetingReminders:
    return MeetingReminders(store, clock, settings)
