"""Figures and times as staff read them in a preview, a report or the command line's bar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal


def number(value: float, language: str) -> str:
    return format_decimal(value, locale=language)


def money(value: float, language: str) -> str:
    return format_currency(value, "EUR", locale=language)


def local_time(when: datetime, tz: ZoneInfo, language: str, now: datetime | None = None) -> str:
    """``08:00``, or ``26/11 08:00`` when it is not today."""
    local = when.astimezone(tz)
    if now is not None and local.date() == now.astimezone(tz).date():
        return f"{local:%H:%M}"
    return format_datetime(local, "dd/MM HH:mm", tzinfo=tz, locale=language)


def excerpt(text: str, size: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1].rstrip() + "…"
