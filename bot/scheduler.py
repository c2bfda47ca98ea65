"""APScheduler: the ticks that do timed work. Jobs are code; what is due is data in the store.

Calendar schedules use calendar triggers (``CronTrigger``) in ``TIMEZONE`` so local hours stay
local hours across daylight-saving changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock, iso
from bot.config import Settings
from bot.store import Store

log = logging.getLogger(__name__)

# Twilio retries a webhook within minutes; a week of MessageSids is plenty to answer each once.
INBOUND_KEPT = timedelta(days=7)


class Scheduler:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.scheduler = AsyncIOScheduler(
            timezone=settings.tz, job_defaults={"misfire_grace_time": 3600, "coalesce": True}
        )
        self.add_cron(self.purge_inbound_seen, "core.purge_inbound_seen", hour=4, minute=0)

    def add_cron(self, job: Callable[[], Awaitable[object]], job_id: str, **fields: object) -> None:
        self.scheduler.add_job(
            job,
            CronTrigger(timezone=self.settings.tz, **fields),
            id=job_id,
            replace_existing=True,
        )

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def purge_inbound_seen(self) -> int:
        """Forget old message ids: they only serve to answer a retried webhook once."""
        cutoff = iso(self.clock.now() - INBOUND_KEPT)
        removed = await self.store.execute("DELETE FROM inbound_seen WHERE received_at < ?", (cutoff,))
        log.info("purged %d old inbound message ids", removed)
        return removed
