"""WhatsApp through Twilio: signed webhooks, the same person as the phone, and the 24-hour rule.

Real signed webhooks go to the real app under uvicorn; the outbox sends with the real twilio client
to the fake Twilio REST server. The clock is a fake: "outside the 24 hours" is the clock moved on,
never a wait. The handler tests of every feature also run over WhatsApp (``talk`` in conftest).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import build_core
from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from bot.messages import Channel
from bot.outbox import enqueue_for_person
from bot.people import add_person, attach_identity
from handlers.broadcast.audience import Audience, preview
from tests.conftest import make_settings
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.wiring import senders

KARIM = "+33639980002"  # a registered resident and worker of the demo data, by SMS
NEWCOMER = "+33639981777"
TEMPLATE = "HX" + "1" * 32
TEMPLATE_EN = "HX" + "2" * 32


@pytest.fixture
async def bot(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Core, str, httpx.AsyncClient]]:
    settings = make_settings(tmp_path)
    settings = settings.model_copy(
        update={"whatsapp_templates": {"payment_notice": {"fr": TEMPLATE, "en": TEMPLATE_EN}}}
    )
    core = await build_core(settings, clock)
    try:
        async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=60) as client:
            yield core, url, client
    finally:
        await core.close()


async def say(client: httpx.AsyncClient, url: str, sender: str, text: str) -> list[str]:
    response = await tw.post_whatsapp(client, url, tw.whatsapp_params(sender, text))
    assert response.status_code == 200, response.text
    return tw.messages(response.text)


async def person_of(core: Core, channel: Channel, address: str) -> int | None:
    row = await core.store.fetchone(
        "SELECT person_id FROM identities WHERE channel = ? AND address = ?", (channel.value, address)
    )
    return int(row[0]) if row else None


async def wrote(core: Core, url: str, client: httpx.AsyncClient, sender: str, text: str = "bonjour") -> int:
    """``sender`` writes once on WhatsApp: the person behind that WhatsApp identity."""
    await say(client, url, sender, text)
    person_id = await person_of(core, Channel.WHATSAPP, sender)
    assert person_id is not None
    return person_id


async def notice(core: Core, person_id: int, cause: str = "troc:1:1") -> None:
    """A payment notice, queued as the Trocshop queues one."""
    async with core.store.transaction() as db:
        await enqueue_for_person(
            db, core.clock.now(), core.i18n, person_id, cause=cause, key="core.unavailable"
        )  # any catalog text: the rule is about when and how, not what


async def rows(core: Core, cause: str) -> list[tuple[str, str, str | None]]:
    found = await core.store.fetchall("SELECT channel, status, error FROM outbox WHERE cause = ? ORDER BY id", (cause,))
    return [(r[0], r[1], r[2]) for r in found]


async def test_a_webhook_without_the_right_signature_is_refused(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """No signature or a wrong one: 403, and nobody is created; a From that is not whatsapp:+... is 400."""
    core, url, client = bot
    params = tw.whatsapp_params(NEWCOMER, "bonjour")
    assert (await tw.post_whatsapp(client, url, params, signature="")).status_code == 403
    assert (await tw.post_whatsapp(client, url, params, signature="bad")).status_code == 403
    assert await person_of(core, Channel.WHATSAPP, NEWCOMER) is None
    wrong = {**params, "From": NEWCOMER}
    assert (await tw.post_whatsapp(client, url, wrong)).status_code == 400


async def test_a_registered_phone_on_whatsapp_is_the_same_person(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """Karim's number on WhatsApp is Karim: his balance, in his language; a new number is a guest."""
    core, url, client = bot
    said = "\n".join(await say(client, url, KARIM, "solde"))
    assert "votre solde est de 2 h" in said  # Karim's balance in the demo data, in French
    assert await person_of(core, Channel.WHATSAPP, KARIM) == await person_of(core, Channel.SMS, KARIM)
    await say(client, url, NEWCOMER, "bonjour")
    newcomer = await person_of(core, Channel.WHATSAPP, NEWCOMER)
    row = await core.store.fetchone("SELECT status FROM persons WHERE id = ?", (newcomer,))
    assert row is not None and row[0] == "guest"


