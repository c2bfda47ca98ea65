"""Builds the :class:`~bot.core.Core` and runs it: store -> scheduler -> outbox -> channels; stops in reverse."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import uvicorn

from bot import demo
from bot.channels.console import ConsoleChannel, can_converse
from bot.channels.demo import Terminal, demo_senders, terminal_sender
from bot.channels.http import build_http_app
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.dispatch import Dispatcher, Router
from bot.i18n import I18n
from bot.outbox import Outbox, set_channel_order
from bot.scheduler import Scheduler
from bot.startup import ensure_free_space, instance_lock, listen, storage_problem
from bot.store import Store
from handlers import registry

log = logging.getLogger(__name__)


def feature_routers() -> list[Router]:
    """The one place the engine reaches the features: their registry."""
    return registry.routers()


async def build_core(settings: Settings, clock: Clock | None = None, routers: list[Router] | None = None) -> Core:
    """Open the store (migrations applied), seed demo data when asked, and wire the dispatcher."""
    if routers is None:
        routers = feature_routers()
    clock = clock or SystemClock()
    store = Store(settings.database_path)
    try:
        await store.open()
        i18n = I18n.configured(settings)
        for router in routers:
            for task in router.startup:
                await task(store, clock.now())
        if settings.seed_demo and await demo.seed(store, clock.now(), routers, i18n):
            log.info("demo data seeded")
        set_channel_order(settings.channel_order)
        hooks = [h for r in routers for h in r.make_outbox_hooks(store, clock, settings)]
        outbox = Outbox(store, clock, hooks=hooks, i18n=i18n)
        dispatcher = Dispatcher(store, clock, settings, i18n, routers, outbox, text_order=registry.TEXT_ORDER)
        scheduler = Scheduler(store, clock, settings)
    except BaseException:
        await store.close()
        raise
    return Core(settings, clock, store, i18n, dispatcher, scheduler, outbox, routers)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``run`` stops every part itself, in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def open_core(settings: Settings) -> Core:
    """:func:`build_core`, then a write that proves the database is writable now, not at the first message.

    A database SQLite cannot use (read-only, a full disk, not a database) is one line naming the
    file and what to do (:class:`StartupError`), not a traceback.
    """
    where = Path(settings.database_path)
    try:
        core = await build_core(settings)
    except sqlite3.Error as exc:
        raise storage_problem(where, exc) from None
    try:
        # A read-only WAL database opens and reads fine: only a write tells.
        await core.store.execute("UPDATE schema_migrations SET version = version WHERE 0")
    except sqlite3.Error as exc:
        await core.close()
        raise storage_problem(where, exc) from None
    return core


async def run(settings: Settings, stdin: TextIO | None = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """``voisins run``: every configured channel, the HTTP server and the scheduler until stopped.

    The database's lock comes first (one bot per database, before the outbox recovers anything),
    then the HTTP port, then the store: whatever is wrong stops the start with one line
    (:class:`StartupError`). SIGINT and SIGTERM (or the end of the terminal conversation) stop the
    channels first, then the scheduler, then the store, so nothing is cut in the middle of a transaction.
    """
    database = Path(settings.database_path)
    with instance_lock(database):
        ensure_free_space(database)
        sock = listen(settings.http_host, settings.http_port)
        try:
            await _run(settings, sock, stdin, stdout)
        finally:
            sock.close()


async def _run(settings: Settings, sock: socket.socket, stdin: TextIO | None, stdout: TextIO) -> None:
    # Imported here on purpose: twilio and python-telegram-bot take a good part of a second each to
    # import, so only a configured channel loads its library (and `voisins chat` loads neither).
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel, TelegramSender
    if settings.sms_enabled:
        from bot.channels.sms import SmsSender
    if settings.whatsapp_enabled:
        from bot.channels.whatsapp import WhatsAppSender, message_kinds

    converse = settings.console_only and can_converse(stdin)
    terminal = Terminal(stdout)  # shared by the conversation and the demo deliveries: blocks never cut a line
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        core = await open_core(settings)
    except BaseException:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        raise
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
        if settings.whatsapp_enabled:
            core.outbox.add_sender(WhatsAppSender(settings, core.store, core.clock, message_kinds(core.routers)))
        if settings.demo_delivers:
            pretending = demo_senders(settings, core.store, core.i18n, terminal)
            for sender in pretending:
                core.outbox.add_sender(sender)
            if not settings.console_only:
                log.warning(
                    "DEMO_DELIVERY is on: %s messages are shown on standard output and recorded as sent, none leaves",
                    " and ".join(sender.channel.value for sender in pretending),
                )
        if converse:
            core.outbox.add_sender(terminal_sender(core.store, core.i18n, terminal))
        await core.outbox.start()
        config = uvicorn.Config(
            build_http_app(core, telegram),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        waiting.append(serving)
        if converse:
            terminal.write(core.i18n.t(core.i18n.default_language, "core.console_banner") + "\n")
            if settings.demo_delivers:
                terminal.write(core.i18n.t(core.i18n.default_language, "demo.banner") + "\n")
            conversation = ConsoleChannel(core.dispatcher).run(stdin or sys.stdin, terminal.text_io())
            waiting.append(asyncio.create_task(conversation))
        elif settings.console_only:
            log.info(
                "standard input is not a terminal: running without the terminal conversation, "
                "HTTP on %s:%s (/healthz), until SIGTERM",
                settings.http_host,
                settings.http_port,
            )
        else:
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
    if settings.whatsapp_enabled:
        names.append("whatsapp")
    if settings.voice_on:
        names.append("voice")
    return names
