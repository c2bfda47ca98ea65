"""The fake Telegram Bot API answers the real python-telegram-bot the way Telegram does."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def application(fake: FakeTelegram) -> Application:  # type: ignore[type-arg]
    return (
        Application.builder()
        .token(fake.token)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .build()
    )


def bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(token or fake.token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")


async def test_polling_echo(fake: FakeTelegram) -> None:
    """A pushed message reaches a polling Application, its answer is recorded, the update confirmed."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake.push_message(42, "Bonjour ! 42", language_code="fr")
            sent = await fake.wait_sent(42)
        finally:
            await app.updater.stop()
            await app.stop()

    assert [(s["method"], s["chat_id"], s["text"]) for s in sent] == [("sendMessage", 42, "Bonjour ! 42")]
    assert sent[0]["reply_markup"] is None
    assert sent[0]["message_id"] == 2  # the person's message was 1 in this private chat
    assert fake.pending_updates == []  # confirmed by the updater's last getUpdates
    assert fake.calls[0][0] == "getMe"
    assert "deleteWebhook" in [name for name, _ in fake.calls]


async def test_callback_query_flow(fake: FakeTelegram) -> None:
    """/start shows buttons; pressing one is answered and edits that very message."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = [
            [InlineKeyboardButton("Oui", callback_data="yes")],
            [InlineKeyboardButton("Non", callback_data="no")],
        ]
        await update.message.reply_text("Alors ?", reply_markup=InlineKeyboardMarkup(keyboard))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Choisi : {query.data}")

    app = application(fake)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=["message", "callback_query"])
        try:
            fake.push_message(7, "/start")
            menu = (await fake.wait_sent(7))[0]
            assert menu["reply_markup"] == {
                "inline_keyboard": [[{"text": "Oui", "callback_data": "yes"}], [{"text": "Non", "callback_data": "no"}]]
            }
            press = fake.push_callback(7, "yes")
            sent = await fake.wait_sent(7, 2)
        finally:
            await app.updater.stop()
            await app.stop()

    assert press["callback_query"]["message"]["message_id"] == menu["message_id"]
    edit = sent[1]
    assert (edit["method"], edit["message_id"], edit["text"]) == ("editMessageText", menu["message_id"], "Choisi : yes")
    assert edit["reply_markup"] is None and "reply_markup" not in fake.messages[(7, menu["message_id"])]
    assert fake.answered_callbacks == [press["callback_query"]["id"]]
    assert fake.allowed_updates == ["message", "callback_query"]


async def test_faults_become_ptb_errors(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    """fail_next and Telegram's own refusals surface as PTB's exceptions."""
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) while building RetryAfter,
    # which filterwarnings=error turns into the raised exception.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with bot(fake) as client:
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        with pytest.raises(RetryAfter) as flood:
            await client.send_message(5, "un")
        assert flood.value.retry_after == dtm.timedelta(seconds=1)

        fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", times=2)
        for _ in range(2):
            with pytest.raises(Forbidden, match="blocked"):
                await client.send_message(5, "deux")
        await client.send_message(5, "trois")  # the knob is used up

        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await client.send_message(5, "x" * 4097)
        await client.send_message(5, "é" * 4096)
        with pytest.raises(EndPointNotFound):
            await client.do_api_request("sendTeapot", api_kwargs={"chat_id": 5})

    assert [s["text"] for s in fake.sent_to(5)] == ["trois", "é" * 4096]
    assert [name for name, _ in fake.calls].count("sendMessage") == 6


async def test_tokens_and_webhook(fake: FakeTelegram) -> None:
    """A wrong token is refused; setWebhook/getWebhookInfo/deleteWebhook keep Telegram's state."""
    stranger = bot(fake, "999:WRONG-TOKEN")
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    assert fake.calls == []

    async with bot(fake) as client:
        fake.push_message(3, "en attente")
        await client.set_webhook(
            "https://voisins.example.org/telegram", secret_token="s3cret-token", allowed_updates=["message"]
        )
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://voisins.example.org/telegram"
        assert fake.webhook["secret_token"] == "s3cret-token"
        assert fake.webhook["allowed_updates"] == ["message"]
        with pytest.raises(Conflict):
            await client.get_updates()
        info = await client.get_webhook_info()
        assert (info.url, info.pending_update_count) == ("https://voisins.example.org/telegram", 1)

        await client.delete_webhook(drop_pending_updates=True)
        assert fake.webhook is None
        assert await client.get_updates(timeout=0) == ()
