"""Shared fixtures: a bot on a temporary database with a fake clock, and ``talk`` over every channel.

``talk`` is parametrised: the same test runs in the terminal, over SMS and WhatsApp (real signed
HTTP webhooks to the Starlette app under uvicorn) and over Telegram (the real python-telegram-bot Application
polling a fake Bot API server on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram import Update
from telegram.ext import ContextTypes
from telegram.request import HTTPXRequest

from bot.app import build_core
from bot.channels.console import ConsoleChannel
from bot.channels.http import build_http_app
from bot.channels.telegram import TelegramChannel
from bot.clock import Clock, FakeClock
from bot.config import Settings
from bot.core import Core
from bot.dispatch import Router
from bot.messages import Channel, Inbound, Location, Reply
from bot.store import Store
from bot.text import fold
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

PARIS = ZoneInfo("Europe/Paris")
# A Wednesday morning, in Paris time.
START = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)
CHANNELS = ["console", "sms", "telegram", "whatsapp"]
# Seconds a test waits for something that must happen (a process answering, a message arriving, a
# worker finishing) before it fails. Generous: CI may run on a loaded machine, where a start-up that
# takes 2 s alone can take a minute. A passing test never waits it out: it waits for the event.
PATIENCE = 180.0
T = TypeVar("T", bound="Talk")
STORE_FILE = "store.db"  # the ``store`` fixture's file in ``tmp_path``, for a command run on the same database


async def eventually(
    check: Callable[[], object | Awaitable[object]],
    timeout: float = PATIENCE,  # noqa: ASYNC109 (a bound on the wait, not a pause)
    what: str = "",
) -> None:
    """Poll ``check`` (sync or async) until it returns something true: wait for an event, never a fixed time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout:.0f} s: {what or getattr(check, '__name__', check)}")
        await asyncio.sleep(0.05)


def patient_request(connections: int = 1) -> HTTPXRequest:
    """PTB's HTTP client for a test's senders: a fake slow to answer on a busy machine is waited for.

    With PTB's 5 s default, a request the fake took but answered late is retried and the person
    gets the message twice.
    """
    return HTTPXRequest(
        connection_pool_size=connections,
        connect_timeout=PATIENCE,
        read_timeout=PATIENCE,
        write_timeout=PATIENCE,
        pool_timeout=PATIENCE,
    )


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings that read no .env: SMS on (signed for PUBLIC_URL), demo data seeded."""
    values: dict[str, object] = {
        "database_path": tmp_path / "bot.db",
        "demo_data": True,
        "public_url": tw.PUBLIC_URL,
        "twilio_account_sid": tw.ACCOUNT_SID,
        "twilio_auth_token": tw.AUTH_TOKEN,
        "twilio_from_number": tw.BOT_NUMBER,
        "twilio_whatsapp_from": tw.WHATSAPP_NUMBER,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def telegram_settings(tmp_path: Path, fake: FakeTelegram, **overrides: object) -> Settings:
    """:func:`make_settings` with Telegram on, talking to the fake Bot API server."""
    return make_settings(tmp_path, telegram_bot_token=fake.token, telegram_api_url=fake.url, **overrides)


@contextlib.asynccontextmanager
async def opened_store(path: Path) -> AsyncIterator[Store]:
    """The database at ``path`` (migrated), closed on the way out: an open connection keeps the process alive."""
    store = Store(path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def opened_core(settings: Settings, clock: Clock, routers: list[Router] | None = None) -> AsyncIterator[Core]:
    """A core built by ``build_core`` (every feature's routers unless ``routers`` is given), closed on the way out."""
    built = await build_core(settings, clock, routers)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def core(settings: Settings, clock: FakeClock) -> AsyncIterator[Core]:
    async with opened_core(settings, clock) as built:
        yield built


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A bare database (migrations applied, no demo data) for tests without a bot; a command may share its file."""
    async with opened_store(tmp_path / STORE_FILE) as opened:
        yield opened


@dataclass
class Said:
    """What one person saw after one message: every message's text and its buttons or numbered lines."""

    texts: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.texts + self.buttons)

    def has(self, *fragments: str) -> bool:
        """True when every fragment is there, ignoring case, accents and punctuation."""
        folded = fold(self.text)
        return all(fold(fragment) in folded for fragment in fragments)

    @property
    def code(self) -> str | None:
        """The possession code an SMS confirmation prompt asks to type back ("répondez OUI 4721")."""
        found = re.search(r"\b(?:OUI|YES)\s+(\d{4})\b", self.text)
        return found.group(1) if found else None

    @classmethod
    def of(cls, replies: list[Reply]) -> Said:
        said = cls()
        for reply in replies:
            said.texts.append(reply.shown)
            said.buttons.extend(f"{i} {c.label}" for i, c in enumerate(reply.choices, start=1))
        return said


