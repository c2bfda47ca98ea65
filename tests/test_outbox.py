"""The outbox: queued once per cause and recipient, sent through the real libraries, failures handled."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from bot.messages import Channel, Choice
from bot.outbox import enqueue, enqueue_for_person
from bot.people import add_person
from bot.sms_text import is_gsm
from tests.conftest import PATIENCE, make_settings
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.wiring import wired

PHONE = "+33639981001"
CHAT = "424242"


@pytest.fixture
async def fakes(core: Core) -> AsyncIterator[tuple[FakeTelegram, FakeTwilio]]:
    """The core's outbox wired to a fake Bot API and a fake Twilio REST API, at the configured SMS rate."""
    async with wired(core, sms_rate=core.settings.sms_max_per_second) as (twilio, telegram):
        yield telegram, twilio


async def person(core: Core, phone: str | None = PHONE, telegram_id: str | None = CHAT, language: str = "fr") -> int:
    return await add_person(
        core.store, core.clock.now(), "Nadia", {"resident"}, phone=phone, telegram_id=telegram_id, language=language
    )


async def rows(core: Core) -> list[dict[str, object]]:
    return [dict(r) for r in await core.store.fetchall("SELECT * FROM outbox ORDER BY id")]


async def test_same_cause_is_queued_once(core: Core) -> None:
    """Queuing the same cause for the same recipient twice leaves one row."""
    async with core.store.transaction() as db:
        first = await enqueue(db, core.clock.now(), cause="c1", channel=Channel.SMS, address=PHONE, text="Bonjour")
        second = await enqueue(db, core.clock.now(), cause="c1", channel=Channel.SMS, address=PHONE, text="Bonjour")
    assert (first, second) == (True, False)
    assert len(await rows(core)) == 1


async def test_a_person_gets_one_message_on_their_preferred_channel(core: Core) -> None:
    """A person with Telegram and SMS gets one row, on Telegram; in their language."""
    person_id = await person(core, language="en")
    async with core.store.transaction() as db:
        queued = await enqueue_for_person(db, core.clock.now(), core.i18n, person_id, cause="x", key="account.started")
    assert queued == 1
    (row,) = await rows(core)
    assert row["channel"] == "telegram" and row["body"] == core.i18n.t("en", "account.started")


