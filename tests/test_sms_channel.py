"""The SMS webhook: signatures, TwiML, one answer per MessageSid, and nothing written for a refused request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.http import build_http_app
from bot.core import Core
from tests.conftest import PATIENCE
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve

SENDER = "+33639980123"


@pytest.fixture
async def sms(core: Core) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=PATIENCE) as client:
        yield url, client


async def snapshot(core: Core) -> dict[str, int]:
    """Row counts of every table a request could write to."""
    counts = {}
    for table in ("persons", "identities", "conversations", "inbound_seen"):
        row = await core.store.fetchone(f"SELECT COUNT(*) FROM {table}")
        counts[table] = int(row[0]) if row else -1
    return counts


async def test_signed_sms_is_answered_in_twiml(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """A signed webhook gets TwiML with one <Message> holding the answer."""
    url, client = sms
    response = await tw.post_sms(client, url, tw.sms_params(SENDER, "aide"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    (message,) = tw.messages(response.text)
    assert "Ecrivez votre question" in message or "Écrivez votre question" in message


@pytest.mark.parametrize(
    "signature",
    ["", "bm90IGEgc2lnbmF0dXJl", "signed-for-the-internal-url"],
    ids=["unsigned", "wrong", "internal-url"],
)
async def test_badly_signed_sms_is_refused_and_changes_nothing(
    core: Core, sms: tuple[str, httpx.AsyncClient], signature: str
) -> None:
    """No signature, a wrong one, or one computed for the server's own address: 403 and no row written."""
    url, client = sms
    params = tw.sms_params(SENDER, "STOP")
    if signature == "signed-for-the-internal-url":
        signature = tw.sign(f"{url}/twilio/sms", params)
    before = await snapshot(core)
    response = await tw.post_sms(client, url, params, signature=signature)
    assert response.status_code == 403
    assert await snapshot(core) == before


async def test_signature_with_another_token_is_refused(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """A request signed with somebody else's auth token is refused."""
    url, client = sms
    params = tw.sms_params(SENDER, "menu")
    forged = tw.sign(f"{tw.PUBLIC_URL}/twilio/sms", params, token="another-token")
    assert (await tw.post_sms(client, url, params, signature=forged)).status_code == 403


async def test_behind_a_tls_proxy_the_public_url_is_what_counts(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """The app is reached over plain http on loopback, as behind a proxy, and still accepts the https signature."""
    url, client = sms
    assert url.startswith("http://127.0.0.1")
    response = await tw.post_sms(client, url, tw.sms_params(SENDER, "menu"), public_url=tw.PUBLIC_URL)
    assert response.status_code == 200


async def test_tampered_body_is_refused(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """Changing one parameter after signing breaks the signature."""
    url, client = sms
    params = tw.sms_params(SENDER, "menu")
    signature = tw.sign(f"{tw.PUBLIC_URL}/twilio/sms", params)
    params["Body"] = "STOP"
    before = await snapshot(core)
    assert (await tw.post_sms(client, url, params, signature=signature)).status_code == 403
    assert await snapshot(core) == before


async def test_repeated_message_sid_is_answered_once(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """Twilio retrying the same MessageSid gets an empty TwiML the second time: one answer, one effect."""
    url, client = sms
    params = tw.sms_params(SENDER, "langue")
    first = await tw.post_sms(client, url, params)
    second = await tw.post_sms(client, url, params)
    assert len(tw.messages(first.text)) == 1
    assert second.status_code == 200 and tw.messages(second.text) == []


@pytest.mark.parametrize("missing", ["From", "MessageSid"])
async def test_missing_field_is_a_400_and_changes_nothing(
    core: Core, sms: tuple[str, httpx.AsyncClient], missing: str
) -> None:
    """A signed request without From or MessageSid is a 400, with nothing written."""
    url, client = sms
    params = tw.sms_params(SENDER, "menu")
    del params[missing]
    before = await snapshot(core)
    response = await tw.post_sms(client, url, params)
    assert response.status_code == 400
    assert await snapshot(core) == before


async def test_missing_body_is_answered_with_the_menu(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """No Body at all (an empty SMS) gets the menu."""
    url, client = sms
    params = tw.sms_params(SENDER, "")
    del params["Body"]
    response = await tw.post_sms(client, url, params)
    assert response.status_code == 200
    assert "Que cherchez-vous" in tw.messages(response.text)[0]


async def test_not_a_phone_number_is_a_400(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """A From that is no phone number is refused."""
    url, client = sms
    before = await snapshot(core)
    response = await tw.post_sms(client, url, tw.sms_params("not-a-number", "menu"))
    assert response.status_code == 400
    assert await snapshot(core) == before


async def test_oversized_request_is_refused(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """A request far larger than any Twilio webhook is refused before it is read."""
    url, client = sms
    params = tw.sms_params(SENDER, "x" * 100_000)
    response = await tw.post_sms(client, url, params)
    assert response.status_code == 413


async def test_french_number_formats_are_one_person(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """A number written 06... or +33 6... is the same E.164 identity."""
    url, client = sms
    await tw.post_sms(client, url, tw.sms_params("+33639980123", "langue"))
    response = await tw.post_sms(client, url, tw.sms_params("06 39 98 01 23", "2"))
    assert "English" in tw.messages(response.text)[0]


async def test_long_answers_are_paged_with_suite(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """An answer longer than two segments comes a page at a time; SUITE gives the next page."""
    from bot.dispatch import Context, Router
    from bot.messages import Reply

    router = Router("long")

    @router.command("long")
    async def long_answer(inbound: object, ctx: Context) -> list[Reply]:
        return [Reply("\n".join(f"Ligne numero {i} d'une longue reponse" for i in range(40)))]

    core.dispatcher.commands.update(router.commands)
    url, client = sms
    first = tw.messages((await tw.post_sms(client, url, tw.sms_params(SENDER, "long"))).text)[0]
    assert "Ligne numero 0 " in first and "SUITE" in first
    second = tw.messages((await tw.post_sms(client, url, tw.sms_params(SENDER, "suite"))).text)[0]
    assert "Ligne numero 0 " not in second and "Ligne numero" in second
    pages = [first, second]
    while "SUITE pour lire la suite" in pages[-1]:
        pages.append(tw.messages((await tw.post_sms(client, url, tw.sms_params(SENDER, "SUITE"))).text)[0])
    joined = "\n".join(pages)
    assert all(f"Ligne numero {i} " in joined for i in range(40))


async def test_healthz(core: Core, sms: tuple[str, httpx.AsyncClient]) -> None:
    """/healthz says the database answers and whether the scheduler runs."""
    url, client = sms
    response = await client.get(f"{url}/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok" and response.json()["scheduler"] == "stopped"
    core.scheduler.start()
    response = await client.get(f"{url}/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": "running",
        "outbox_backlog": 0,
        "outbox_waiting": 0,
        "channels": {"telegram": "off", "sms": "on", "whatsapp": "on", "voice": "on"},
    }