class Talk:
    """One channel's way of letting a test speak as a person; ``who`` names the person."""

    channel = ""
    supports_location = True

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.settings = settings
        self.clock = clock
        self.core: Core
        self._addresses: dict[str, str] = {}

    def address(self, who: str) -> str:
        raise NotImplementedError

    async def start(self) -> None:
        self.core = await build_core(self.settings, self.clock)

    async def stop(self) -> None:
        await self.core.close()

    async def restart(self) -> None:
        """Stop everything and start again on the same database, as after a crash or a deploy."""
        await self.stop()
        await self.start()

    async def __call__(self, text: str, who: str = "alice") -> Said:
        raise NotImplementedError

    async def choose(self, number: int, who: str = "alice") -> Said:
        """Pick the n-th choice of the last menu, as the person would on this channel."""
        return await self(str(number), who)

    async def confirm(self, prompt: Said, who: str = "alice", word: str = "OUI") -> Said:
        """Answer a confirmation prompt as its real owner would: with its SMS code when it shows one."""
        code = prompt.code
        return await self(f"{word} {code}" if code else word, who)

    async def location(self, latitude: float, longitude: float, who: str = "alice") -> Said:
        raise NotImplementedError

    async def press(self, data: str, who: str = "alice") -> Said:
        """Send a button's data as if pressed, even one never shown (a forged Telegram callback)."""
        inbound = Inbound(self.identity_channel, self.address(who), choice=data)
        return Said.of(await self.core.dispatcher.handle(inbound))

    def recipient(self, who: str) -> str:
        """The address the fake Twilio records a message to ``who`` under (``whatsapp:+33...`` on WhatsApp)."""
        return f"whatsapp:{self.address(who)}" if self.channel == "whatsapp" else self.address(who)

    @property
    def buttons(self) -> bool:
        """Telegram and the terminal show choices apart; SMS and WhatsApp number them in the text."""
        return self.channel in ("telegram", "console")

    @property
    def paged(self) -> bool:
        """SMS and WhatsApp answers are one message, the rest waiting for SUITE."""
        return self.channel in ("sms", "whatsapp")

    @property
    def identity_channel(self) -> Channel:
        return Channel.CONSOLE if self.channel == "console" else Channel(self.channel)


class ConsoleTalk(Talk):
    channel = "console"

    def address(self, who: str) -> str:
        return f"terminal-{who}"

    async def __call__(self, text: str, who: str = "alice") -> Said:
        person = ConsoleChannel(self.core.dispatcher)
        person.address = self.address(who)
        return Said.of(await person.say(text))

    async def location(self, latitude: float, longitude: float, who: str = "alice") -> Said:
        inbound = Inbound(Channel.CONSOLE, self.address(who), location=Location(latitude, longitude))
        return Said.of(await self.core.dispatcher.handle(inbound))


class SmsTalk(Talk):
    channel = "sms"
    supports_location = False  # an SMS cannot carry a position
    _numbers = itertools.count(100)

    def address(self, who: str) -> str:
        if who not in self._addresses:
            self._addresses[who] = f"+336399{next(self._numbers):05d}"
        return self._addresses[who]

    async def start(self) -> None:
        await super().start()
        self._serving = serve(build_http_app(self.core))
        self.url = await self._serving.__aenter__()
        self.client = httpx.AsyncClient(timeout=PATIENCE)

    async def stop(self) -> None:
        await self.client.aclose()
        await self._serving.__aexit__(None, None, None)
        await super().stop()

    async def __call__(self, text: str, who: str = "alice") -> Said:
        response = await tw.post_sms(self.client, self.url, tw.sms_params(self.address(who), text))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return Said(texts=tw.messages(response.text))

    async def location(self, latitude: float, longitude: float, who: str = "alice") -> Said:
        pytest.skip("SMS carries no location")

    async def press(self, data: str, who: str = "alice") -> Said:
        pytest.skip("SMS has no buttons: a digit is read against the person's own last menu")


