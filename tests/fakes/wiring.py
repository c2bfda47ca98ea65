"""A core's outbox sending to the fake Twilio and the fake Telegram, for tests of timed messages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from telegram import Bot

from bot.channels.sms import SmsSender
from bot.channels.telegram import TelegramSender
from bot.core import Core
from tests.conftest import patient_request
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio


@contextlib.asynccontextmanager
async def wired(core: Core) -> AsyncIterator[tuple[FakeTwilio, FakeTelegram]]:
    """The core's outbox sending to the fake Twilio and the fake Telegram."""
    async with FakeTwilio() as twilio, FakeTelegram() as telegram:
        bot = Bot(
            telegram.token,
            base_url=f"{telegram.url}/bot",
            base_file_url=f"{telegram.url}/file/bot",
            request=patient_request(),
        )
        settings = core.settings.model_copy(update={"twilio_api_url": twilio.url, "sms_max_per_second": 50})
        async with bot:
            core.outbox.add_sender(TelegramSender(bot, 30))
            core.outbox.add_sender(SmsSender(settings))
            try:
                yield twilio, telegram
            finally:
                await core.outbox.stop()


async def run(core: Core) -> None:
    """What the running bot does every second: the hooks' tick, then sending what is due."""
    await core.outbox.tick()
    await core.outbox.drain()
