"""Telegram through the real python-telegram-bot: polling and webhook, buttons, language, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import build_core
from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from tests.conftest import PATIENCE, ObservedTelegramChannel, TelegramTalk, talking, telegram_settings
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

SECRET = "s3cret_Token-for-tests"


@pytest.fixture
async def polling(tmp_path: Path, clock: FakeClock, fake_telegram: FakeTelegram) -> AsyncIterator[TelegramTalk]:
    talk = TelegramTalk(telegram_settings(tmp_path, fake_telegram), clock, fake_telegram, language_code="en")
    async with talking(talk):
        yield talk


async def test_language_code_is_the_first_guess(polling: TelegramTalk) -> None:
    """A person whose Telegram is in English is answered in English until they choose otherwise."""
    said = await polling("/start")
    assert said.has("Hello, I am the Grands Voisins bot")
    await polling("/language")
    said = await polling.choose(1)
    assert said.has("je vous réponds en français")
    assert (await polling("/help")).has("Écrivez votre question")


async def test_menu_has_inline_buttons_and_callbacks_are_answered(
    polling: TelegramTalk, fake_telegram: FakeTelegram
) -> None:
    """The menu comes as inline buttons; pressing one is acknowledged to Telegram and answered."""
    said = await polling("/menu")
    assert said.buttons, said
    await polling("/language")
    said = await polling.choose(2)
    assert said.has("I will answer you in English")
    assert fake_telegram.answered_callbacks


async def test_commands_are_registered(polling: TelegramTalk, fake_telegram: FakeTelegram) -> None:
    """The bot publishes /start, /menu, /help and /language in Telegram's command menu."""
    (params,) = [p for method, p in fake_telegram.calls if method == "setMyCommands"]
    names = {c["command"] for c in params["commands"]}
    assert names == {"start", "menu", "help", "language", "link", "mydata"}


async def test_group_chats_are_ignored(polling: TelegramTalk, fake_telegram: FakeTelegram) -> None:
    """In a group, a person's answers would be read by everyone: the bot stays silent there."""
    user_id = int(polling.address("alice"))
    update = fake_telegram.make_message_update(user_id, "aide", chat_id=-100123)
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "Voisins"}
    fake_telegram.push_update(update)
    await asyncio.wait_for(polling.telegram.event(update["update_id"]).wait(), timeout=PATIENCE)
    assert fake_telegram.sent_to(-100123) == []


async def test_sticker_gets_the_menu(polling: TelegramTalk, fake_telegram: FakeTelegram) -> None:
    """A message with no text (a sticker) gets the menu, not silence or an error."""
    user_id = int(polling.address("alice"))
    update = fake_telegram.make_message_update(user_id, "")
    message = update["message"]
    del message["text"]
    message["sticker"] = {
        "file_id": "CAAC",
        "file_unique_id": "AQAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    fake_telegram.push_update(update)
    said = await polling._exchange("alice", update)
    assert said.has("Que cherchez-vous")


async def test_edited_messages_are_not_answered(polling: TelegramTalk, fake_telegram: FakeTelegram) -> None:
    """Editing an old message does not trigger a second answer (edits are not even requested)."""
    assert all(
        "edited_message" not in (p.get("allowed_updates") or []) for m, p in fake_telegram.calls if m == "getUpdates"
    )


@pytest.fixture
async def webhook(tmp_path: Path, clock: FakeClock, fake_telegram: FakeTelegram) -> AsyncIterator[tuple[Core, str]]:
    settings = telegram_settings(tmp_path, fake_telegram, telegram_mode="webhook", telegram_webhook_secret=SECRET)
    core = await build_core(settings, clock)
    channel = ObservedTelegramChannel(core)
    await channel.start()
    core.telegram = channel  # type: ignore[attr-defined]
    try:
        async with serve(build_http_app(core, channel)) as url:
            yield core, url
    finally:
        await channel.stop()
        await core.close()


async def handled_after(
    client: httpx.AsyncClient, url: str, channel: ObservedTelegramChannel, fake: FakeTelegram
) -> None:
    """POST a harmless update from another chat and wait until it is handled.

    Updates are handled one at a time, in order: whatever was queued before it has been handled too,
    so a test can then check what an earlier POST did (or did not do) without waiting a fixed time.
    """
    marker = fake.make_message_update(7999, "aide")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert (await client.post(f"{url}/telegram", json=marker, headers=headers)).status_code == 200
    await asyncio.wait_for(channel.event(marker["update_id"]).wait(), timeout=PATIENCE)


async def test_webhook_is_registered_with_the_secret(webhook: tuple[Core, str], fake_telegram: FakeTelegram) -> None:
    """At start the bot registers PUBLIC_URL/telegram with its secret token, and does not poll."""
    assert fake_telegram.webhook is not None
    assert fake_telegram.webhook["url"] == "https://voisins.example.org/telegram"
    assert fake_telegram.webhook["secret_token"] == SECRET
    assert not [m for m, _ in fake_telegram.calls if m == "getUpdates"]


async def test_webhook_update_is_answered(webhook: tuple[Core, str], fake_telegram: FakeTelegram) -> None:
    """An update POSTed with the right secret is answered through the Bot API."""
    _core, url = webhook
    update = fake_telegram.make_message_update(7001, "aide")
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        response = await client.post(
            f"{url}/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
    assert response.status_code == 200
    (message,) = await fake_telegram.wait_sent(7001, timeout=PATIENCE)
    assert "Écrivez votre question" in message["text"]


async def test_webhook_repeated_update_is_answered_once(webhook: tuple[Core, str], fake_telegram: FakeTelegram) -> None:
    """Telegram delivering the same update twice gets one answer."""
    core, url = webhook
    update = fake_telegram.make_message_update(7002, "aide")
    channel: ObservedTelegramChannel = core.telegram  # type: ignore[attr-defined]
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        for _ in range(2):
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            assert (await client.post(f"{url}/telegram", json=update, headers=headers)).status_code == 200
        await handled_after(client, url, channel, fake_telegram)  # so both deliveries were handled before it
    texts = [m["text"] for m in fake_telegram.sent_to(7002)]
    assert sum("Écrivez votre question" in text for text in texts) == 1, texts


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_webhook_without_the_secret_is_refused(
    webhook: tuple[Core, str], fake_telegram: FakeTelegram, secret: str | None
) -> None:
    """A POST without the secret header, or with another one, gets 403 and changes nothing."""
    core, url = webhook
    update = fake_telegram.make_message_update(7003, "stop")
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    before = await core.store.fetchone("SELECT COUNT(*) FROM identities WHERE address = '7003'")
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        response = await client.post(f"{url}/telegram", json=update, headers=headers)
        assert response.status_code == 403
        await handled_after(client, url, core.telegram, fake_telegram)  # type: ignore[attr-defined]
    assert fake_telegram.sent_to(7003) == []
    assert await core.store.fetchone("SELECT COUNT(*) FROM identities WHERE address = '7003'") == before


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"update_id": "x"}', b"{}"])
async def test_webhook_garbage_is_a_400(webhook: tuple[Core, str], body: bytes) -> None:
    """A body that is not an update gets a 4xx, never a 500."""
    _core, url = webhook
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        response = await client.post(
            f"{url}/telegram",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
        )
    assert 400 <= response.status_code < 500
