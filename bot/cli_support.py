"""What every ``voisins`` command group shares: reading the settings and opening the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import typer
from rich.console import Console

from bot.config import ConfigError, Settings, load_settings
from bot.store import Store


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, or a clear message on stderr and exit code 2 (a wrong .env is not a crash)."""
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """Only the database (migrations applied): staff commands never seed demo data into a real one."""
    store = Store(settings.database_path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def plain_console() -> Console:
    """Plain lines on a pipe; no wrapping, no markup read in names, reasons or announcements."""
    return Console(soft_wrap=True, highlight=False)
