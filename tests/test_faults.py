"""The bot under faults: providers failing for a while, and the database locked by another process.

Providers: Telegram and Twilio answer 429 (with ``retry_after``), 500, hang until the client gives
up, cut the connection, then stay down for a long while, then recover. The outbox sends every
message exactly once in the end, waits out ``retry_after``, and marks nothing failed.

Database: another process holds ``BEGIN EXCLUSIVE`` for a few seconds. Inbound SMS and Telegram
are answered once it lets go (the busy timeout waits for it), and when a lock outlasts the busy
timeout the webhook answers an error that makes Twilio deliver it again, with nothing half-written.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from telegram.request import HTTPXRequest

from bot.channels import sms
from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from bot.messages import Channel
from bot.outbox import enqueue
from bot.people import add_person
from tests.commands import running_bot
from tests.conftest import PATIENCE, ObservedTelegramChannel, eventually, make_settings
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.wiring import senders as senders_to
from tests.helpers import rows
from tests.test_trocshop_kill import books_check, pairs, preview, seed, sms_env, wait_all_sent

PEOPLE = 8
# Seconds the senders wait for an answer in these tests: short, so that a hang costs little, but
# well above what a loaded machine takes to answer on loopback. A request that times out although
# the fake took it is sent again, and a person would get the message twice.
CLIENT_TIMEOUT = 2.0
HANG = 2 * CLIENT_TIMEOUT  # the client gives up first
LOCKED_FOR = 1.0  # seconds another process holds the lock once the bot has the Telegram updates


@pytest.fixture
async def senders(core: Core) -> AsyncIterator[tuple[FakeTelegram, FakeTwilio]]:
    """The core's outbox sending to both fakes, with short client time-outs."""
    async with FakeTelegram() as telegram, FakeTwilio() as twilio:
        short = HTTPXRequest(
            connect_timeout=CLIENT_TIMEOUT,
            read_timeout=CLIENT_TIMEOUT,
            write_timeout=CLIENT_TIMEOUT,
            pool_timeout=CLIENT_TIMEOUT,
        )
        # One message per chat here (per_chat_interval 0); spacing is tested elsewhere.
        wiring = senders_to(
            core, telegram, twilio, request=short, sms_rate=100.0, sms_timeout=CLIENT_TIMEOUT, per_chat_interval=0.0
        )
        async with wiring:
            yield telegram, twilio


async def queue_news(core: Core) -> tuple[list[int], list[str]]:
    """One message for each of PEOPLE Telegram users and PEOPLE SMS users."""
    chats = [7_100_000 + i for i in range(PEOPLE)]
    phones = [f"+3363994{i:04d}" for i in range(PEOPLE)]
    now = core.clock.now()
    for chat in chats:
        await add_person(core.store, now, "Voisin", {"resident"}, telegram_id=str(chat))
    for phone in phones:
        await add_person(core.store, now, "Voisin", {"resident"}, phone=phone)
    async with core.store.transaction() as db:
        for chat in chats:
            await enqueue(db, now, cause="news", channel=Channel.TELEGRAM, address=str(chat), text="Fête jeudi")
        for phone in phones:
            await enqueue(db, now, cause="news", channel=Channel.SMS, address=phone, text="Fête jeudi")
    return chats, phones