async def test_telegram_row_is_sent_with_buttons(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """A Telegram row goes out through the real PTB Bot with its inline buttons, and is marked sent."""
    telegram, _ = fakes
    await person(core)
    async with core.store.transaction() as db:
        await enqueue(
            db,
            core.clock.now(),
            cause="t1",
            channel=Channel.TELEGRAM,
            address=CHAT,
            text="Votre service demain ?",
            choices=[Choice("yes", "OUI"), Choice("no", "NON")],
        )
    assert await core.outbox.drain() == 1
    (message,) = telegram.sent_to(int(CHAT))
    assert message["text"] == "Votre service demain ?"
    assert [row[0]["text"] for row in message["reply_markup"]["inline_keyboard"]] == ["OUI", "NON"]
    (row,) = await rows(core)
    assert row["status"] == "sent" and row["provider_id"] == str(message["message_id"])


async def test_blocked_bot_marks_the_identity_unreachable(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """A 403 from Telegram is not retried: the identity is unreachable and later rows are skipped."""
    telegram, _ = fakes
    await person(core)
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    async with core.store.transaction() as db:
        for cause in ("a", "b"):
            await enqueue(db, core.clock.now(), cause=cause, channel=Channel.TELEGRAM, address=CHAT, text=cause)
    await core.outbox.drain()
    first, second = await rows(core)
    assert first["status"] == "failed" and second["status"] == "skipped" and second["error"] == "unreachable"
    identity = await core.store.fetchone("SELECT unreachable_at FROM identities WHERE address = ?", (CHAT,))
    assert identity is not None and identity[0] is not None
    assert telegram.sent_to(int(CHAT)) == []


async def test_429_waits_and_sends_once(core: Core, clock: FakeClock, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """A 429 puts the row back with Telegram's retry_after; it is sent once when that time has come."""
    telegram, _ = fakes
    await person(core)
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    async with core.store.transaction() as db:
        await enqueue(db, core.clock.now(), cause="r", channel=Channel.TELEGRAM, address=CHAT, text="hello")
    await core.outbox.drain()
    (row,) = await rows(core)
    assert row["status"] == "pending" and row["next_attempt_at"] is not None
    clock.advance(seconds=2)
    await core.outbox.drain()
    assert len(telegram.sent_to(int(CHAT))) == 1
    assert (await rows(core))[0]["status"] == "sent"


async def test_sms_is_sent_in_gsm7_and_delivery_is_recorded(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """An SMS row goes through the real Twilio client in GSM-7; the signed status callback marks it delivered."""
    _, twilio = fakes
    await person(core, telegram_id=None)
    async with core.store.transaction() as db:
        await enqueue(
            db, core.clock.now(), cause="s", channel=Channel.SMS, address=PHONE, text="Fête à la Lingerie – à bientôt"
        )
    await core.outbox.drain()
    (sent,) = twilio.sent_to(PHONE)
    assert is_gsm(sent["Body"]) and sent["Body"] == "Fete à la Lingerie - à bientot"
    assert sent["From"] == tw.BOT_NUMBER and sent["StatusCallback"] == f"{tw.PUBLIC_URL}/twilio/status"
    async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=PATIENCE) as client:
        params = {"MessageSid": sent["Sid"], "MessageStatus": "delivered", "AccountSid": tw.ACCOUNT_SID}
        signature = tw.sign(f"{tw.PUBLIC_URL}/twilio/status", params)
        response = await client.post(f"{url}/twilio/status", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 204
        forged = await client.post(f"{url}/twilio/status", data={**params, "MessageStatus": "failed"})
        assert forged.status_code == 403
    (row,) = await rows(core)
    assert row["status"] == "delivered" and row["segments"] == 1


async def test_21610_marks_the_number_opted_out(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """Twilio's 21610 (the number said STOP to the carrier) marks the identity opted out, not retried."""
    _, twilio = fakes
    await person(core, telegram_id=None)
    twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    async with core.store.transaction() as db:
        await enqueue(db, core.clock.now(), cause="o", channel=Channel.SMS, address=PHONE, text="x")
    await core.outbox.drain()
    (row,) = await rows(core)
    assert row["status"] == "failed"
    identity = await core.store.fetchone("SELECT opted_out_at FROM identities WHERE address = ?", (PHONE,))
    assert identity is not None and identity[0] is not None


async def test_server_errors_are_retried_with_backoff(
    core: Core, clock: FakeClock, fakes: tuple[FakeTelegram, FakeTwilio]
) -> None:
    """A 500 from Twilio is retried later; the message then goes out once."""
    _, twilio = fakes
    await person(core, telegram_id=None)
    twilio.fail_next(500, None, "Internal error", times=2)
    async with core.store.transaction() as db:
        await enqueue(db, core.clock.now(), cause="e", channel=Channel.SMS, address=PHONE, text="x")
    for _ in range(3):
        await core.outbox.drain()
        clock.advance(minutes=1)
    assert len(twilio.sent_to(PHONE)) == 1
    assert (await rows(core))[0]["status"] == "sent"


async def test_opted_out_people_are_skipped(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """A row for a number that said STOP is skipped and never sent."""
    _, twilio = fakes
    await person(core, telegram_id=None)
    await core.store.execute("UPDATE identities SET opted_out_at = 'x' WHERE address = ?", (PHONE,))
    async with core.store.transaction() as db:
        await enqueue(db, core.clock.now(), cause="k", channel=Channel.SMS, address=PHONE, text="x")
    await core.outbox.drain()
    assert twilio.messages == []
    assert (await rows(core))[0]["status"] == "skipped"


async def test_a_crash_while_sending_is_recovered(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """A row left 'sending' by a crash is sent after the restart's recovery, once."""
    _, twilio = fakes
    await person(core, telegram_id=None)
    async with core.store.transaction() as db:
        await enqueue(db, core.clock.now(), cause="crash", channel=Channel.SMS, address=PHONE, text="x")
    await core.store.execute("UPDATE outbox SET status = 'sending'")
    assert await core.outbox.drain() == 0
    assert await core.outbox.recover() == 1
    await core.outbox.drain()
    assert len(twilio.sent_to(PHONE)) == 1


async def test_numbered_sms_choices_answer_like_a_menu(core: Core, fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    """An SMS with choices is numbered, and the person's "2" afterwards picks the second choice."""
    _, twilio = fakes
    person_id = await person(core, telegram_id=None)
    async with core.store.transaction() as db:
        await enqueue(
            db,
            core.clock.now(),
            cause="lang",
            channel=Channel.SMS,
            address=PHONE,
            person_id=person_id,
            text="Langue ?",
            choices=[Choice("account.lang:fr", "Français"), Choice("account.lang:en", "English")],
        )
    await core.outbox.drain()
    assert twilio.sent_to(PHONE)[0]["Body"] == "Langue ?\n1 Francais\n2 English"
    from bot.messages import Inbound

    replies = await core.dispatcher.handle(Inbound(Channel.SMS, PHONE, "2"))
    assert "English" in replies[0].text


def test_make_settings_has_sms_on(tmp_path: object) -> None:
    """The test settings switch SMS on, with the fake's credentials."""
    assert make_settings(tmp_path).sms_enabled  # type: ignore[arg-type]
