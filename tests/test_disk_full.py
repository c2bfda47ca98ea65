"""A full disk and a read-only database while the bot runs: a short answer, nothing lost, /healthz says why.

The full disk is real: a small tmpfs mounted for the test (root only; skipped elsewhere), filled
to the last byte, so SQLite reports SQLITE_FULL exactly as on a site's full disk. A database that
becomes read-only under a running bot cannot be made with chmod (root ignores it, and an open file
stays writable) nor with a read-only remount (Linux refuses it while the file is open for writing):
``PRAGMA query_only`` on the bot's own connection makes SQLite refuse every write with the same
SQLITE_READONLY ("attempt to write a readonly database") a read-only file gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.app import build_core
from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from bot.i18n import I18n
from bot.messages import Channel
from bot.outbox import enqueue
from bot.sms_text import segments
from tests.conftest import ObservedTelegramChannel, make_settings
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

STRANGER = "+33639981301"
ENGLISH_DEMO_PERSON = "+33639980003"  # the demo person with this number chose English
I18N = I18n()
UNAVAILABLE = {language: I18N.t(language, "core.unavailable") for language in ("fr", "en")}


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of the test's own, unmounted afterwards."""
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk says ENOSPC; removing it frees the disk."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


async def full(core: Core, disk: Path) -> Path:
    """Fill the disk under the running bot.

    The write-ahead log is emptied first: SQLite reuses a log's space after a checkpoint, and the
    test wants the very next write to need a new block, as it soon does on a site's full disk.
    """
    await core.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return fill(disk)


@contextlib.asynccontextmanager
async def sms_bot(settings_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Core, str, httpx.AsyncClient]]:
    """The core on ``settings_path``, its scheduler running, served by the real uvicorn."""
    core = await build_core(make_settings(settings_path.parent, database_path=settings_path), clock)
    core.scheduler.start()
    try:
        async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=30) as client:
            yield core, url, client
    finally:
        await core.close()


async def seen(core: Core, channel: Channel, message_id: str) -> bool:
    row = await core.store.fetchone(
        "SELECT 1 FROM inbound_seen WHERE channel = ? AND message_id = ?", (channel.value, message_id)
    )
    return row is not None


async def sent_sms(core: Core) -> str:
    """An outbox row Twilio has accepted, for a delivery report to be about; its MessageSid."""
    sid = "SM" + "9" * 32
    async with core.store.transaction() as db:
        await enqueue(db, core.clock.now(), cause="t", channel=Channel.SMS, address=STRANGER, text="Bonjour")
        await db.execute("UPDATE outbox SET status = 'sent', provider_id = ? WHERE cause = 't'", (sid,))
    return sid


def test_the_unavailable_text_is_one_gsm7_segment() -> None:
    """The text costs one SMS and reaches a basic phone: GSM-7, one segment, with 115 and 112."""
    for text in UNAVAILABLE.values():
        assert segments(text).encoding == "GSM-7" and segments(text).count == 1
        assert "115" in text and "112" in text


async def test_a_full_disk_answers_a_short_twiml_and_twilio_retries_later(disk: Path, clock: FakeClock) -> None:
    """Disk full: the SMS gets the unavailable text in TwiML, is not marked seen, and its retry is answered."""
    async with sms_bot(disk / "bot.db", clock) as (core, url, client):
        assert (await client.get(f"{url}/healthz")).json()["database"] == "ok"
        sent_sid = await sent_sms(core)
        filler = await full(core, disk)
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 503 and health.json()["database"] == "full"

        stranger = tw.sms_params(STRANGER, "aide")
        response = await tw.post_sms(client, url, stranger)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
        assert tw.messages(response.text) == [UNAVAILABLE["fr"]]
        english = tw.sms_params(ENGLISH_DEMO_PERSON, "aide")
        assert tw.messages((await tw.post_sms(client, url, english)).text) == [UNAVAILABLE["en"]]
        assert not await seen(core, Channel.SMS, stranger["MessageSid"])
        status = {"MessageSid": sent_sid, "MessageStatus": "delivered", "AccountSid": tw.ACCOUNT_SID}
        callback = await client.post(
            f"{url}/twilio/status",
            data=status,
            headers={"X-Twilio-Signature": tw.sign(f"{tw.PUBLIC_URL}/twilio/status", status)},
        )
        assert callback.status_code == 503  # Twilio may try again; no traceback, no bare 500
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 503 and health.json()["database"] == "full"

        filler.unlink()
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 200 and health.json()["database"] == "ok"
        retried = await tw.post_sms(client, url, stranger)  # Twilio's retry: the same MessageSid
        assert "crivez votre question" in tw.messages(retried.text)[0]
        assert await seen(core, Channel.SMS, stranger["MessageSid"])


async def test_a_read_only_database_answers_a_short_twiml(disk: Path, clock: FakeClock) -> None:
    """Read-only database: the unavailable text, /healthz 503 "read-only", then normal again once writable."""
    async with sms_bot(disk / "bot.db", clock) as (core, url, client):
        await core.store.db.execute("PRAGMA query_only = ON")
        params = tw.sms_params(STRANGER, "aide")
        response = await tw.post_sms(client, url, params)
        assert response.status_code == 200
        assert tw.messages(response.text) == [UNAVAILABLE["fr"]]
        assert not await seen(core, Channel.SMS, params["MessageSid"])
        health = await client.get(f"{url}/healthz")
        assert health.status_code == 503 and health.json()["database"] == "read-only"

        await core.store.db.execute("PRAGMA query_only = OFF")
        assert (await client.get(f"{url}/healthz")).status_code == 200
        assert "crivez votre question" in tw.messages((await tw.post_sms(client, url, params)).text)[0]
        assert await seen(core, Channel.SMS, params["MessageSid"])


async def test_a_full_disk_answers_on_telegram_and_leaves_the_update_unseen(disk: Path, clock: FakeClock) -> None:
    """Disk full on Telegram: the unavailable text as the reply, the update not marked seen, then normal again."""
    async with FakeTelegram() as fake:
        settings = make_settings(
            disk.parent, database_path=disk / "bot.db", telegram_bot_token=fake.token, telegram_api_url=fake.url
        )
        core = await build_core(settings, clock)
        telegram = ObservedTelegramChannel(core)
        await telegram.start()
        try:
            filler = await full(core, disk)
            update = fake.push_message(7301, "aide", language_code="en")
            await asyncio.wait_for(telegram.event(update["update_id"]).wait(), timeout=30)
            assert [m["text"] for m in fake.sent_to(7301)] == [UNAVAILABLE["en"]]
            assert not await seen(core, Channel.TELEGRAM, str(update["update_id"]))

            filler.unlink()
            again = fake.push_message(7301, "aide", language_code="en")
            await asyncio.wait_for(telegram.event(again["update_id"]).wait(), timeout=30)
            answer = "\n".join(m["text"] for m in fake.sent_to(7301)[1:])
            assert "Type your question" in answer and UNAVAILABLE["en"] not in answer
            assert await seen(core, Channel.TELEGRAM, str(again["update_id"]))
        finally:
            await telegram.stop()
            await core.close()
