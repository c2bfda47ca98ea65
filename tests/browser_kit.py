"""A real Chromium on the console of a real ``voisins run``, with the fake Telegram and Twilio servers.

The database is made before the bot starts (migrations and demo people), and the demo staff member
Awa gets a Telegram identity, so her login code arrives through the fake Telegram as it would on her
phone. PUBLIC_URL is plain http on loopback: the browser talks to the bot directly, without TLS.
Chromium is Debian's (``make test`` installs it as root); Playwright drives it and downloads nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from bot.clock import SystemClock
from bot.core import Core
from bot.messages import Channel
from tests.commands import healthy, sending_env, spawn_bot, terminate
from tests.conftest import PATIENCE, make_settings, opened_core
from tests.fakes import twilio_webhook as tw
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import rows

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PUBLIC_URL = "http://127.0.0.1"
STAFF_CHAT = 7_912_345_900  # Awa's Telegram chat, the demo staff member (data/demo/people.yaml)
STAFF_CODE = "GV-EKP3"
# What the machine's closed network needs (see STACK-NOTES): no background connections, no first-run pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# `make screenshots` sets this to docs/screenshots, the README's pictures; otherwise they go to the test's folder.
SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"The console's browser tests need Chromium at {CHROMIUM}. Run:  sudo apt-get install -y chromium")


Scene = Callable[[Core], Awaitable[object]]


async def _prepare(tmp_path: Path, scene: Scene | None) -> object:
    """The database the bot will open: demo people, Awa reachable on Telegram, and the test's scene."""
    settings = make_settings(tmp_path, database_path=tmp_path / "run.db", public_url=PUBLIC_URL)
    async with opened_core(settings, SystemClock()) as core:
        row = await core.store.fetchone("SELECT id FROM persons WHERE member_code = ?", (STAFF_CODE,))
        assert row is not None
        from bot import people

        async with core.store.transaction() as db:
            await people.attach_identity(db, core.clock.now(), int(row["id"]), Channel.TELEGRAM, str(STAFF_CHAT))
        return await scene(core) if scene is not None else None


@dataclass
class Site:
    url: str
    database: Path
    telegram: FakeTelegram
    twilio: FakeTwilio
    browser: Browser
    scene: object = None  # what the test's scene made (a shift's id)

    async def page(self) -> Page:
        context = await self.browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PATIENCE * 1000)
        return await context.new_page()

    async def log_in(self, page: Page) -> None:
        """Awa asks for a code, reads it in Telegram, types it: the Today page opens."""
        sent_before = len(self.telegram.sent_to(STAFF_CHAT))
        await page.goto(f"{self.url}/console/")
        await page.get_by_label("Téléphone ou code membre").fill(STAFF_CODE)
        await page.get_by_role("button", name="Recevoir un code").click()
        messages = await self.telegram.wait_sent(STAFF_CHAT, count=sent_before + 1, timeout=PATIENCE)
        found = re.search(r"\b(\d{6})\b", messages[-1]["text"])
        assert found is not None, messages[-1]["text"]
        await page.get_by_label("Code reçu (6 chiffres)").fill(found.group(1))
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_role("heading", name="Aujourd'hui", exact=True).wait_for()

    async def screenshot(self, page: Page, name: str) -> None:
        """A picture of the whole page, for the README when asked (``make screenshots``), checked to be one."""
        folder = Path(SCREENSHOTS) if SCREENSHOTS else self.database.parent
        folder.mkdir(parents=True, exist_ok=True)
        picture = await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        assert picture.startswith(b"\x89PNG") and len(picture) > 5000

    async def sms(self, sender: str, text: str) -> list[str]:
        """A resident's SMS, signed as Twilio signs it; the bot's direct answers."""
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            response = await tw.post_sms(client, self.url, tw.sms_params(sender, text), public_url=PUBLIC_URL)
        assert response.status_code == 200, response.text
        return tw.messages(response.text)

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return rows(self.database, sql, params)


@asynccontextmanager
async def site(tmp_path: Path, scene: Scene | None = None) -> AsyncIterator[Site]:
    """The bot running with both channels on fakes, and a Chromium ready to open pages on it."""
    require_chromium()
    made = await _prepare(tmp_path, scene)
    async with FakeTelegram() as telegram, FakeTwilio() as twilio:
        env = {**sending_env(tmp_path, twilio, telegram, sms_rate=50, DEMO_DATA="1"), "PUBLIC_URL": PUBLIC_URL}
        process, url = await spawn_bot(tmp_path, env)
        try:
            assert await healthy(process, url), (await process.stderr.read()).decode()  # type: ignore[union-attr]
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    yield Site(url, tmp_path / "run.db", telegram, twilio, browser, made)
                finally:
                    await browser.close()
        finally:
            await terminate(process)


async def until(check: object, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
    """Wait for a condition read from outside (a row, a fake's message), polling, with a generous bound."""
    assert callable(check)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("the condition never came true")
        await asyncio.sleep(0.1)
