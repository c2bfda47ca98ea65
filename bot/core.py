"""The :class:`Core` every channel and web route is given: the parts the bot runs on, already built.

Its own module so that the channels and the features' routes can name it without importing
:mod:`bot.app`, which builds the core and starts the channels: this module imports no channel and
no feature, and :mod:`bot.app` imports the channels at module level without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock, iso
from bot.config import Settings
from bot.dispatch import Dispatcher, Router
from bot.i18n import I18n
from bot.messages import Channel
from bot.outbox import Outbox
from bot.scheduler import Scheduler
from bot.store import Store


@dataclass
class Core:
    """What every channel shares: one store, one dispatcher, one scheduler."""

    settings: Settings
    clock: Clock
    store: Store
    i18n: I18n
    dispatcher: Dispatcher
    scheduler: Scheduler
    outbox: Outbox
    routers: list[Router] = field(default_factory=list)

    async def answered(self, channel: Channel, message_id: str) -> bool:
        """True when this message id was handled to the end already (a retried webhook or update)."""
        row = await self.store.fetchone(
            "SELECT 1 FROM inbound_seen WHERE channel = ? AND message_id = ?", (channel.value, message_id)
        )
        return row is not None

    async def seen(self, channel: Channel, message_id: str) -> bool:
        """Record a message id once it is handled; True when it was already there.

        Recorded after the handling, not before: a crash in between must let the retry be handled
        (an OUI to a payment is idempotent), never answer it with nothing and drop it.
        """
        changed = await self.store.execute(
            "INSERT OR IGNORE INTO inbound_seen (channel, message_id, received_at) VALUES (?, ?, ?)",
            (channel.value, message_id, iso(self.clock.now())),
        )
        return changed == 0

    async def close(self) -> None:
        self.scheduler.stop()
        await self.outbox.stop()
        await self.store.close()
