"""``voisins volunteers ...`` and ``voisins permanence ...``: sign-ups and the meeting calendar for staff.

They open the database only. Dates are written 2026-12-02 or 02/12/2026. A change that tells the
volunteers or moves dates (reference, cancel, move) is shown first, with how many volunteers will be
told, and made on yes (``--yes`` in a script); it queues its notices in the outbox, and the running bot
sends them. A refused date (unparsable, not a meeting date, in the past, not a Wednesday for the
reference) or a change not confirmed prints why and exits with 1, changing nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.table import Table
from rich.text import Text

from bot.cli_support import ask_yes_no, opened_store, plain_console, settings_or_exit
from bot.clock import SystemClock
from bot.config import Settings
from bot.csvfiles import Overwrite, export_command, to_csv
from bot.i18n import I18n
from bot.people.roster import format_phone
from bot.store import Store
from handlers.volunteers import calendar, signups, staff, texts
from handlers.volunteers.calendar import CalendarError

volunteers_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
permanence_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

COLUMNS = ("signed_up_at", "name", "member_code", "activities", "availability", "contact_ok", "reminders", "phone",
           "telegram_id")  # fmt: skip


Yes = Annotated[bool, typer.Option("--yes", help="Do not ask: make the change (for scripts).")]


def _fail(i18n: I18n, exc: CalendarError) -> NoReturn:
    typer.echo(texts.error_text(i18n, i18n.default_language, exc), err=True)
    raise typer.Exit(1)


# --- Sign-ups ------------------------------------------------------------------------------------


async def _rows(settings: Settings, i18n: I18n) -> list[dict[str, str]]:
    language = i18n.default_language
    async with opened_store(settings) as store, store.transaction() as db:
        found = await signups.listing(db)
    rows = []
    for signup, row in found:
        rows.append(
            {
                "signed_up_at": signup.created_at,
                "name": signup.name,
                "member_code": row["member_code"] or "",
                "activities": signups.activity_labels(i18n, language, signup.activities),
                "availability": signup.availability,
                "contact_ok": "oui" if signup.consent else "non",
                "reminders": "oui" if signup.gets_reminders else "non",
                # How to reach someone only when they agreed to be contacted.
                "phone": format_phone(row["phone"]) if signup.consent and row["phone"] else "",
                "telegram_id": (row["telegram"] or "") if signup.consent else "",
            }
        )
    return rows


@volunteers_app.command("list")
def list_signups() -> None:
    """Every sign-up: name, code, activities, availability, whether they may be contacted."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    rows = asyncio.run(_rows(settings, i18n))
    table = Table("signed_up_at", "name", "member_code", "activities", "availability", "contact_ok", "phone")
    for row in rows:
        table.add_row(*(Text(row[c]) for c in ("signed_up_at", "name", "member_code", "activities", "availability",
                                                "contact_ok", "phone")))  # fmt: skip
    out = plain_console()
    out.print(table)
    out.print(i18n.plural(i18n.default_language, "volunteers.cli_count", len(rows)))


@volunteers_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the CSV file.")],
    overwrite: Overwrite = False,
) -> None:
    """Write every sign-up to a CSV file that opens in columns in a French Excel."""

    async def make(settings: Settings, i18n: I18n) -> tuple[bytes, int]:
        rows = await _rows(settings, i18n)
        return to_csv(COLUMNS, rows), len(rows)  # as the people export: ';' and a BOM

    export_command(file, overwrite, make, "volunteers.cli_exported")


# --- The meeting calendar ------------------------------------------------------------------------


def _day(i18n: I18n, text: str) -> date:
    try:
        return calendar.parse_day(text)
    except CalendarError as exc:
        _fail(i18n, exc)


def _hours(i18n: I18n, text: str | None) -> tuple[time, time] | None:
    if text is None:
        return None
    try:
        return calendar.parse_hours(text)
    except CalendarError as exc:
        _fail(i18n, exc)