async def test_whatsapp_answers_keep_every_character_and_number_the_choices(
    bot: tuple[Core, str, httpx.AsyncClient],
) -> None:
    """No GSM-7 folding on WhatsApp ("êtes" keeps its ê, which an SMS spells e); choices are numbered lines."""
    _, url, client = bot
    said = "\n".join(await say(client, url, NEWCOMER, "menu"))
    assert "1 " in said and "2 " in said
    assert "Vous n'êtes pas seul(e)" in "\n".join(await say(client, url, NEWCOMER, "je veux mourir"))
    params = tw.sms_params(KARIM, "je veux mourir")
    sms = await client.post(
        f"{url}/twilio/sms", data=params, headers={"X-Twilio-Signature": tw.sign(f"{tw.PUBLIC_URL}/twilio/sms", params)}
    )
    assert "Vous n'etes pas seul(e)" in "\n".join(tw.messages(sms.text))


async def test_a_guest_who_wrote_on_whatsapp_joins_the_person_registered_with_that_phone(
    bot: tuple[Core, str, httpx.AsyncClient],
) -> None:
    """A guest writes on WhatsApp, then staff register that phone: one person, with both identities."""
    core, url, client = bot
    await say(client, url, NEWCOMER, "bonjour")
    person_id = await add_person(core.store, core.clock.now(), "Nour", {"resident"}, phone=NEWCOMER, language="fr")
    assert await person_of(core, Channel.WHATSAPP, NEWCOMER) == person_id


async def test_inside_the_24_hours_free_text_goes(bot: tuple[Core, str, httpx.AsyncClient], clock: FakeClock) -> None:
    """Within 24 hours of the person's last message the notice goes as free text, to whatsapp:+33..."""
    core, url, client = bot
    person_id = await wrote(core, url, client, NEWCOMER)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        clock.advance(hours=23)
        await notice(core, person_id)
        await core.outbox.drain()
        (sent,) = twilio.sent_to(f"whatsapp:{NEWCOMER}")
        assert sent["From"] == tw.WHATSAPP_NUMBER and sent["Body"] and "ContentSid" not in sent
    assert await rows(core, "troc:1:1") == [("whatsapp", "sent", None)]


async def test_outside_the_24_hours_the_template_goes_with_its_variable(
    bot: tuple[Core, str, httpx.AsyncClient], clock: FakeClock
) -> None:
    """After 24 hours only the kind's template: its Content SID and the text as its one variable, no Body."""
    core, url, client = bot
    person_id = await wrote(core, url, client, NEWCOMER)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        clock.advance(hours=25)
        await notice(core, person_id)
        await core.outbox.drain()
        (sent,) = twilio.sent_to(f"whatsapp:{NEWCOMER}")
        assert sent["ContentSid"] == TEMPLATE and "Body" not in sent
        variables = json.loads(sent["ContentVariables"])
        assert "115" in variables["1"] and "\n" not in variables["1"]


async def test_a_template_in_the_persons_language_is_chosen(
    bot: tuple[Core, str, httpx.AsyncClient], clock: FakeClock
) -> None:
    """A kind with templates per language: the English reader gets the English one."""
    core, url, client = bot
    await say(client, url, NEWCOMER, "hello")
    person_id = await person_of(core, Channel.WHATSAPP, NEWCOMER)
    assert person_id is not None
    await core.store.execute("UPDATE persons SET language = 'en' WHERE id = ?", (person_id,))
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        clock.advance(hours=30)
        await notice(core, person_id, cause="troc:4:4")
        await core.outbox.drain()
        (sent,) = twilio.sent_to(f"whatsapp:{NEWCOMER}")
        assert sent["ContentSid"] == TEMPLATE_EN


