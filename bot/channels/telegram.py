"""Telegram through python-telegram-bot: one handler turns every update into an :class:`Inbound`.

Polling by default; with ``TELEGRAM_MODE=webhook`` updates arrive on ``POST /telegram`` of the
shared Starlette app and go on PTB's own update queue. Conversation state is the bot's, not PTB's.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.app import Core
from bot.messages import Channel, Inbound, Location, Reply
from bot.outbox import Retry, Row, Sent, Undeliverable

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAX_UPDATE_BYTES = 1024 * 1024
COMMANDS = (
    ("start", "Menu"),
    ("menu", "Menu"),
    ("help", "Aide / Help"),
    ("language", "Langue / Language"),
    ("link", "Relier mon compte / Link my account"),
    ("mydata", "Mes données / My data"),
)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per line: labels stay readable on a small screen."""
    if not reply.choices:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.key)] for c in reply.choices])


def chunks(text: str, size: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class TelegramChannel:
    def __init__(self, core: Core) -> None:
        settings = core.settings
        assert settings.telegram_bot_token is not None
        self.core = core
        self.webhook = settings.telegram_mode == "webhook"
        api = settings.telegram_api_url
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
        )
        if self.webhook:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self.on_update))
        self.application.add_error_handler(self.on_error)

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        await app.start()
        await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS])
        if self.webhook:
            secret = self.core.settings.telegram_webhook_secret
            assert secret is not None
            await app.bot.set_webhook(
                url=f"{self.core.settings.public_url}/telegram",
                secret_token=secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def webhook_endpoint(self, request: Request) -> Response:
        """``POST /telegram``: the secret header is compared in constant time before anything is read."""
        secret = self.core.settings.telegram_webhook_secret
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if secret is None or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return PlainTextResponse("Forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return PlainTextResponse("Too large", status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return PlainTextResponse("Not an update", status_code=400)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = await self.to_inbound(update)
        if inbound is None:
            return
        if await self.core.answered(Channel.TELEGRAM, str(update.update_id)):
            return
        replies = await self.core.dispatcher.handle(inbound)
        await self.core.seen(Channel.TELEGRAM, str(update.update_id))
        chat_id = update.effective_chat.id if update.effective_chat else int(inbound.address)
        for reply in replies:
            parts = chunks(reply.text)
            for i, part in enumerate(parts):
                markup = keyboard(reply) if i == len(parts) - 1 else None
                await context.bot.send_message(chat_id=chat_id, text=part, reply_markup=markup)

    async def to_inbound(self, update: Update) -> Inbound | None:
        """Private chats only: in a group, a person's answers would be read by everyone."""
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE or user.is_bot:
            return None
        hint = user.language_code
        query: CallbackQuery | None = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError:
                log.warning("could not answer a callback query")
            return Inbound(Channel.TELEGRAM, str(user.id), choice=query.data or "", language_hint=hint)
        message = update.message
        if message is None:
            return None  # edited messages, reactions: nothing to answer
        location = None
        if message.location is not None:
            location = Location(message.location.latitude, message.location.longitude)
        text = message.text or message.caption or ""
        return Inbound(Channel.TELEGRAM, str(user.id), text=text, location=location, language_hint=hint)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", type(context.error).__name__, exc_info=context.error)


class TelegramSender:
    """Sends outbox rows with the application's own Bot: the same token, base URL and connection pool."""

    channel = Channel.TELEGRAM
    per_address_interval = 1.0  # Telegram: about one message a second per chat

    def __init__(self, bot: Bot, max_per_second: float) -> None:
        self.bot = bot
        self.max_per_second = max_per_second

    async def send(self, row: Row) -> Sent:
        try:
            message = await self.bot.send_message(
                chat_id=int(row.address),
                text=row.body[: MessageLimit.MAX_TEXT_LENGTH],
                reply_markup=keyboard(Reply(row.body, row.choices)),
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise Retry("telegram 429", after=seconds, pause_channel=True) from None
        except Forbidden:
            raise Undeliverable("blocked or deactivated", mark="unreachable") from None
        except BadRequest as exc:
            raise Undeliverable(f"bad request: {type(exc).__name__}") from None
        except NetworkError as exc:  # time-outs and 5xx
            raise Retry(f"telegram {type(exc).__name__}") from None
        except TelegramError as exc:
            raise Retry(f"telegram {type(exc).__name__}") from None
        return Sent(str(message.message_id))

    async def close(self) -> None:
        """The application owns the bot and closes it."""