class WhatsAppTalk(SmsTalk):
    """WhatsApp through Twilio: signed webhooks like SMS, from ``whatsapp:+33...``; a position can be shared."""

    channel = "whatsapp"
    supports_location = True
    _numbers = itertools.count(100)

    def address(self, who: str) -> str:
        if who not in self._addresses:
            self._addresses[who] = f"+336397{next(self._numbers):05d}"
        return self._addresses[who]

    async def __call__(self, text: str, who: str = "alice") -> Said:
        return await self._post(tw.whatsapp_params(self.address(who), text))

    async def _post(self, params: dict[str, str]) -> Said:
        response = await tw.post_whatsapp(self.client, self.url, params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return Said(texts=tw.messages(response.text))

    async def location(self, latitude: float, longitude: float, who: str = "alice") -> Said:
        extra = {"Latitude": str(latitude), "Longitude": str(longitude), "MessageType": "location"}
        return await self._post(tw.whatsapp_params(self.address(who), "", **extra))

    async def press(self, data: str, who: str = "alice") -> Said:
        pytest.skip("WhatsApp messages from Twilio carry no buttons here: a digit is read against the last menu")


class ObservedTelegramChannel(TelegramChannel):
    """The real channel, telling the test when an update has been fully handled."""

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.handled: dict[int, asyncio.Event] = {}

    def event(self, update_id: int) -> asyncio.Event:
        return self.handled.setdefault(update_id, asyncio.Event())

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await super().on_update(update, context)
        finally:
            self.event(update.update_id).set()


class TelegramTalk(Talk):
    channel = "telegram"
    # Ids as long as Telegram's: a short one ("5006") would also be found inside a place's coordinates
    # by the tests that look for a person's data left in the database files.
    _ids = itertools.count(7_912_345_001)

    def __init__(self, settings: Settings, clock: FakeClock, fake: FakeTelegram, language_code: str = "fr") -> None:
        super().__init__(settings, clock)
        self.fake = fake
        self.language_code = language_code

    def address(self, who: str) -> str:
        if who not in self._addresses:
            self._addresses[who] = str(next(self._ids))
        return self._addresses[who]

    async def start(self) -> None:
        await super().start()
        self.telegram = ObservedTelegramChannel(self.core)
        await self.telegram.start()

    async def stop(self) -> None:
        await self.telegram.stop()
        await super().stop()

    async def _exchange(self, who: str, update: dict[str, Any]) -> Said:
        chat_id = int(self.address(who))
        before = len(self.fake.sent_to(chat_id))
        await asyncio.wait_for(self.telegram.event(update["update_id"]).wait(), timeout=PATIENCE)
        said = Said()
        for message in self.fake.sent_to(chat_id)[before:]:
            said.texts.append(message["text"])
            markup = message.get("reply_markup") or {}
            rows = markup.get("inline_keyboard", [])
            said.buttons.extend(f"{i} {row[0]['text']}" for i, row in enumerate(rows, start=1))
        return said

    async def __call__(self, text: str, who: str = "alice") -> Said:
        update = self.fake.push_message(int(self.address(who)), text, language_code=self.language_code)
        return await self._exchange(who, update)

    async def choose(self, number: int, who: str = "alice") -> Said:
        """Press the n-th button of the last message that had buttons."""
        chat_id = int(self.address(who))
        with_buttons = [m for m in self.fake.sent_to(chat_id) if (m.get("reply_markup") or {}).get("inline_keyboard")]
        assert with_buttons, "no message with buttons was sent"
        last = with_buttons[-1]
        data = last["reply_markup"]["inline_keyboard"][number - 1][0]["callback_data"]
        update = self.fake.push_callback(chat_id, data, message_id=last["message_id"], language_code=self.language_code)
        return await self._exchange(who, update)

    async def press(self, data: str, who: str = "alice") -> Said:
        chat_id = int(self.address(who))
        update = self.fake.push_callback(chat_id, data, language_code=self.language_code)
        return await self._exchange(who, update)

    async def location(self, latitude: float, longitude: float, who: str = "alice") -> Said:
        update = self.fake.push_location(int(self.address(who)), latitude, longitude, language_code=self.language_code)
        return await self._exchange(who, update)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@contextlib.asynccontextmanager
async def talking(driver: T) -> AsyncIterator[T]:
    """A channel's talk started (its bot, server or polling), stopped on the way out."""
    await driver.start()
    try:
        yield driver
    finally:
        await driver.stop()


@pytest.fixture(params=CHANNELS)
async def talk(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Talk]:
    """A conversation over each channel in turn; the same test runs on every one."""
    async with contextlib.AsyncExitStack() as stack:
        driver: Talk
        if request.param == "telegram":
            fake = await stack.enter_async_context(FakeTelegram())
            driver = TelegramTalk(telegram_settings(tmp_path, fake), clock, fake)
        elif request.param == "sms":
            driver = SmsTalk(make_settings(tmp_path), clock)
        elif request.param == "whatsapp":
            driver = WhatsAppTalk(make_settings(tmp_path), clock)
        else:
            driver = ConsoleTalk(make_settings(tmp_path), clock)
        yield await stack.enter_async_context(talking(driver))
