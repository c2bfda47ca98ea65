"""``voisins run`` as a deployment starts it: a real process, configured by its environment only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.commands import bot_env, free_port, healthy, spawn_bot, terminate, voisins
from tests.conftest import PATIENCE
from tests.fakes import twilio_webhook as tw
from tests.fakes.telegram_api import FakeTelegram

SECRET = "run-test-secret"


@asynccontextmanager
async def voisins_run(tmp_path: Path, **settings: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start ``voisins run`` in ``tmp_path`` (so no .env is read), wait for /healthz, stop it with SIGTERM."""
    process, url = await spawn_bot(tmp_path, bot_env(tmp_path, **settings))
    try:
        assert await healthy(process, url), (await process.stderr.read()).decode()  # type: ignore[union-attr]
        yield process, url
    finally:
        await terminate(process)


async def test_run_in_the_terminal_with_no_account(tmp_path: Path) -> None:
    """With nothing configured, ``voisins run`` chats in the terminal on SQLite with demo data."""
    ran = await voisins(
        tmp_path, "run", stdin=b"aide\nlangue\n2\n/quit\n", env=bot_env(tmp_path, HTTP_PORT=str(free_port()))
    )
    text = ran.out
    assert ran.code == 0, ran.err
    assert "dans le terminal" in text
    assert "Écrivez votre question avec vos mots" in text
    assert "I will answer you in English" in text
    assert (tmp_path / "run.db").exists()


async def test_run_answers_a_signed_sms(tmp_path: Path) -> None:
    """With TWILIO_* and PUBLIC_URL, `voisins run` answers a signed POST /twilio/sms in TwiML; SIGTERM stops it."""
    settings = {
        "TWILIO_ACCOUNT_SID": tw.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": tw.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": tw.BOT_NUMBER,
        "PUBLIC_URL": tw.PUBLIC_URL,
    }
    async with voisins_run(tmp_path, **settings) as (process, url), httpx.AsyncClient(timeout=PATIENCE) as client:
        response = await tw.post_sms(client, url, tw.sms_params("+33639980555", "aide"))
        assert response.status_code == 200
        assert "crivez votre question" in tw.messages(response.text)[0]
        unsigned = await tw.post_sms(client, url, tw.sms_params("+33639980555", "aide"), signature="")
        assert unsigned.status_code == 403
    assert process.returncode == 0


async def test_run_answers_telegram_by_polling(tmp_path: Path) -> None:
    """With TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL, ``voisins run`` polls the Bot API server and answers."""
    async with FakeTelegram() as fake:
        settings = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.url}
        async with voisins_run(tmp_path, **settings) as (process, _):
            fake.push_message(9001, "aide", language_code="fr")
            (message,) = await fake.wait_sent(9001, timeout=PATIENCE)
            assert "Écrivez votre question" in message["text"]
        assert process.returncode == 0


async def test_run_answers_telegram_by_webhook(tmp_path: Path) -> None:
    """In webhook mode ``voisins run`` registers PUBLIC_URL/telegram and answers updates POSTed there."""
    async with FakeTelegram() as fake:
        settings = {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.url,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PUBLIC_URL": "https://voisins.example.org",
        }
        async with voisins_run(tmp_path, **settings) as (process, url), httpx.AsyncClient(timeout=PATIENCE) as client:
            assert fake.webhook is not None and fake.webhook["url"] == "https://voisins.example.org/telegram"
            update = fake.make_message_update(9002, "aide")
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            assert (await client.post(f"{url}/telegram", json=update, headers=headers)).status_code == 200
            (message,) = await fake.wait_sent(9002, timeout=PATIENCE)
            assert "Écrivez votre question" in message["text"]
        assert process.returncode == 0


async def test_missing_setting_fails_at_start_with_a_clear_message(tmp_path: Path) -> None:
    """SMS switched on without PUBLIC_URL stops at start and names the missing key."""
    ran = await voisins(
        tmp_path, "run", env=bot_env(tmp_path, TWILIO_AUTH_TOKEN="x", TWILIO_ACCOUNT_SID=tw.ACCOUNT_SID)
    )
    assert ran.code == 2
    assert "PUBLIC_URL" in ran.err


async def test_chat_as_a_phone_number_talks_as_that_person(tmp_path: Path) -> None:
    """``voisins chat --as PHONE`` talks as that number's SMS identity, with the SMS rendering."""
    ran = await voisins(tmp_path, "chat", "--as", "06 39 98 00 03", stdin=b"aide\n/quit\n")
    assert ran.code == 0, ran.err
    text = ran.out
    assert "Type your question" in text  # the demo person with that number chose English
    import sqlite3

    with sqlite3.connect(tmp_path / "run.db") as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM identities WHERE channel = 'sms' AND address = '+33639980003'"
        ).fetchone()
    assert count == 1


async def test_chat_refuses_what_is_not_a_phone_number(tmp_path: Path) -> None:
    """``--as`` with something that is not a phone number stops with a clear message."""
    ran = await voisins(tmp_path, "chat", "--as", "hello")
    assert ran.code == 2
    assert "Ce n'est pas un numéro de téléphone" in ran.err