async def test_no_template_goes_by_the_persons_other_channel(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """Outside the 24 hours, a kind without a template (a link code here) goes by SMS when they have it."""
    core, url, client = bot
    await say(client, url, KARIM, "bonjour")
    person_id = await person_of(core, Channel.WHATSAPP, KARIM)
    assert person_id is not None
    await core.store.execute("UPDATE identities SET last_inbound_at = NULL WHERE channel = 'whatsapp'")
    cause = "link-code:9"
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        await notice(core, person_id, cause=cause)
        await core.outbox.drain()
        assert twilio.sent_to(f"whatsapp:{KARIM}") == []
        (sms,) = twilio.sent_to(KARIM)
        assert sms["Body"]
    assert await rows(core, cause) == [
        ("whatsapp", "rerouted", "whatsapp: outside the 24-hour window, no template for link_code: sent by sms"),
        ("sms", "sent", None),
    ]


async def test_no_template_and_no_other_channel_waits_and_staff_are_told(
    bot: tuple[Core, str, httpx.AsyncClient], clock: FakeClock
) -> None:
    """Nothing is dropped: the message waits, staff get a notice naming the person, /healthz counts it,
    and it goes as free text as soon as the person writes again."""
    core, url, client = bot
    person_id = await wrote(core, url, client, NEWCOMER)
    await core.store.execute("UPDATE persons SET name = 'Nour', status = 'active' WHERE id = ?", (person_id,))
    cause = "handoff:answer:5"
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        clock.advance(hours=26)
        await notice(core, person_id, cause=cause)
        await core.outbox.drain()
        assert twilio.sent_to(f"whatsapp:{NEWCOMER}") == []
        assert [status for _, status, _ in await rows(core, cause)] == ["waiting"]
        staff_notice = twilio.sent_to("+33639980001")  # Awa, of the team, by SMS
        assert len(staff_notice) == 1 and "Nour" in staff_notice[0]["Body"]
        assert NEWCOMER not in staff_notice[0]["Body"]
        health = (await client.get(f"{url}/healthz")).json()
        assert health["outbox_waiting"] == 1 and health["channels"]["whatsapp"] == "on"
        await say(client, url, NEWCOMER, "merci")
        await core.outbox.drain()
        (sent,) = twilio.sent_to(f"whatsapp:{NEWCOMER}")
        assert sent["Body"] and "ContentSid" not in sent
    assert [status for _, status, _ in await rows(core, cause)] == ["sent"]


async def test_63016_sends_it_again_as_the_template(bot: tuple[Core, str, httpx.AsyncClient], clock: FakeClock) -> None:
    """Meta says the 24 hours are over (63016) when the bot thought them open: the same row goes as the template."""
    core, url, client = bot
    person_id = await wrote(core, url, client, NEWCOMER)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        twilio.window_closed.add(NEWCOMER)
        await notice(core, person_id)
        await core.outbox.drain()
        clock.advance(seconds=5)
        await core.outbox.drain()
        (sent,) = twilio.sent_to(f"whatsapp:{NEWCOMER}")
        assert sent["ContentSid"] == TEMPLATE
    assert await rows(core, "troc:1:1") == [("whatsapp", "sent", None)]


async def test_63016_in_a_delivery_report_sends_it_again_as_the_template(
    bot: tuple[Core, str, httpx.AsyncClient],
) -> None:
    """Accepted, then failed with 63016 in the status callback: back to the queue, then the template."""
    core, url, client = bot
    person_id = await wrote(core, url, client, NEWCOMER)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        await notice(core, person_id)
        await core.outbox.drain()
        (first,) = twilio.sent_to(f"whatsapp:{NEWCOMER}")
        params = {"MessageSid": first["Sid"], "MessageStatus": "failed", "ErrorCode": "63016"}
        signature = tw.sign(f"{tw.PUBLIC_URL}/twilio/status", params)
        answer = await client.post(f"{url}/twilio/status", data=params, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 204
        await core.outbox.drain()
        second = twilio.sent_to(f"whatsapp:{NEWCOMER}")[1]
        assert second["ContentSid"] == TEMPLATE


async def test_a_number_without_whatsapp_is_marked_unreachable(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """63024 (not a WhatsApp number): the row fails with a clear reason and the identity is not tried again."""
    core, url, client = bot
    person_id = await wrote(core, url, client, NEWCOMER)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        twilio.fail_next(400, 63024, "Invalid message recipient")
        await notice(core, person_id)
        await core.outbox.drain()
    assert await rows(core, "troc:1:1") == [("whatsapp", "failed", "whatsapp 63024: no WhatsApp on this number")]
    row = await core.store.fetchone("SELECT unreachable_at FROM identities WHERE channel = 'whatsapp'")
    assert row is not None and row[0] is not None


async def test_stop_on_whatsapp_stops_whatsapp_only(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """STOP on WhatsApp opts that identity out: the next notice goes by SMS; START opts back in."""
    core, url, client = bot
    await say(client, url, KARIM, "STOP")
    person_id = await person_of(core, Channel.SMS, KARIM)
    assert person_id is not None
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        await notice(core, person_id, cause="troc:2:2")
        await core.outbox.drain()
        assert twilio.sent_to(f"whatsapp:{KARIM}") == [] and len(twilio.sent_to(KARIM)) == 1
        await say(client, url, KARIM, "START")
        await notice(core, person_id, cause="troc:3:3")
        await core.outbox.drain()
        assert len(twilio.sent_to(f"whatsapp:{KARIM}")) == 1


async def test_whatsapp_is_used_only_after_the_person_wrote_there(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """A registered phone is never written to on WhatsApp before its owner wrote there (their opt-in)."""
    core, _, _ = bot
    person_id = await person_of(core, Channel.SMS, KARIM)
    assert person_id is not None
    async with core.store.transaction() as db:  # an identity staff would have added by hand
        await attach_identity(db, core.clock.now(), person_id, Channel.WHATSAPP, KARIM)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        await notice(core, person_id)
        await core.outbox.drain()
        assert twilio.sent_to(f"whatsapp:{KARIM}") == [] and len(twilio.sent_to(KARIM)) == 1


@pytest.mark.parametrize(("order", "channel"), [("telegram,whatsapp,sms", "whatsapp"), ("sms,whatsapp", "sms")])
async def test_channel_order_decides_between_whatsapp_and_sms(
    tmp_path: Path, clock: FakeClock, order: str, channel: str
) -> None:
    """CHANNEL_ORDER: WhatsApp before SMS by default; a deployment may put SMS first."""
    settings = make_settings(tmp_path).model_copy(update={"channel_order": tuple(order.split(","))})
    core = await build_core(settings, clock)
    try:
        async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=60) as client:
            await say(client, url, KARIM, "bonjour")
            person_id = await person_of(core, Channel.SMS, KARIM)
            assert person_id is not None
            await notice(core, person_id)
            assert await rows(core, "troc:1:1") == [(channel, "pending", None)]
    finally:
        await core.close()


async def test_a_broadcast_counts_and_reaches_whatsapp_readers(bot: tuple[Core, str, httpx.AsyncClient]) -> None:
    """The preview counts who will read it on WhatsApp (Karim wrote there), and "whatsapp" narrows to them."""
    core, url, client = bot
    await say(client, url, KARIM, "bonjour")
    texts = {"fr": "Réunion des résidents jeudi"}
    everyone = await preview(
        core.store, core.clock.now(), texts, Audience("residents"), price=0.07, quiet=None, tz=core.settings.tz
    )
    assert everyone.by_channel["whatsapp"] == 1
    only = Audience.parse("residents whatsapp", core.i18n)
    assert only.channel == "whatsapp"
    narrowed = await preview(core.store, core.clock.now(), texts, only, price=0.07, quiet=None, tz=core.settings.tz)
    assert narrowed.by_channel == {"whatsapp": 1}


async def test_a_staff_notice_that_waits_itself_tells_nobody_more(
    bot: tuple[Core, str, httpx.AsyncClient], clock: FakeClock
) -> None:
    """Staff reachable only on WhatsApp, outside their 24 hours: their notice waits too, and no chain of notices."""
    core, url, client = bot
    awa = await person_of(core, Channel.SMS, "+33639980001")
    await say(client, url, "+33639980001", "bonjour")  # Awa, of the team, writes once on WhatsApp
    await core.store.execute("DELETE FROM identities WHERE channel = 'sms' AND person_id = ?", (awa,))
    person_id = await wrote(core, url, client, NEWCOMER)
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio):
        clock.advance(hours=30)
        await notice(core, person_id, cause="handoff:answer:6")
        await core.outbox.drain()
        assert twilio.messages == []
    waiting = await core.store.fetchall("SELECT cause FROM outbox WHERE status = 'waiting' ORDER BY id")
    assert waiting[0][0] == "handoff:answer:6" and len(waiting) == 2
