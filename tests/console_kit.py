"""A staff member at the console over real HTTP: the app served on loopback, logged in with the code the bot sent.

The code is read from the outbox row the login queued, as the staff member reads it on their phone.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bot.channels.http import build_http_app
from bot.core import Core
from bot.messages import Channel
from tests.conftest import PATIENCE
from tests.fakes.server import serve
from tests.helpers import register_on

CONSOLE_URL = "http://127.0.0.1:8080"
STAFF_PHONE = "+33639980101"
STAFF_CODE = "GV-KP72"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ATTEMPT = re.compile(r'name="attempt" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, html[:500]
    return found.group(1)


def code_form(page: str, code: str, next_page: str = "/console/") -> dict[str, str]:
    """The fields the code page posts, with ``code`` typed in."""
    attempt = ATTEMPT.search(page)
    assert attempt is not None, page[:500]
    return {"attempt": attempt.group(1), "code": code, "csrf": csrf_of(page), "next": next_page}


async def add_person(core: Core, name: str, roles: tuple[str, ...], phone: str, code: str) -> int:
    async with core.store.transaction() as db:
        return await register_on(db, core.clock.now(), name, roles, Channel.SMS, phone, code=code)


async def last_code(core: Core, person_id: int) -> str:
    row = await core.store.fetchone(
        "SELECT body FROM outbox WHERE person_id = ? AND cause LIKE 'console:login:%' ORDER BY id DESC LIMIT 1",
        (person_id,),
    )
    assert row is not None, "no login code was queued"
    found = re.search(r"\b(\d{6})\b", row["body"])
    assert found is not None
    return found.group(1)


@dataclass
class Browser:
    """An HTTP client that keeps cookies, like a browser, without running JavaScript."""

    client: httpx.AsyncClient
    core: Core

    async def ask_code(self, who: str) -> httpx.Response:
        page = await self.client.get("/console/login")
        return await self.client.post("/console/login", data={"who": who, "csrf": csrf_of(page.text), "next": ""})

    async def log_in(self, who: str, person_id: int) -> httpx.Response:
        sent = await self.ask_code(who)
        return await self.give_code(sent, await last_code(self.core, person_id))

    async def give_code(self, sent: httpx.Response, code: str, next_page: str = "/console/") -> httpx.Response:
        """Type ``code`` in the form of ``sent``, the page that said a code was sent."""
        return await self.client.post("/console/login/code", data=code_form(sent.text, code, next_page))

    async def csrf(self, path: str = "/console/") -> str:
        return csrf_of((await self.client.get(path)).text)


@asynccontextmanager
async def console(core: Core) -> AsyncIterator[Browser]:
    async with serve(build_http_app(core)) as url, httpx.AsyncClient(base_url=url, timeout=PATIENCE) as client:
        yield Browser(client, core)


async def staff_in(
    core: Core,
    browser: Browser,
    name: str = "Claire Dubois",
    roles: tuple[str, ...] = ("staff",),
    phone: str = STAFF_PHONE,
    code: str = STAFF_CODE,
) -> int:
    """Register a staff member (or admin) and log ``browser`` in as them: their person id."""
    person = await add_person(core, name, roles, phone, code)
    assert (await browser.log_in(code, person)).status_code == 303
    return person
