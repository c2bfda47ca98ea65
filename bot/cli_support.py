"""What every ``voisins`` command group shares: reading the settings and opening the database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import click
import typer
from rich.console import Console

from bot.config import ConfigError, Settings, load_settings
from bot.confirm import NO, YES
from bot.i18n import I18n, shipped
from bot.startup import StartupError, check_languages, storage_problem
from bot.store import Store
from bot.text import fold


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, or a clear message on stderr and exit code 2 (a wrong .env is not a crash).

    The languages are checked here, for every command: a missing catalog folder is one line too.
    """
    try:
        settings = load_settings(**overrides)
        check_languages(settings)
    except (ConfigError, StartupError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return settings


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """Only the database (migrations applied): staff commands never seed demo data into a real one."""
    store = Store(settings.database_path)
    try:
        await store.open()
    except sqlite3.Error as exc:
        typer.echo(str(storage_problem(Path(settings.database_path), exc)), err=True)
        raise typer.Exit(1) from None
    try:
        yield store
    finally:
        await store.close()


# The largest integer SQLite stores. A number typed on the command line (an id) is bounded by it with
# typer's min/max: a bigger one gets a usage line, not an OverflowError from the database driver.
MAX_ID = 2**63 - 1


def plain_console() -> Console:
    """Plain lines on a pipe; no wrapping, no markup read in names, reasons or announcements."""
    return Console(soft_wrap=True, highlight=False)


def phone_or_exit(typed: str, i18n: I18n) -> str:
    """The number as stored (E.164), or a one-line refusal and exit code 2: "06 39 98 00 02" works."""
    from bot.people import normalise_phone

    phone = normalise_phone(typed)
    if phone is None:
        typer.echo(i18n.t(i18n.default_language, "core.cli_not_a_phone", value=typed), err=True)
        raise typer.Exit(2)
    return phone


def ask_yes_no(question: str, i18n: I18n | None = None) -> bool:
    """A [y/N] question in ``DEFAULT_LANGUAGE``, answered with the chat's yes and no words of every
    language (OUI, O, yes, y; NON, N, no): staff answer in French as they do in the chat.

    Enter alone, the end of input or Ctrl-C is no; any other answer asks again. Click's own
    confirm takes y/n only and says "Error: invalid input" in English.
    """
    i18n = i18n or I18n.configured(settings_or_exit())
    lang = i18n.default_language
    yes, no = (i18n.words(key) | shipped().words(key) for key in (YES, NO))  # y/n whatever LANGUAGES says
    while True:
        try:
            typed = typer.prompt(
                i18n.t(lang, "core.cli_ask", question=question), default="", show_default=False, prompt_suffix=" "
            )
        except click.exceptions.Abort:
            typer.echo()
            return False
        words = fold(typed).split()
        if not words or all(word in no for word in words):
            return False
        if all(word in yes for word in words):
            return True
        typer.echo(i18n.t(lang, "core.cli_answer_yes_no"))
