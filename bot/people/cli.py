"""``voisins people ...``: staff register people on the command line (the first admin is made here).

These commands open the database only: no demo data is ever added to a real roster, and no
channel starts. Texts come from the catalogs in ``DEFAULT_LANGUAGE``, as the chat says them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.cli_support import opened_store, phone_or_exit, plain_console, settings_or_exit
from bot.clock import SystemClock
from bot.config import Settings
from bot.csvfiles import (
    CsvFileError,
    DryRun,
    ExportSeparator,
    Overwrite,
    Separator,
    export_command,
    print_report,
    read_or_exit,
    table_notes,
)
from bot.i18n import I18n
from bot.people import PeopleError, Role, add_person, get_person, roster

people_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

PROGRESS_ROWS = 200  # a shorter file is imported before a bar would be worth drawing


@people_app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="The person's name, as they want to be called.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role; repeat for several.")],
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number, 06... or +33...")] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="A language of LANGUAGES (default: DEFAULT_LANGUAGE).")
    ] = None,
) -> None:
    """Register a person with their roles and phone number; prints their member code."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language
    language = language or lang
    if language not in i18n.languages:
        known = ", ".join(i18n.languages)
        typer.echo(i18n.t(lang, "people.cli_unknown_language", value=language, known=known), err=True)
        raise typer.Exit(2)
    e164 = phone_or_exit(phone, i18n) if phone is not None else None

    async def create() -> str:
        async with opened_store(settings) as store:
            try:
                person_id = await add_person(
                    store, SystemClock().now(), name.strip(), {r.value for r in role}, phone=e164, language=language
                )
            except PeopleError as exc:
                typer.echo(i18n.t(i18n.default_language, exc.key, **exc.params), err=True)
                raise typer.Exit(1) from None
            async with store.transaction() as db:
                person = await get_person(db, person_id)
            return person.member_code or ""

    code = asyncio.run(create())
    roles = ", ".join(i18n.t(lang, f"people.role_{value}") for value in roster.ordered_roles(r.value for r in role))
    plain_console().print(Text(i18n.t(lang, "people.cli_added", name=name.strip(), code=code, roles=roles)))


@people_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A CSV file: name, phone, telegram_id, roles, language, member_code.")],
    dry_run: DryRun = False,
) -> None:
    """Create or update people from a CSV file; prints what was created, updated, unchanged and rejected,
    and the member codes of the people created.

    Importing the same file again changes nothing. Exits with 1 when the file cannot be read or a row
    was rejected (the other rows are in), so a script knows the roster is not complete.
    """
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language
    try:
        parsed = roster.parse(read_or_exit(file, i18n))
    except CsvFileError as exc:
        typer.echo(i18n.t(lang, exc.key, **exc.params), err=True)
        raise typer.Exit(1) from None

    async def run(progress: Callable[[int], None] | None) -> roster.ImportReport:
        async with opened_store(settings) as store:
            return await roster.import_roster(
                store, SystemClock().now(), parsed, i18n, dry_run=dry_run, progress=progress
            )

    if len(parsed.rows) > PROGRESS_ROWS:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(file.name, total=len(parsed.rows))
            report = asyncio.run(run(lambda done: bar.update(task, completed=done)))
    else:
        report = asyncio.run(run(None))

    title, *notes = table_notes(
        i18n, file, parsed.encoding, parsed.delimiter, parsed.guessed_encoding, parsed.ignored_columns
    )
    counts = i18n.t(
        lang,
        "people.report_counts",
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.rejected),
    )
    print_report(i18n, title=title, counts=counts, rejected=report.rejected, dry_run=dry_run, notes=notes)
    if report.new:
        out = plain_console()
        out.print(i18n.t(lang, "people.cli_new_codes"))
        table = Table(*(i18n.t(lang, f"people.cli_column_{column}") for column in ("line", "name", "member_code")))
        for created in report.new:
            table.add_row(str(created.line), Text(created.name), created.member_code)
        out.print(table)
    if report.rejected:
        raise typer.Exit(1)


@people_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the CSV file.")],
    separator: ExportSeparator = Separator.semicolon,
    overwrite: Overwrite = False,
) -> None:
    """Write every registered person (never a guest) to a CSV file that imports back unchanged."""

    async def make(settings: Settings, i18n: I18n) -> tuple[bytes, int]:
        rows = await _roster_rows(settings)
        return roster.to_csv(rows, separator.value), len(rows)

    export_command(file, overwrite, make, "people.export_done")


@people_app.command("list")
def list_() -> None:
    """Every registered person with their member code, roles, language and phone."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    columns = ("member_code", "name", "roles", "language", "phone", "telegram_id")
    table = Table(*(i18n.t(i18n.default_language, f"people.cli_column_{column}") for column in columns))
    for row in asyncio.run(_roster_rows(settings)):
        table.add_row(*(Text(row[column]) for column in columns))  # Text: a name is never read as markup
    plain_console().print(table)


async def _roster_rows(settings: Settings) -> list[dict[str, str]]:
    async with opened_store(settings) as store:
        return await roster.roster_rows(store)
