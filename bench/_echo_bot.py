"""The bare python-telegram-bot echo bot the Telegram benchmark compares the bot with.

    python bench/_echo_bot.py TOKEN API_URL

An ``Application`` with one ``MessageHandler`` that sends the text back, polling like the bot
(same allowed updates, PTB's defaults otherwise): the library's own limit on this machine.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.message is not None
    await context.bot.send_message(chat_id=update.effective_chat.id, text=update.message.text or "?")


def main() -> None:
    token, url = sys.argv[1], sys.argv[2]
    application = Application.builder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])


if __name__ == "__main__":
    main()
