"""``voisins places ...``: staff keep the places true: import a spreadsheet or a data·inclusion export,
export the places to edit them, mark a place verified after calling it.

These commands open the database only (the file's places are brought in first, as a start of the bot
does). A running bot answers with what they wrote from the next question on.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from babel.dates import format_date

from bot.cli_support import opened_store, plain_console, settings_or_exit
from bot.clock import SystemClock
from bot.config import Settings
from bot.csvfiles import (
    CsvFileError,
    DryRun,
    ExportSeparator,
    Overwrite,
    Rejected,
    Separator,
    export_command,
    print_report,
    read_or_exit,
    table_notes,
)
from bot.i18n import I18n
from bot.store import Store
from handlers.orientation import directory, placefile
from handlers.orientation.directory import ImportReport, Origin

places_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


def _fail(i18n: I18n, message: str, params: Mapping[str, object] | None = None, exit_code: int = 1) -> typer.Exit:
    """One line on stderr from the catalogs, and the exit to raise."""
    typer.echo(i18n.t(i18n.default_language, message, **(params or {})), err=True)
    return typer.Exit(exit_code)


async def _seeded(settings: Settings, work: Any) -> Any:
    """Run ``work(store, now)`` on the database, its seed places brought up to date first."""
    async with opened_store(settings) as store:
        now = SystemClock().now()
        await directory.seed(store, now)
        return await work(store, now)


def _counts(i18n: I18n, report: ImportReport, key: str = "places.report_counts") -> str:
    return i18n.t(
        i18n.default_language,
        key,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.rejected),
        skipped=report.skipped,
    )


@places_app.command("import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="A CSV file of places (as `voisins places export` writes it), or the two files of a "
            "data·inclusion export: structures then services (JSON or CSV)."
        ),
    ],
    dry_run: DryRun = False,
) -> None:
    """Create or update places; prints what was created, updated, unchanged and refused, by line.

    Importing the same file again changes nothing. Exits with 1 when a row of a places file was
    refused (staff fix it) or a file cannot be read; a data·inclusion export's refused records do not.
    """
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language
    if len(files) > 2:
        raise _fail(i18n, "places.import_usage", exit_code=2)
    if len(files) == 2:
        _import_datainclusion(settings, i18n, files[0], files[1], dry_run)
        return
    file = files[0]
    try:
        table = placefile.parse(read_or_exit(file, i18n))
    except CsvFileError as exc:
        raise _fail(i18n, exc.key, exc.params) from None
    rows = placefile.checked_rows(table)

    async def work(store: Store, now: Any) -> ImportReport:
        return await directory.import_places(store, now, rows, Origin.STAFF, dry_run=dry_run)

    report: ImportReport = asyncio.run(_seeded(settings, work))
    title, *notes = table_notes(
        i18n, file, table.encoding, table.delimiter, table.guessed_encoding, placefile.ignored_columns(table)
    )
    print_report(
        i18n, title=title, counts=_counts(i18n, report), rejected=report.rejected, dry_run=dry_run, notes=notes
    )
    if report.keys and not dry_run:
        plain_console().print(i18n.t(lang, "places.report_keys", keys=", ".join(report.keys)))
    if report.rejected:
        raise typer.Exit(1)


def _import_datainclusion(settings: Settings, i18n: I18n, structures: Path, services: Path, dry_run: bool) -> None:
    """The two files of a data·inclusion export, validated by its schema, as places (see datainclusion.py)."""
    from handlers.orientation import datainclusion

    for file in (structures, services):
        read_or_exit(file, i18n)
    try:
        export = datainclusion.read_export(structures, services)
    except CsvFileError as exc:
        raise _fail(i18n, exc.key, exc.params) from None
    rows: list[tuple[int, dict[str, Any] | Rejected, date | None]] = [
        *((r.line, r, None) for r in export.rejected),
        *((0, place, None) for place in export.places),
    ]

    async def work(store: Store, now: Any) -> ImportReport:
        return await directory.import_places(store, now, rows, Origin.DATAINCLUSION, dry_run=dry_run)

    report: ImportReport = asyncio.run(_seeded(settings, work))
    report.skipped = export.skipped
    title = i18n.t(
        i18n.default_language, "places.report_datainclusion", structures=structures.name, services=services.name
    )
    counts = _counts(i18n, report, "places.report_counts_datainclusion")
    # Exit 0 even with refused records: they are the national export's, which staff cannot correct.
    print_report(i18n, title=title, counts=counts, rejected=report.rejected, dry_run=dry_run)


@places_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the CSV file.")],
    separator: ExportSeparator = Separator.semicolon,
    overwrite: Overwrite = False,
) -> None:
    """Write every place to a CSV file to edit in a spreadsheet; it imports back unchanged."""

    async def make(settings: Settings, i18n: I18n) -> tuple[bytes, int]:
        async def work(store: Store, now: Any) -> list[directory.Stored]:
            return await directory.stored(store)

        found: list[directory.Stored] = await _seeded(settings, work)
        return placefile.to_file(((s.entry, s.verified_on) for s in found), separator.value), len(found)

    export_command(file, overwrite, make, "places.export_done")


@places_app.command("check")
def check(
    keys: Annotated[list[str], typer.Argument(help="The places' keys (the first column of the export).")],
) -> None:
    """Mark places verified today, after calling them or reading their page: the answers say this month.

    An unknown key changes nothing and is named with the keys it resembles; exit code 1.
    """
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language

    async def work(store: Store, now: Any) -> tuple[list[directory.Stored], list[str], list[str]]:
        today = now.astimezone(settings.tz).date()
        known = await directory.keys(store)
        unknown = [key for key in keys if key.strip() not in known]
        if unknown:
            return [], unknown, known
        done = [await directory.check(store, key.strip(), today, now) for key in keys]
        return [d for d in done if d is not None], [], known

    done, unknown, known = asyncio.run(_seeded(settings, work))
    for key in unknown:
        close = difflib.get_close_matches(key.strip(), known, n=3)
        if close:
            typer.echo(i18n.t(lang, "places.check_unknown_close", typed=key, close=", ".join(close)), err=True)
        else:
            typer.echo(i18n.t(lang, "places.check_unknown", typed=key), err=True)
    if unknown:
        raise typer.Exit(1)
    out = plain_console()
    for stored in done:
        day = format_date(stored.verified_on, "d MMMM y", locale=lang)
        out.print(i18n.t(lang, "places.check_done", name=stored.place.name, place=stored.place.key, date=day))
