"""The weekly notice to staff of the places not verified for over six months.

Data, never a timer: the running outbox ticks this hook; on Monday from 09:00 (Paris time) each staff
member gets one notice a week, its cause naming the ISO week and the person (``places:stale:2026-W49:7``),
so a restart sends nothing twice, and a bot started later that Monday still sends it. No stale place,
no notice. The notice fits two SMS segments: the oldest places first, then how many more.
"""

from __future__ import annotations

from datetime import datetime, time

from bot import outbox as ob
from bot import people
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import I18n
from bot.outbox import Hold, Outbox, Row
from bot.sms_text import over_a_page
from bot.store import Store
from handlers.orientation import directory

NOTICE_WEEKDAY = 0  # Monday
NOTICE_AT = time(9, 0)
CAUSE = "places:stale"


def cause(now_local: datetime, person_id: int) -> str:
    year, week, _ = now_local.isocalendar()
    return f"{CAUSE}:{year}-W{week:02d}:{person_id}"


def due(now_local: datetime) -> bool:
    """On Monday from 09:00: a bot that was down all Monday skips that week rather than surprise staff
    on another day."""
    return now_local.weekday() == NOTICE_WEEKDAY and now_local.time() >= NOTICE_AT


def text(i18n: I18n, language: str, stale: list[directory.Stored]) -> dict[str, object]:
    """The notice's parameters: as many of the oldest places as one SMS page holds, then "+N more"."""
    lines: list[str] = []
    for shown, place in enumerate(stale):
        date = i18n.t(language, "orientation.date", month=place.verified_on.month, year=place.verified_on.year)
        line = i18n.t(language, "places.stale_item", name=place.place.short_name, place=place.place.key, date=date)
        left = len(stale) - shown - 1
        more = i18n.t(language, "places.stale_more", count=left) if left else ""
        candidate = {"count": len(stale), "items": "\n".join([*lines, line]), "more": more}
        if lines and over_a_page(i18n.t(language, "places.stale_notice", **candidate)):
            break
        lines.append(line)
    left = len(stale) - len(lines)
    more = i18n.t(language, "places.stale_more", count=left) if left else ""
    return {"count": len(stale), "items": "\n".join(lines), "more": more}


class StaleNotice:
    """The outbox hook (``Router.configured_outbox_hook``): queues the week's notice when due."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.tz = settings.tz
        self.i18n = I18n.configured(settings)
        self._scanned: str | None = None  # the minute last scanned: at most one scan a minute

    async def tick(self, outbox: Outbox) -> None:
        now = self.clock.now()
        minute = now.strftime("%Y-%m-%dT%H:%M")
        if self._scanned == minute:
            return
        self._scanned = minute
        if await self.queue_due(now):
            outbox.wake()

    async def queue_due(self, now: datetime) -> int:
        """Queue this week's notice for each staff member who has not had it; how many rows were queued."""
        local = now.astimezone(self.tz)
        if not due(local):
            return 0
        queued = 0
        async with self.store.transaction() as db:
            waiting = []
            for person_id in await people.staff_ids(db):
                async with db.execute("SELECT 1 FROM outbox WHERE cause = ? LIMIT 1", (cause(local, person_id),)) as c:
                    if await c.fetchone() is None:
                        waiting.append(person_id)
            if not waiting:
                return 0
            stale = await directory.stale(db, local.date())
            if not stale:
                return 0
            for person_id in waiting:
                person = await people.get_person(db, person_id)
                language = person.language if person.language in self.i18n.catalogs else self.i18n.default_language
                queued += await ob.enqueue_for_person(
                    db,
                    now,
                    self.i18n,
                    person_id,
                    cause=cause(local, person_id),
                    key="places.stale_notice",
                    params=text(self.i18n, language, stale),
                )
        return queued

    async def hold(self, row: Row, now: datetime) -> Hold | None:
        return None


def factory(store: Store, clock: Clock, settings: Settings) -> StaleNotice:
    return StaleNotice(store, clock, settings)