def _change(change: staff.Change, yes: bool = True) -> None:
    """Check one change and, unless ``yes``, show what it will do and who will be told and ask; then
    apply it (checked again) and say what was done."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    language = i18n.default_language

    async def ask(store: Store) -> str:
        async with store.transaction() as db:
            now = SystemClock().now()
            await staff.check(db, settings.tz, now, change)
            effects = await staff.effects(db, settings.tz, now, change)
        return staff.preview(i18n, language, settings.tz, change, effects.told, effects.dropped)

    async def make(store: Store) -> str:
        async with store.transaction() as db:
            now = SystemClock().now()
            meeting, notified = await staff.apply(db, settings.tz, now, i18n, change, None)
        return staff.done(i18n, language, change, meeting, notified)

    async def run(work: Callable[[Store], Awaitable[str]]) -> str:
        async with opened_store(settings) as store:
            try:
                return await work(store)
            except CalendarError as exc:
                _fail(i18n, exc)

    out = plain_console()
    if not yes:
        out.print(asyncio.run(run(ask)))
        if not ask_yes_no(i18n.t(language, "volunteers.cli_confirm"), i18n):
            typer.echo(i18n.t(language, "volunteers.cli_not_confirmed"), err=True)
            raise typer.Exit(1)
    out.print(asyncio.run(run(make)))


def _make(i18n: I18n, op: str, day: date, **kwargs: object) -> staff.Change:
    try:
        return staff.make(op, day, **kwargs)  # type: ignore[arg-type]
    except CalendarError as exc:
        _fail(i18n, exc)


@permanence_app.command("reference")
def reference(
    day: Annotated[str, typer.Argument(help="A Wednesday, 2026-12-02 or 02/12/2026: the fortnights count from it.")],
    yes: Yes = False,
) -> None:
    """Set the Wednesday the fortnightly meetings count from; asked first, since it moves every date
    (changes to dates the new rhythm does not have are dropped; volunteers are told the new dates)."""
    i18n = I18n.configured(settings_or_exit())
    _change(_make(i18n, "reference", _day(i18n, day)), yes)


@permanence_app.command("cancel")
def cancel(
    day: Annotated[str, typer.Argument(help="The meeting's date, 2026-12-02 or 02/12/2026.")],
    reason: Annotated[str, typer.Option("--reason", help="Why: shown to the volunteers.")],
    yes: Yes = False,
) -> None:
    """Cancel one meeting, asked first; the volunteers who get reminders are told, with the reason."""
    i18n = I18n.configured(settings_or_exit())
    _change(_make(i18n, "cancel", _day(i18n, day), reason=reason), yes)


@permanence_app.command("move")
def move(
    day: Annotated[str, typer.Argument(help="The meeting's date, 2026-12-02 or 02/12/2026.")],
    new_day: Annotated[str, typer.Argument(help="Its new date.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why: shown to the volunteers.")] = None,
    hours: Annotated[
        str | None, typer.Option("--hours", help="New hours, such as 19:00-20:30 (same unless said).")
    ] = None,
    yes: Yes = False,
) -> None:
    """Move one meeting to another date, asked first; the volunteers who get reminders are told."""
    i18n = I18n.configured(settings_or_exit())
    change = _make(i18n, "move", _day(i18n, day), new_day=_day(i18n, new_day), hours=_hours(i18n, hours), reason=reason)
    _change(change, yes)


@permanence_app.command("add")
def add(
    day: Annotated[str, typer.Argument(help="The extra meeting's date, 2026-12-02 or 02/12/2026.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why: shown to the volunteers.")] = None,
    hours: Annotated[str | None, typer.Option("--hours", help="Hours, 18:30-20:00 unless said.")] = None,
) -> None:
    """Add an extra meeting; its reminders go like the others'."""
    i18n = I18n.configured(settings_or_exit())
    _change(_make(i18n, "add", _day(i18n, day), hours=_hours(i18n, hours), reason=reason))


@permanence_app.command("list")
def list_meetings(
    count: Annotated[int, typer.Option("--count", min=1, max=100, help="How many coming meetings.")] = 12,
) -> None:
    """The coming meetings, with cancellations, moves and extra ones."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language

    async def go() -> tuple[date | None, list[calendar.Meeting]]:
        async with opened_store(settings) as store:
            return await calendar.reference(store), await calendar.coming(
                store, settings.tz, SystemClock().now(), count
            )

    ref, found = asyncio.run(go())
    out = plain_console()
    out.print(
        i18n.t(lang, "volunteers.staff_reference", day=texts.full_day_text(ref, lang))
        if ref
        else i18n.t(lang, "volunteers.staff_no_reference")
    )
    for meeting in found:
        out.print(Text(texts.staff_line(i18n, lang, meeting)))
