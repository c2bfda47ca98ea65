"""The ``voisins`` command: run the bot, chat with it in the terminal, and the staff's commands."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.app import feature_routers, open_core
from bot.app import run as run_bot
from bot.channels.console import ConsoleChannel, can_converse
from bot.cli_support import phone_or_exit, settings_or_exit
from bot.config import Settings
from bot.i18n import I18n
from bot.startup import StartupError

app = typer.Typer(
    help="The Grands Voisins bot: SMS, Telegram and the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would print phone numbers and messages
)


def _logging(settings: Settings, quiet: bool) -> None:
    """Logs carry no phone number and no message body: handlers log ids and kinds only."""
    logging.basicConfig(
        level=logging.WARNING if quiet else settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "apscheduler", "telegram.ext", "aiosqlite"):  # they log texts and SQL parameters
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def run() -> None:
    """Run every channel configured in .env, the HTTP server and the scheduler (the terminal when none is)."""
    settings = settings_or_exit()
    # Quiet while chatting in the terminal; with no terminal (a service manager) the log is all there is.
    _logging(settings, quiet=settings.console_only and can_converse(sys.stdin))
    try:
        asyncio.run(run_bot(settings))
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


# "--as 06 39 98 00 02" unquoted, as people write a number: the words after the number are its rest.
@app.command(context_settings={"allow_extra_args": True})
def chat(
    context: typer.Context,
    as_phone: Annotated[
        str | None, typer.Option("--as", help="Talk as the person with this phone number (SMS rendering).")
    ] = None,
) -> None:
    """A terminal conversation with the same handlers, as an unknown person or --as PHONE."""
    settings = settings_or_exit()
    _logging(settings, quiet=True)
    i18n = I18n.configured(settings)
    if context.args and as_phone is None:
        typer.echo(i18n.t(i18n.default_language, "core.cli_chat_as"), err=True)
        raise typer.Exit(2)
    phone = phone_or_exit(" ".join([as_phone, *context.args]), i18n) if as_phone is not None else None

    async def talk() -> None:
        # No instance lock: chat neither sends nor recovers the outbox, so it is safe beside a running bot
        # (what it queues, the running bot sends).
        core = await open_core(settings)
        try:
            await ConsoleChannel(core.dispatcher, phone=phone).run()
        finally:
            await core.close()

    try:
        asyncio.run(talk())
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


@app.command()
def backup(
    path: Annotated[
        Path | None,
        typer.Argument(help="The copy's file, or a folder for a dated file (default: backups/ beside the database)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace PATH if it exists.")] = False,
) -> None:
    """Copy the live database while the bot runs (SQLite's online backup), then check the copy."""
    from babel.numbers import format_decimal

    from bot.backup import BackupError, target_path
    from bot.backup import backup as make_backup
    from bot.clock import SystemClock

    settings = settings_or_exit()
    database = Path(settings.database_path)
    i18n = I18n.configured(settings)
    language = i18n.default_language
    try:
        target = target_path(database, path, SystemClock().now().astimezone(settings.tz))
        made = make_backup(database, target, overwrite=overwrite)
    except BackupError as exc:
        typer.echo(i18n.t(language, exc.key, **exc.params), err=True)
        raise typer.Exit(1) from None
    size = format_decimal(round(made.size / 1024), locale=language)
    typer.echo(i18n.t(language, "core.cli_backup_written", file=made.path, size=size))
    tables = ", ".join(f"{table} {count}" for table, count in made.counts.items())  # as the database names them
    typer.echo(i18n.t(language, "core.cli_backup_rows", tables=tables))


def _register_subcommands() -> None:
    """Staff command groups, each feature's (``Router.cli``), ``voisins people`` among them."""
    for router in feature_routers():
        for name, group, help_text in router.clis:
            app.add_typer(group, name=name, help=help_text)


def main() -> None:
    _register_subcommands()
    app()


if __name__ == "__main__":
    main()
