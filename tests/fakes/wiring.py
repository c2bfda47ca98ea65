"""A core's outbox sending to the fake Twilio and the fake Telegram, for tests of timed messages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.request import BaseRequest

from bot.channels.sms import REQUEST_TIMEOUT, SmsSender
from bot.channels.telegram import TelegramSender
from bot.channels.whatsapp import WhatsAppSender, message_kinds
from bot.core import Core
from tests.conftest import patient_request
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio


@contextlib.asynccontextmanager
async def senders(
    core: Core,
    telegram: FakeTelegram,
    twilio: FakeTwilio,
    *,
    request: BaseRequest | None = None,
    telegram_rate: float = 30,
    sms_rate: float = 50,
    sms_timeout: float = REQUEST_TIMEOUT,
    per_chat_interval: float | None = None,
) -> AsyncIterator[None]:
    """The core's outbox sending to these fakes (``request``: PTB's client, patient by default); stopped after.

    WhatsApp, when the settings have it, goes to the same fake Twilio (``whatsapp:`` addresses).
    """
    bot = Bot(
        telegram.token,
        base_url=f"{telegram.url}/bot",
        base_file_url=f"{telegram.url}/file/bot",
        request=request or patient_request(),
    )
    settings = core.settings.model_copy(update={"twilio_api_url": twilio.url, "sms_max_per_second": sms_rate})
    async with bot:
        sender = TelegramSender(bot, telegram_rate)
        if per_chat_interval is not None:
            sender.per_address_interval = per_chat_interval
        core.outbox.add_sender(sender)
        core.outbox.add_sender(SmsSender(settings, timeout=sms_timeout))
        if settings.whatsapp_enabled:
            kinds = message_kinds(core.routers)
            core.outbox.add_sender(WhatsAppSender(settings, core.store, core.clock, kinds, timeout=sms_timeout))
        try:
            yield
        finally:
            await core.outbox.stop()


@contextlib.asynccontextmanager
async def wired(core: Core, sms_rate: float = 50) -> AsyncIterator[tuple[FakeTwilio, FakeTelegram]]:
    """The core's outbox sending to a new fake Twilio and a new fake Telegram."""
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, senders(core, telegram, twilio, sms_rate=sms_rate):
        yield twilio, telegram


async def run(core: Core) -> None:
    """What the running bot does every second: the hooks' tick, then sending what is due."""
    await core.outbox.tick()
    await core.outbox.drain()