async def statuses(core: Core) -> dict[str, int]:
    found = await core.store.fetchall("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {str(r[0]): int(r[1]) for r in found}


async def test_an_outage_of_both_providers_ends_with_everything_sent_once(
    core: Core, clock: FakeClock, senders: tuple[FakeTelegram, FakeTwilio]
) -> None:
    """429, 500, hangs, cut connections, then 40 minutes down: once back, each person gets the message once."""
    telegram, twilio = senders
    chats, phones = await queue_news(core)
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    telegram.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    telegram.drop_next("sendMessage", 2)
    telegram.hang_next("sendMessage", HANG, 2)
    twilio.fail_next(429, 20429, "Too Many Requests", times=2)
    twilio.fail_next(500, None, "Internal error", times=2)
    twilio.drop_next(2)
    twilio.hang_next(HANG, 2)
    await core.outbox.drain()
    telegram.down("sendMessage", 502, "Bad Gateway")
    twilio.down(503, None, "Service unavailable")
    for _ in range(40):  # forty minutes down: everything is retried, nothing given up
        clock.advance(minutes=1)
        await core.outbox.drain()
    assert "failed" not in await statuses(core)
    assert telegram.sent == [] or len(telegram.sent) < PEOPLE  # the outage did keep messages back
    telegram.up()
    twilio.up()
    for _ in range(20):
        if (await statuses(core)).keys() <= {"sent"}:
            break
        clock.advance(minutes=10)
        await core.outbox.drain()

    assert await statuses(core) == {"sent": 2 * PEOPLE}
    assert Counter(m["chat_id"] for m in telegram.sent) == dict.fromkeys(chats, 1)
    assert Counter(m["To"] for m in twilio.messages) == dict.fromkeys(phones, 1)
    assert telegram.dropped == twilio.dropped == 2 and telegram.hung == twilio.hung == 2
    assert len(telegram.refused) > 10 and len(twilio.refused) > 10
    (throttled_at,) = [moment for moment, _, status in telegram.refused if status == 429]
    too_soon = [m for m, name in telegram.requests if name == "sendMessage" and throttled_at < m < throttled_at + 1]
    assert too_soon == []  # nothing was sent during Telegram's retry_after


# --- The database locked by another process -----------------------------------------------------


@contextmanager
def locked(database: Path) -> Iterator[threading.Event]:
    """Another process's connection holding ``BEGIN EXCLUSIVE`` until the yielded event is set."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(database, isolation_level=None, timeout=PATIENCE)
        try:
            other.execute("BEGIN EXCLUSIVE")
            taken.set()
            release.wait(PATIENCE)
            other.execute("COMMIT")
        finally:
            other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(PATIENCE)
    try:
        yield release
    finally:
        release.set()
        thread.join()


async def release_after(release: threading.Event, seconds: float) -> None:
    await asyncio.sleep(seconds)
    release.set()


async def test_a_locked_database_delays_a_running_bot_without_losing_anything(tmp_path: Path) -> None:
    """A real ``voisins run``: payments and questions sent while another process locks the file are all answered."""
    database = tmp_path / "run.db"
    everyone = pairs(6)
    await seed(database, everyone)
    async with FakeTwilio() as twilio, httpx.AsyncClient(timeout=PATIENCE) as client:
        async with running_bot(tmp_path, sms_env(tmp_path, twilio)) as url:
            answers_yes = [await preview(client, url, pair) for pair in everyone]
            with locked(database) as release:
                confirmations = [
                    tw.post_sms(client, url, tw.sms_params(pair.payer_phone, yes))
                    for pair, yes in zip(everyone, answers_yes, strict=True)
                ] + [tw.post_sms(client, url, tw.sms_params(f"+3363993{n:04d}", "aide")) for n in range(6)]
                started = asyncio.get_running_loop().time()
                answers, _ = await asyncio.gather(asyncio.gather(*confirmations), release_after(release, 2.5))
                waited = asyncio.get_running_loop().time() - started
            assert waited >= 2.5  # nothing could be answered while the file was locked
            assert [r.status_code for r in answers] == [200] * 12
            assert all("C'est envoyé" in tw.messages(r.text)[0] for r in answers[:6])
            assert all(tw.messages(r.text)[0] for r in answers[6:])
            await wait_all_sent(database, 6)  # the outbox resumes: each person paid is told
    assert sorted(m["To"] for m in twilio.messages) == sorted(p.payee_phone for p in everyone)
    assert rows(database, "SELECT COUNT(*) FROM troc_entries WHERE category = 'exchange'") == [(6,)]
    assert "Les comptes sont justes" in await books_check(tmp_path, database)


async def test_telegram_waits_for_a_locked_database(
    tmp_path: Path, clock: FakeClock, fake_telegram: FakeTelegram
) -> None:
    """Telegram updates that arrive while the file is locked are answered once it is free."""
    from bot.app import build_core

    settings = make_settings(tmp_path, telegram_bot_token=fake_telegram.token, telegram_api_url=fake_telegram.url)
    core = await build_core(settings, clock)
    channel = ObservedTelegramChannel(core)
    await channel.start()
    try:
        with locked(settings.database_path) as release:
            updates = [fake_telegram.push_message(7_200_000 + n, "aide") for n in range(3)]
            last = updates[-1]["update_id"]

            def fetched() -> bool:
                """The bot has all three: its next getUpdates confirms them with a higher offset."""
                return any(m == "getUpdates" and int(p.get("offset") or 0) > last for m, p in fake_telegram.calls)

            await eventually(fetched)
            await asyncio.sleep(LOCKED_FOR)  # the fault itself: the file stays locked a moment longer
            assert all(fake_telegram.sent_to(7_200_000 + n) == [] for n in range(3))
            release.set()
        async with asyncio.timeout(PATIENCE):
            for update in updates:
                await channel.event(update["update_id"]).wait()
        for n in range(3):
            assert "Écrivez votre question" in fake_telegram.sent_to(7_200_000 + n)[0]["text"]
    finally:
        await channel.stop()
        await core.close()


async def test_a_lock_longer_than_the_busy_timeout_lets_twilio_deliver_again(core: Core) -> None:
    """Past the busy timeout the webhook answers 500, writes nothing, and Twilio's second delivery is answered."""
    await core.store.db.execute("PRAGMA busy_timeout=300")  # the bot's 10 s, shortened for the test
    params = tw.sms_params("+33639930999", "aide")
    before = await core.store.fetchone("SELECT COUNT(*) FROM persons")
    async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=PATIENCE) as client:
        with locked(core.settings.database_path):
            failed = await tw.post_sms(client, url, params)
        assert failed.status_code == 500  # Twilio delivers the same MessageSid again
        assert await core.store.fetchone("SELECT COUNT(*) FROM persons") == before
        assert not await core.answered(Channel.SMS, params["MessageSid"])
        again = await tw.post_sms(client, url, params)
    assert again.status_code == 200
    assert "crivez votre question" in tw.messages(again.text)[0]


async def test_twilio_delivering_again_while_the_first_is_handled_is_told_to_wait(core: Core) -> None:
    """The same MessageSid while the first delivery waits for the lock: 503 to retry later; handled once."""
    params = tw.sms_params("+33639930998", "aide")
    async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=PATIENCE) as client:
        with locked(core.settings.database_path) as release:
            first = asyncio.create_task(tw.post_sms(client, url, params))
            await eventually(lambda: params["MessageSid"] in sms._handling, what="the first delivery in flight")
            second = await tw.post_sms(client, url, params)
            release.set()
        answered = await first
        third = await tw.post_sms(client, url, params)
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    assert answered.status_code == 200 and "crivez votre question" in tw.messages(answered.text)[0]
    assert third.status_code == 200 and tw.messages(third.text) == []  # answered already: not twice
