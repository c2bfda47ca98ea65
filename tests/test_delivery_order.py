"""Twilio's delivery reports arrive in any order; an outbox row's status only moves forward.

Signed status callbacks go through the real webhook (uvicorn) about an SMS the real Twilio client
sent to the fake Twilio: a late ``sent`` after ``delivered`` leaves ``delivered``; ``failed`` and
``undelivered`` are final; two reports at once end on the further one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.http import build_http_app
from bot.core import Core
from bot.messages import Channel
from bot.outbox import enqueue
from bot.people import add_person
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.wiring import wired

PHONE = "+33639981401"


@pytest.fixture
async def webhook(core: Core) -> AsyncIterator[tuple[str, httpx.AsyncClient, str]]:
    """One SMS sent through the fake Twilio, and the status webhook served: (url, client, its MessageSid)."""
    await add_person(core.store, core.clock.now(), "Nadia", {"resident"}, phone=PHONE, language="fr")
    async with wired(core) as (twilio, _):
        async with core.store.transaction() as db:
            await enqueue(db, core.clock.now(), cause="order", channel=Channel.SMS, address=PHONE, text="Bonjour")
        await core.outbox.drain()
        (sent,) = twilio.sent_to(PHONE)
        async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=30) as client:
            yield url, client, sent["Sid"]


async def report(client: httpx.AsyncClient, url: str, sid: str, status: str) -> None:
    """One signed status callback, as Twilio sends it."""
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": tw.ACCOUNT_SID}
    if status in ("failed", "undelivered"):
        params["ErrorCode"] = "30003"
    signature = tw.sign(f"{tw.PUBLIC_URL}/twilio/status", params)
    response = await client.post(f"{url}/twilio/status", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 204


async def status(core: Core) -> str:
    row = await core.store.fetchone("SELECT status FROM outbox WHERE cause = 'order'")
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        (["sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),
        (["delivered", "queued", "sending", "sent"], "delivered"),
        (["sent", "failed", "delivered"], "failed"),
        (["undelivered", "sent", "delivered"], "undelivered"),
        (["delivered", "undelivered"], "delivered"),
    ],
)
async def test_reports_in_any_order_only_move_forward(
    core: Core, webhook: tuple[str, httpx.AsyncClient, str], reports: list[str], final: str
) -> None:
    """However late a report comes, the row keeps the furthest status; failed and undelivered are final."""
    url, client, sid = webhook
    for each in reports:
        await report(client, url, sid, each)
    assert await status(core) == final


async def test_two_reports_at_once_end_on_the_further_one(
    core: Core, webhook: tuple[str, httpx.AsyncClient, str]
) -> None:
    """``sent`` and ``delivered`` posted together, many times over: the row ends ``delivered``."""
    url, client, sid = webhook
    await asyncio.gather(*(report(client, url, sid, each) for _ in range(10) for each in ("delivered", "sent")))
    assert await status(core) == "delivered"


async def test_a_report_before_the_api_answer_is_kept_and_applied(core: Core) -> None:
    """Twilio may call back before the outbox has recorded the message's id: the report is not lost."""
    await add_person(core.store, core.clock.now(), "Nadia", {"resident"}, phone=PHONE, language="fr")
    async with wired(core) as (twilio, _):
        async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=30) as client:
            first_sid = f"SM{1:032x}"  # the fake Twilio numbers its messages from 1
            await report(client, url, first_sid, "delivered")
            async with core.store.transaction() as db:
                await enqueue(db, core.clock.now(), cause="order", channel=Channel.SMS, address=PHONE, text="Bonjour")
            await core.outbox.drain()
            (sent,) = twilio.sent_to(PHONE)
            assert sent["Sid"] == first_sid
            assert await status(core) == "delivered"
            await report(client, url, first_sid, "sent")
            assert await status(core) == "delivered"
    assert await core.store.fetchone("SELECT 1 FROM delivery_early") is None
