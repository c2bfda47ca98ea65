"""What the running bot does for broadcasts, as an outbox hook (``router.configured_outbox_hook``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso
from bot.i18n import I18n
from bot.messages import Channel
from bot.outbox import Hold, Outbox, Row
from bot.store import Store
from handlers.broadcast.audience import QuietHours
from handlers.broadcast.queue import FINISHED, cause_id, expand, forget_drafts, mark_done
from handlers.broadcast.report import ProgressMessages, report

log = logging.getLogger(__name__)

CLEANUP_SECONDS = 3600.0  # old drafts are looked for once an hour


class BroadcastDriver:
    """Holds broadcast SMS in quiet hours and finishes what a confirmation started.

    ``hold``: a broadcast SMS claimed inside quiet hours waits for their end (its siblings with it),
    unless the broadcast is urgent; a row of a cancelled broadcast (a retry that came back after the
    cancel) is never sent. ``tick``: queue what a crash or the command line left unqueued, mark
    finished broadcasts done, and edit each Telegram progress message in place.
    """

    def __init__(self, store: Store, clock: Clock, i18n: I18n) -> None:
        self.store = store
        self.clock = clock
        self.progress = ProgressMessages(store, i18n)
        self._last_cleanup = 0.0

    async def hold(self, row: Row, now: datetime) -> Hold | None:
        broadcast_id = cause_id(row.cause)
        if broadcast_id is None:
            return None
        found = await self.store.fetchone(
            "SELECT status, urgent, quiet_hours, timezone FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        if found is None or found["status"] == "cancelled":
            return Hold(status="cancelled", reason="broadcast cancelled")
        if row.channel is not Channel.SMS or found["urgent"]:
            return None
        quiet = QuietHours.parse(found["quiet_hours"])
        until = quiet.until(now, ZoneInfo(found["timezone"])) if quiet else None
        if until is None:
            return None
        moved = await self.store.execute(
            "UPDATE outbox SET due_at = ?, updated_at = ? WHERE cause = ? AND channel = 'sms' AND status = 'pending'"
            " AND due_at < ?",
            (iso(until), iso(now), row.cause, iso(until)),
        )
        log.info("broadcast %s: quiet hours, %d SMS wait until %s", broadcast_id, moved + 1, iso(until))
        return Hold(until=until)

    async def tick(self, outbox: Outbox) -> None:
        now = self.clock.now()
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_cleanup > CLEANUP_SECONDS:
            self._last_cleanup = loop.time()
            await forget_drafts(self.store, now)
        rows = await self.store.fetchall(
            "SELECT id, status, progress_chat IS NOT NULL AND progress_final = 0 AS progress FROM broadcasts"
            " WHERE status IN ('confirmed', 'sending') OR (progress_chat IS NOT NULL AND progress_final = 0"
            " AND status IN ('done', 'cancelled'))"
        )
        for row in rows:
            broadcast_id, status = row["id"], row["status"]
            if status == "confirmed":
                await expand(self.store, self.clock, broadcast_id, budget=0.5)
                outbox.wake()
            elif status == "sending" and await mark_done(self.store, now, broadcast_id):
                status = "done"
            if not row["progress"]:
                continue
            if self.progress.due(broadcast_id) or status in FINISHED:
                current = await report(self.store, now, broadcast_id)
                if current is not None:
                    await self.progress.show(outbox, current, now)
