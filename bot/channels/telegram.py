"""Telegram through python-telegram-bot: one handler turns every update into an :class:`Inbound`.

Polling by default; with ``TELEGRAM_MODE=webhook`` updates arrive on ``POST /telegram`` of the
shared Starlette app and go on PTB's own update queue. Conversation state is the bot's, not PTB's.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import sqlite3
from collections.abc import Iterator, Sequence
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
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.http import unavailable_text
from bot.core import Core
from bot.messages import Channel, Choice, Inbound, Location, Reply
from bot.outbox import Retry, Row, Sent, Undeliverable
from bot.startup import StartupError
from bot.store import unwritable_reason

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


def _redacted(text: str, token: str) -> str:
    """An error's words with the token taken out (URLs in httpx's messages carry it), kept short."""
    return text.replace(token, "<TELEGRAM_BOT_TOKEN>").splitlines()[0][:200] if text else "no detail"


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
        """Check the token, register the commands and start polling or the webhook.

        A failure here is one line for the operator (:class:`StartupError`): PTB's own messages and
        the URLs in httpx's carry the token, so nothing of them is shown but the kind of error.
        """
        settings = self.core.settings
        assert settings.telegram_bot_token is not None
        token = settings.telegram_bot_token.get_secret_value()
        api = settings.telegram_api_url
        try:
            await self._start()
        except InvalidToken:
            raise StartupError(
                f"The Telegram Bot API at {api} refused TELEGRAM_BOT_TOKEN: copy the token again from "
                "@BotFather (or check TELEGRAM_API_URL)."
            ) from None
        except BadRequest as exc:
            what = _redacted(exc.message, token)
            raise StartupError(
                f"Telegram refused the start-up settings ({what}): check PUBLIC_URL and TELEGRAM_WEBHOOK_SECRET."
            ) from None
        except NetworkError as exc:  # time-outs too
            what = _redacted(exc.message, token)
            raise StartupError(
                f"Cannot reach the Telegram Bot API at {api} ({what}): check the network, a proxy, or TELEGRAM_API_URL."
            ) from None
        except Exception as exc:  # a malformed TELEGRAM_API_URL, an unexpected answer
            what = _redacted(f"{type(exc).__name__}: {exc}", token)
            raise StartupError(
                f"Telegram did not start ({what}): check TELEGRAM_API_URL and TELEGRAM_BOT_TOKEN."
            ) from None

    async def _start(self) -> None:
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
        # Bounded by the app's BodyLimit (MAX_UPDATE_BYTES here): too large 413, too slow 408.
        body = await request.body()
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
        chat_id = update.effective_chat.id if update.effective_chat else int(inbound.address)
        try:
            replies = await self.core.dispatcher.handle(inbound)
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            # A full or read-only database: a few words, and the update stays unseen (sent again, it is handled).
            log.error("a Telegram update could not be handled: the database is %s", reason)
            try:
                await context.bot.send_message(chat_id=chat_id, text=await unavailable_text(self.core, inbound))
            except TelegramError:
                log.warning("could not tell a person the service is unavailable")
            return
        try:
            await self.core.seen(Channel.TELEGRAM, str(update.update_id))
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            log.error("a Telegram update was answered but not recorded as seen: the database is %s", reason)
        for reply in replies:
            parts = chunks(reply.shown)
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
    """Sends outbox rows, and edits them, with the application's own Bot: its token, base URL and connections."""

    channel = Channel.TELEGRAM
    per_address_interval = 1.0  # Telegram: about one message a second per chat

    def __init__(self, bot: Bot, max_per_second: float) -> None:
        self.bot = bot
        self.max_per_second = max_per_second

    async def send(self, row: Row) -> Sent:
        with _outbox_errors():
            message = await self.bot.send_message(
                chat_id=int(row.address),
                text=row.body[: MessageLimit.MAX_TEXT_LENGTH],
                reply_markup=keyboard(Reply(row.body, row.choices)),
            )
        return Sent(str(message.message_id))

    async def edit(self, address: str, message_ref: str, text: str, choices: Sequence[Choice] = ()) -> None:
        """Edit a message this bot sent; no choices take its buttons away; the same text again is no error."""
        with _outbox_errors():
            try:
                await self.bot.edit_message_text(
                    text=text[: MessageLimit.MAX_TEXT_LENGTH],
                    chat_id=int(address),
                    message_id=int(message_ref),
                    reply_markup=keyboard(Reply(text, tuple(choices))),
                )
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    raise

    async def close(self) -> None:
        """The application owns the bot and closes it."""


@contextlib.contextmanager
def _outbox_errors() -> Iterator[None]:
    """PTB's errors in the outbox's words: wait and try again (429, time-outs, 5xx) or never."""
    try:
        yield
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        raise Retry("telegram 429", after=seconds, pause_channel=True) from None
    except Forbidden:
        raise Undeliverable("blocked or deactivated", mark="unreachable") from None
    except BadRequest as exc:
        raise Undeliverable(f"bad request: {type(exc).__name__}") from None
    except TelegramError as exc:  # NetworkError (time-outs, 5xx) and the rest
        raise Retry(f"telegram {type(exc).__name__}") from None
