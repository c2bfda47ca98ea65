"""Builds everything and runs it: store -> scheduler -> channels; stops in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

import uvicorn

from bot import demo
from bot.clock import Clock, SystemClock, iso
from bot.config import Settings
from bot.dispatch import Dispatcher, Router
from bot.i18n import I18n
from bot.messages import Channel
from bot.outbox import Outbox
from bot.scheduler import Scheduler
from bot.store import Store

log = logging.getLogger(__name__)


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


def feature_routers() -> list[Router]:
    """The one place the engine reaches the features: their registry."""
    from handlers.registry import routers

    return routers()


async def build_core(settings: Settings, clock: Clock | None = None, routers: list[Router] | None = None) -> Core:
    """Open the store (migrations applied), seed demo data when asked, and wire the dispatcher."""
    if routers is None:
        routers = feature_routers()
    clock = clock or SystemClock()
    store = Store(settings.database_path)
    await store.open()
    try:
        i18n = I18n(settings.default_language)
        if settings.seed_demo and await demo.seed(store, clock.now(), routers):
            log.info("demo data seeded")
        outbox = Outbox(store, clock, hooks=[h for r in routers for h in r.make_outbox_hooks(store, clock, settings)])
        dispatcher = Dispatcher(store, clock, settings, i18n, routers, outbox)
        scheduler = Scheduler(store, clock, settings)
    except BaseException:
        await store.close()
        raise
    return Core(settings, clock, store, i18n, dispatcher, scheduler, outbox, routers)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``run`` stops every part itself, in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """``voisins run``: every configured channel, the HTTP server and the scheduler until stopped.

    SIGINT and SIGTERM (or the end of the terminal conversation) stop the channels first, then
    the scheduler, then the store, so nothing is cut in the middle of a transaction.
    """
    from bot.channels.console import ConsoleChannel
    from bot.channels.http import build_http_app
    from bot.channels.sms import SmsSender
    from bot.channels.telegram import TelegramChannel, TelegramSender

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    core = await build_core(settings)
    telegram = TelegramChannel(core) if settings.telegram_enabled else None
    server: uvicorn.Server | None = None
    serving: asyncio.Task[object] | None = None
    waiting: list[asyncio.Task[object]] = [asyncio.create_task(stopping.wait())]
    try:
        core.scheduler.start()
        if telegram is not None:
            await telegram.start()
            core.outbox.add_sender(TelegramSender(telegram.application.bot, settings.telegram_max_per_second))
        if settings.sms_enabled:
            core.outbox.add_sender(SmsSender(settings))
        await core.outbox.start()
        if settings.console_only and not _port_free(settings.http_host, settings.http_port):
            log.warning("port %s is busy: no HTTP server (only /healthz would be there)", settings.http_port)
        else:
            config = uvicorn.Config(
                build_http_app(core, telegram),
                host=settings.http_host,
                port=settings.http_port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
            server = _Server(config)
            serving = asyncio.create_task(server.serve())
            waiting.append(serving)
        if settings.console_only:
            stdout.write(core.i18n.t(core.i18n.default_language, "core.console_banner") + "\n")
            waiting.append(asyncio.create_task(ConsoleChannel(core.dispatcher).run(stdin, stdout)))
        log.info("running: %s", ", ".join(_channels(settings)))
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a server that could not start raises here
    finally:
        for task in waiting:
            if task is not serving:
                task.cancel()
        if server is not None:
            server.should_exit = True
        await asyncio.gather(*waiting, return_exceptions=True)
        await core.outbox.stop()
        if telegram is not None:
            await telegram.stop()
        await core.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _channels(settings: Settings) -> list[str]:
    names = []
    if settings.telegram_enabled:
        names.append(f"telegram ({settings.telegram_mode})")
    if settings.sms_enabled:
        names.append("sms")
    if settings.console_only:
        names.append("terminal")
    return names
