"""``voisins shifts ...``: contracts, the CSV import, rosters, the payroll's hours, and the chat's
operations for staff at a desk. Like the other staff commands they open the database only.

Dates are written 2026-12-09 or 09/12/2026 (a French Excel's cells included). An activity or a place
must be one that exists: a slip ("cusine") is refused with the close names, and a new one is made only
with ``--new`` (or ``voisins shifts activity NAME`` / ``place NAME``).

Exit codes: 0 done; 1 a rule refused (the reason is printed) or, for ``import``, at least one row
was rejected (the other rows are written, one transaction each, and the report names every rejected
row); 2 the command itself is wrong (bad option, unreadable file, wrong header, existing output file).

What they print is in ``DEFAULT_LANGUAGE``, from the catalogs (``shifts_cli.po``), like the other staff
commands: one output, one language. The CSV columns and the command names stay English: scripts use them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

import aiosqlite
import typer
from babel.dates import format_date
from rich.console import Console
from rich.table import Table

from bot import people
from bot.cli_support import MAX_ID, ask_yes_no, opened_store, settings_or_exit
from bot.clock import SystemClock
from bot.config import Settings
from bot.csvfiles import CsvFileError, Overwrite, RowReport, keep_existing_file, read_table, save_export
from bot.i18n import I18n
from bot.store import Store
from bot.text import fold, format_minutes
from handlers.shifts import model, reports, templates
from handlers.shifts.model import ShiftError

shifts_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
template_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
shifts_app.add_typer(template_app, name="template", help="Weekly patterns that make a week's shifts.")

IMPORT_COLUMNS = ("date", "start", "end", "activity", "place", "capacity", "member_code")

T = TypeVar("T")


# --- Running ------------------------------------------------------------------------------------


@cache
def _catalogs(language: str, locales_dir: Path, languages: tuple[str, ...]) -> I18n:
    return I18n(language, locales_dir, languages=languages)


def _i18n(settings: Settings) -> I18n:
    """The configured catalogs, read once however many rows an import refuses."""
    return _catalogs(settings.default_language, settings.locales_dir, tuple(settings.languages))


@dataclass(frozen=True, slots=True)
class Texts:
    """What a command prints, in ``DEFAULT_LANGUAGE`` only: staff read one language per output."""

    i18n: I18n

    @property
    def language(self) -> str:
        return self.i18n.default_language

    def t(self, key: str, **params: object) -> str:
        return self.i18n.t(self.language, key, **params)

    def count(self, key: str, n: int, /, **params: object) -> str:
        """``key_one`` or ``key_other`` for ``n``: "1 créneau créé", "3 créneaux créés"."""
        return self.i18n.plural(self.language, key, n, **params)

    def day(self, day: date) -> str:
        """A date inside a sentence, as people read it: "7 décembre 2026"."""
        return model.long_date(day, self.language)

    def shift(self, shift: model.Shift) -> str:
        return f"#{shift.id} {model.describe(shift, self.language)}"


def _texts(settings: Settings | None = None) -> Texts:
    return Texts(_i18n(settings or settings_or_exit()))


def _say(settings: Settings, error: ShiftError) -> str:
    return error.text(_i18n(settings), settings.default_language)


def _run(work: Callable[[Store, Settings, datetime], Coroutine[Any, Any, T]]) -> T:
    """Open the database, run ``work`` at the present time; a refused rule exits 1 with its reason."""
    settings = settings_or_exit()

    async def go() -> T:
        async with opened_store(settings) as store:
            return await work(store, settings, SystemClock().now())

    try:
        return asyncio.run(go())
    except ShiftError as error:
        typer.echo(_say(settings, error), err=True)
        raise typer.Exit(1) from None


async def _person(db: aiosqlite.Connection, text: str) -> int:
    return (await people.require_by_code(db, text, ShiftError, "shifts.staff.unknown_member")).id


def _clock(text: str) -> time:
    return model.parse_clock(text)


DAY_HELP = "2026-12-09 or 09/12/2026"
NEW_HELP = "Create the activity or place if it does not exist yet (else a name not known is refused)."
New = Annotated[bool, typer.Option("--new", help=NEW_HELP)]


async def _named(db: aiosqlite.Connection, now: datetime, kind: str, name: str, new: bool) -> tuple[int, str]:
    """An existing activity or place; with ``--new``, made when it does not exist."""
    if new:
        ensure = model.ensure_activity if kind == "activity" else model.ensure_place
        return await ensure(db, now, name)
    return await reports.known_named(db, kind, name, "shifts.error.new_flag")


# --- Contracts ----------------------------------------------------------------------------------


@shifts_app.command("contract")
def contract(
    member: Annotated[str, typer.Argument(help="Member code (GV-XXXX).")],
    hours: Annotated[str | None, typer.Argument(help="Hours a week: 8, 8.5, 8h30 (16 at most).")] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help=f"From this date on ({DAY_HELP}).")] = None,
) -> None:
    """Set a worker's contract hours a week from a date on (the history is kept), and show the history.

    Only a person with the worker role has contract hours."""
    if hours is not None and valid_from is None:
        typer.echo(_texts().t("shifts_cli.contract_needs_from"), err=True)
        raise typer.Exit(2)

    async def work(store: Store, settings: Settings, now: datetime) -> list[tuple[date, int]]:
        async with store.transaction() as db:
            person_id = await _person(db, member)
            if hours is not None and valid_from is not None:
                await model.set_contract(db, now, person_id, reports.parse_hours(hours), model.parse_day(valid_from))
            return await model.contract_history(db, person_id)

    history = _run(work)
    texts = _texts()
    code = people.normalise_member_code(member) or member
    if not history:
        typer.echo(texts.t("shifts_cli.contract_none", code=code))
        return
    typer.echo(texts.t("shifts_cli.contract_title", code=code))
    for day, minutes in history:
        typer.echo(texts.t("shifts_cli.contract_step", day=texts.day(day), hours=format_minutes(minutes)))


# --- Import -------------------------------------------------------------------------------------


@dataclass
class ImportReport(RowReport[tuple[int, str]]):
    created_shifts: int = 0
    assigned: int = 0
    new_names: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_shifts or self.assigned)


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows by spreadsheet line (the header is line 1), with the encodings and separators
    every import reads (:mod:`bot.csvfiles`: UTF-8 with or without BOM, UTF-16, Windows-1252;
    comma, semicolon, tab). :class:`CsvFileError` refuses the whole file: nothing is read from it."""
    table = read_table(data, IMPORT_COLUMNS)
    missing = table.missing(IMPORT_COLUMNS)
    if missing:
        raise CsvFileError("people.roster_missing_columns", columns=", ".join(missing), header=",".join(IMPORT_COLUMNS))
    rows = table.rows(IMPORT_COLUMNS, strip=True)
    if not rows:
        raise CsvFileError("shifts_cli.import_no_rows")
    return rows


async def _import_row(
    db: aiosqlite.Connection,
    settings: Settings,
    now: datetime,
    cells: dict[str, str],
    report: ImportReport,
    new: bool,
) -> None:
    day = model.parse_day(cells["date"])
    start, end = _clock(cells["start"]), _clock(cells["end"])
    model.span(day, start, end, settings.tz)  # end before start, a time the clocks skip
    capacity_text = cells["capacity"] or "1"
    if not capacity_text.isdecimal():
        raise ShiftError("shifts.error.capacity", capacity=capacity_text[:10])
    person_id = await _person(db, cells["member_code"]) if cells["member_code"] else None
    names = []
    for kind in ("activity", "place"):
        found = await (model.find_activity if kind == "activity" else model.find_place)(db, cells[kind])
        if found is None:
            found = await _named(db, now, kind, cells[kind], new)
            names.append(found[1])
        cells[f"{kind}_id"] = str(found[0])
    shift, created = await model.create_shift(
        db, now, settings.tz, activity_id=int(cells["activity_id"]), place_id=int(cells["place_id"]), day=day,
        start=start, end=end, capacity=int(capacity_text),
    )  # fmt: skip
    assigned = False
    if person_id is not None and await model.live_assignment(db, shift.id, person_id) is None:
        await model.assign(db, now, _i18n(settings), shift.id, person_id)
        assigned = True
    report.created_shifts += int(created)
    report.assigned += int(assigned)
    report.unchanged += int(not created and not assigned)
    report.new_names += names


async def import_shifts(
    store: Store, settings: Settings, now: datetime, data: bytes, *, new: bool = False
) -> ImportReport:
    """Write each row in its own transaction: a rejected row writes nothing, the others stay.

    An activity or place the database does not have rejects its row (with the close names), unless
    ``new``: then it is made, and listed in the report."""
    rows = read_rows(data)
    report = ImportReport()
    seen: dict[tuple[str, ...], int] = {}
    for line, cells in rows:
        key = tuple(fold(cells[c]) if c in ("activity", "place") else cells[c].upper() for c in IMPORT_COLUMNS)
        if key in seen:
            report.rejected.append((line, _texts(settings).t("shifts_cli.import_same_row", line=seen[key])))
            continue
        seen[key] = line
        try:
            async with store.transaction() as db:
                await _import_row(db, settings, now, dict(cells), report, new)
        except ShiftError as error:
            report.rejected.append((line, _say(settings, error)))
    return report


@shifts_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV: " + ",".join(IMPORT_COLUMNS))],
    new: New = False,
) -> None:
    """Import shifts and assignments from a spreadsheet; a second run of the same file changes nothing.

    Dates as 2026-12-09 or 09/12/2026; an activity or place not known rejects its row unless --new."""
    texts = _texts()
    try:
        data = file.read_bytes()
    except OSError as error:
        typer.echo(texts.t("people.roster_unreadable", file=file, error=error.strerror or error), err=True)
        raise typer.Exit(2) from None

    async def work(store: Store, settings: Settings, now: datetime) -> ImportReport:
        return await import_shifts(store, settings, now, data, new=new)

    try:
        report = _run(work)
    except CsvFileError as error:
        typer.echo(texts.t(error.key, **error.params), err=True)
        raise typer.Exit(2) from None
    for name in sorted(set(report.new_names)):
        typer.echo(texts.t("shifts_cli.import_new_name", name=name))
    there = texts.count("shifts_cli.rows_there", report.unchanged)
    if report.changed:
        created = texts.count("shifts_cli.shifts_created", report.created_shifts)
        assigned = texts.count("shifts_cli.assignments_made", report.assigned)
        typer.echo(texts.t("shifts_cli.import_done", created=created, assigned=assigned, there=there))
    else:
        typer.echo(texts.t("shifts_cli.import_nothing", there=there))
    for line, why in report.rejected:
        typer.echo(texts.t("shifts_cli.import_line_rejected", line=line, why=why), err=True)
    if report.rejected:
        typer.echo(texts.count("shifts_cli.rows_rejected", len(report.rejected)), err=True)
        raise typer.Exit(1)


# --- Roster -------------------------------------------------------------------------------------


def _roster_period(week: str | None, day: str | None, now: datetime, settings: Settings) -> tuple[date, date]:
    if week and day:
        typer.echo(_texts(settings).t("shifts_cli.week_or_day"), err=True)
        raise typer.Exit(2)
    if day:
        first = model.parse_day(day)
        return first, first + timedelta(days=1)
    monday = reports.parse_week_or_day(week) if week else model.week_of(now.astimezone(settings.tz).date())[0]
    return monday, monday + timedelta(days=7)


# A worker's answer (yes, no) or, after the shift, attendance (present, absent): its word in the catalogs.
_MARKS = {
    "yes": "shifts_cli.mark_yes",
    "no": "shifts_cli.mark_no",
    "present": "shifts_cli.mark_present",
    "absent": "shifts_cli.mark_absent",
}


def _mark_text(texts: Texts, mark: str | None) -> str:
    return texts.t(_MARKS[mark]) if mark else "?"


def _person_text(assignment: model.Assignment) -> str:
    return f"{assignment.name or '?'} ({assignment.member_code or '?'})"


def _who(texts: Texts, assignment: model.Assignment) -> str:
    return f"{_person_text(assignment)} {_mark_text(texts, assignment.attendance or assignment.answer)}"


def _seats(texts: Texts, entry: reports.RosterShift) -> str:
    if entry.shift.cancelled:
        return texts.t("shifts_cli.roster_cancelled")
    return texts.count("shifts_cli.roster_seats", entry.free, taken=len(entry.live), capacity=entry.shift.capacity)


@shifts_app.command("roster")
def roster_command(
    week: Annotated[
        str | None, typer.Option("--week", help="ISO week, 2026-W49, or a day of it (this week by default).")
    ] = None,
    day: Annotated[str | None, typer.Option("--day", help=f"One day, {DAY_HELP}.")] = None,
) -> None:
    """Who is on each shift of a day or a week, who answered OUI or NON, seats free."""

    async def work(store: Store, settings: Settings, now: datetime) -> tuple[date, date, list[reports.RosterShift]]:
        first, after = _roster_period(week, day, now, settings)
        async with store.transaction() as db:
            return first, after, await reports.roster(db, first, after)

    first, after, entries = _run(work)
    texts = _texts()
    console = Console(highlight=False)
    last, week_label = after - timedelta(days=1), reports.week_label(first)
    if first == last:
        title = texts.t("shifts_cli.roster_title_day", day=texts.day(first), week=week_label)
    else:
        title = texts.t("shifts_cli.roster_title", first=texts.day(first), last=texts.day(last), week=week_label)
    if not entries:
        typer.echo(texts.t("shifts_cli.roster_empty", title=title))
        return
    declined = texts.t("shifts_cli.mark_no")
    rows = [
        (
            str(e.shift.id),
            format_date(e.shift.local_date, "EEE d MMM", locale=texts.language),
            reports.span_text(e.shift),
            e.shift.activity,
            e.shift.place,
            _seats(texts, e),
            "; ".join([_who(texts, a) for a in e.live] + [f"{_person_text(a)} {declined}" for a in e.declined]),
        )
        for e in entries
    ]
    headers = [texts.t(f"shifts_cli.column_{name}") for name in ("id", "day", "time", "activity", "place", "seats")]
    headers.append(texts.t("shifts_cli.column_workers"))
    if console.is_terminal:
        table = Table(title=title)
        for number, header in enumerate(headers):
            # The short columns (number, time, seats) never wrap; names and places take what is left.
            table.add_column(header, no_wrap=number in (0, 2, 5), overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table, markup=False)
        return
    typer.echo(title)
    for row in rows:
        typer.echo("\t".join(row))


# --- Hours for the payroll ----------------------------------------------------------------------


@shifts_app.command("hours")
def hours_command(
    file: Annotated[Path, typer.Argument(help="The CSV file to write.")],
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    overwrite: Overwrite = False,
) -> None:
    """Hours worked (shifts marked present) per worker, per ISO week and for the month, for the payroll."""
    texts = _texts()
    keep_existing_file(file, overwrite, texts.i18n)  # asks at a terminal, like every export

    async def work(store: Store, settings: Settings, now: datetime) -> list[reports.WorkerHours]:
        first = reports.parse_month(month)
        async with store.transaction() as db:
            return await reports.month_hours(db, first)

    workers = _run(work)
    first = date.fromisoformat(month + "-01")
    save_export(file, reports.hours_csv(workers, first), texts.i18n)
    unmarked = sum(len(w.unmarked) for w in workers)
    typer.echo(
        texts.t(
            "shifts_cli.hours_done",
            workers=texts.count("shifts_cli.workers", len(workers)),
            hours=format_minutes(sum(w.month_minutes for w in workers)),
            month=format_date(first, "LLLL yyyy", locale=texts.language),
            file=file,
        )
    )
    if unmarked:
        typer.echo(texts.count("shifts_cli.hours_unmarked", unmarked), err=True)


# --- Shifts -------------------------------------------------------------------------------------


@shifts_app.command("create")
def create_command(
    day: Annotated[str, typer.Argument(help=DAY_HELP)],
    start: Annotated[str, typer.Argument(help="HH:MM, Paris time")],
    end: Annotated[str, typer.Argument(help="HH:MM, Paris time")],
    activity: Annotated[str, typer.Argument(help="Activity (an existing one, or --new)")],
    place: Annotated[str, typer.Argument(help="Place (an existing one, or --new)")],
    capacity: Annotated[int, typer.Option("--capacity", help="Seats")] = 1,
    coordinator: Annotated[str | None, typer.Option("--coordinator", help="Staff member code to alert")] = None,
    new: New = False,
) -> None:
    """Create a shift (the same date, times, activity and place is the same shift)."""

    async def work(store: Store, settings: Settings, now: datetime) -> tuple[str, bool]:
        async with store.transaction() as db:
            coordinator_id = await _person(db, coordinator) if coordinator else None
            activity_id, _ = await _named(db, now, "activity", activity, new)
            place_id, _ = await _named(db, now, "place", place, new)
            shift, created = await model.create_shift(
                db, now, settings.tz, activity_id=activity_id, place_id=place_id, day=model.parse_day(day),
                start=_clock(start), end=_clock(end), capacity=capacity, coordinator_id=coordinator_id,
            )  # fmt: skip
            return _texts(settings).shift(shift), created

    text, created = _run(work)
    typer.echo(_texts().t("shifts_cli.created" if created else "shifts_cli.already_there", shift=text))


@shifts_app.command("change")
def change_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    day: Annotated[str | None, typer.Option("--date", help=DAY_HELP)] = None,
    start: Annotated[str | None, typer.Option("--start", help="HH:MM")] = None,
    end: Annotated[str | None, typer.Option("--end", help="HH:MM")] = None,
    place: Annotated[str | None, typer.Option("--place", help="Place (an existing one, or --new)")] = None,
    capacity: Annotated[int | None, typer.Option("--capacity", help="Seats")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Told to the workers")] = None,
    new: New = False,
) -> None:
    """Move or resize a shift; every worker on it must still fit, and is told."""

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            place_id = (await _named(db, now, "place", place, new))[0] if place else None
            shift = await model.change_shift(
                db, now, _i18n(settings), settings.tz, shift_id, day=model.parse_day(day) if day else None,
                start=_clock(start) if start else None, end=_clock(end) if end else None, place_id=place_id,
                capacity=capacity, reason=reason,
            )  # fmt: skip
            told = len(await model.assignments_of(db, shift_id, live_only=True))
            texts = _texts(settings)
            return texts.t("shifts_cli.changed", shift=texts.shift(shift), told=texts.count("shifts.staff.told", told))

    typer.echo(_run(work))


def _confirmed(question: str, yes: bool, **params: object) -> None:
    """Irreversible: asked at a terminal (``question``, a catalog key), or --yes in a script."""
    if yes:
        return
    texts = _texts()
    if not sys.stdin.isatty() or not ask_yes_no(texts.t(question, **params), texts.i18n):
        typer.echo(texts.t("shifts_cli.not_confirmed"), err=True)
        raise typer.Exit(1)


@shifts_app.command("cancel")
def cancel_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    reason: Annotated[str, typer.Option("--reason", help="Told to the workers")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
) -> None:
    """Cancel a shift; the workers on it are told, with the reason."""
    _confirmed("shifts_cli.ask_cancel", yes, id=shift_id)

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            told = len(await model.assignments_of(db, shift_id, live_only=True))
            shift = await model.cancel_shift(db, now, _i18n(settings), shift_id, reason)
            texts = _texts(settings)
            return texts.t(
                "shifts_cli.cancelled", shift=texts.shift(shift), told=texts.count("shifts.staff.told", told)
            )

    typer.echo(_run(work))


async def _assignment(db: aiosqlite.Connection, shift_id: int, member: str) -> model.Assignment:
    person_id = await _person(db, member)
    live = await model.live_assignment(db, shift_id, person_id)
    if live is None:
        raise ShiftError("shifts.error.not_assigned")
    return live


@shifts_app.command("assign")
def assign_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    member: Annotated[str, typer.Argument(help="Member code (GV-XXXX)")],
) -> None:
    """Put a worker on a shift (cap, contract and overlaps checked); they are told."""

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            person_id = await _person(db, member)
            done = await model.assign(db, now, _i18n(settings), shift_id, person_id)
            shift = await model.get_shift(db, shift_id)
            assert shift is not None
            planned = await model.planned_minutes(db, person_id, shift.local_date)
            texts = _texts(settings)
            return texts.t(
                "shifts_cli.assigned", who=_person_text(done), shift=texts.shift(shift), planned=format_minutes(planned)
            )

    typer.echo(_run(work))


@shifts_app.command("unassign")
def unassign_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    member: Annotated[str, typer.Argument(help="Member code (GV-XXXX)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
) -> None:
    """Take a worker off a shift; they are told."""
    _confirmed("shifts_cli.ask_unassign", yes, member=member, id=shift_id)

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            live = await _assignment(db, shift_id, member)
            released = await model.release(db, now, _i18n(settings), live.id, "unassigned")
            return _texts(settings).t("shifts_cli.unassigned", who=_person_text(released), id=shift_id)

    typer.echo(_run(work))


def _mark(shift_id: int, members: list[str], present: bool) -> None:
    async def work(store: Store, settings: Settings, now: datetime) -> list[str]:
        async with store.transaction() as db:
            if members:
                targets = [await _assignment(db, shift_id, m) for m in members]
            else:
                live = await model.assignments_of(db, shift_id, live_only=True)
                targets = [a for a in live if a.attendance is None]
            marked = [await model.mark_attendance(db, now, t.id, present) for t in targets]
            texts = _texts(settings)
            return [
                texts.t("shifts_cli.marked", who=_person_text(m), mark=_mark_text(texts, m.attendance)) for m in marked
            ] or [texts.t("shifts_cli.nobody_to_mark", id=shift_id)]

    for line in _run(work):
        typer.echo(line)


@shifts_app.command("present")
def present_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    members: Annotated[list[str] | None, typer.Argument(help="Member codes (everyone unmarked when none)")] = None,
) -> None:
    """After the shift: who came (everyone not marked yet when no code is given)."""
    _mark(shift_id, members or [], True)


@shifts_app.command("absent")
def absent_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    members: Annotated[list[str], typer.Argument(help="Member codes")],
) -> None:
    """After the shift: who did not come."""
    _mark(shift_id, members, False)


def _named_command(kind: str, name: str | None, rename: int | None) -> None:
    """``kind`` is "activity" or "place": its texts are ``shifts_cli.<kind>_...``."""

    async def work(store: Store, settings: Settings, now: datetime) -> list[str]:
        texts = _texts(settings)
        async with store.transaction() as db:
            if name is None:
                listed = await reports.list_named(db, kind)
                return [f"{i}. {n}" for i, n in listed] or [texts.t(f"shifts_cli.{kind}_none")]
            if rename is not None:
                renamed = await reports.rename_named(db, kind, rename, name)
                return [texts.t(f"shifts_cli.{kind}_renamed", id=rename, name=renamed)]
            ensure = model.ensure_activity if kind == "activity" else model.ensure_place
            item_id, shown = await ensure(db, now, name)
            return [texts.t(f"shifts_cli.{kind}_item", id=item_id, name=shown)]

    for line in _run(work):
        typer.echo(line)


@shifts_app.command("activity")
def activity_command(
    name: Annotated[str | None, typer.Argument(help="Name to add (the list when omitted)")] = None,
    rename: Annotated[
        int | None, typer.Option("--rename", help="Number of the activity to rename", min=1, max=MAX_ID)
    ] = None,
) -> None:
    """List, add or rename the activities."""
    _named_command("activity", name, rename)


@shifts_app.command("place")
def place_command(
    name: Annotated[str | None, typer.Argument(help="Name to add (the list when omitted)")] = None,
    rename: Annotated[
        int | None, typer.Option("--rename", help="Number of the place to rename", min=1, max=MAX_ID)
    ] = None,
) -> None:
    """List, add or rename the places."""
    _named_command("place", name, rename)


# --- Templates ----------------------------------------------------------------------------------


def _template_text(texts: Texts, made: templates.Template) -> str:
    return texts.t(
        "shifts_cli.template_holidays" if made.on_holidays else "shifts_cli.template",
        id=made.id,
        days=templates.weekday_names(made.weekdays, texts.language),
        start=made.start_local.strftime("%H:%M"),
        end=made.end_local.strftime("%H:%M"),
        activity=made.activity,
        place=made.place,
        seats=texts.count("shifts.staff.seats", made.capacity),
    )


@template_app.command("add")
def template_add(
    weekdays: Annotated[str, typer.Argument(help="lun-jeu, mon-thu, 1-4, 1,2,4")],
    start: Annotated[str, typer.Argument(help="HH:MM")],
    end: Annotated[str, typer.Argument(help="HH:MM")],
    activity: Annotated[str, typer.Argument(help="Activity (an existing one, or --new)")],
    place: Annotated[str, typer.Argument(help="Place (an existing one, or --new)")],
    capacity: Annotated[int, typer.Option("--capacity", help="Seats")] = 1,
    on_holidays: Annotated[bool, typer.Option("--holidays", help="Also on French public holidays")] = False,
    coordinator: Annotated[str | None, typer.Option("--coordinator", help="Staff member code to alert")] = None,
    new: New = False,
) -> None:
    """Add a weekly pattern."""

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            coordinator_id = await _person(db, coordinator) if coordinator else None
            made = await templates.add_template(
                db, now, activity_id=(await _named(db, now, "activity", activity, new))[0],
                place_id=(await _named(db, now, "place", place, new))[0], weekdays=templates.parse_weekdays(weekdays),
                start=_clock(start), end=_clock(end), capacity=capacity, coordinator_id=coordinator_id,
                on_holidays=on_holidays,
            )  # fmt: skip
            return _template_text(_texts(settings), made)

    typer.echo(_run(work))


@template_app.command("list")
def template_list() -> None:
    """The active weekly patterns."""

    async def work(store: Store, settings: Settings, now: datetime) -> list[templates.Template]:
        async with store.transaction() as db:
            return await templates.list_templates(db)

    found = _run(work)
    texts = _texts()
    for made in found:
        typer.echo(_template_text(texts, made))
    if not found:
        typer.echo(texts.t("shifts_cli.template_none"))


@template_app.command("remove")
def template_remove(template_id: Annotated[int, typer.Argument(help="Template number", min=1, max=MAX_ID)]) -> None:
    """Stop a weekly pattern; the shifts it made stay."""

    async def work(store: Store, settings: Settings, now: datetime) -> None:
        async with store.transaction() as db:
            await templates.remove_template(db, template_id)

    _run(work)
    typer.echo(_texts().t("shifts_cli.template_removed", id=template_id))


@shifts_app.command("generate")
def generate_command(
    week: Annotated[str, typer.Option("--week", help="ISO week, 2026-W49, or a day of it")],
    holidays: Annotated[bool, typer.Option("--holidays", help="Make shifts on public holidays too")] = False,
) -> None:
    """Make a week's shifts from the templates (again: nothing new), skipping public holidays."""

    async def work(store: Store, settings: Settings, now: datetime) -> tuple[date, templates.Generated]:
        monday = reports.parse_week_or_day(week)
        async with store.transaction() as db:
            return monday, await templates.generate_week(
                db, now, settings.tz, monday, include_holidays=holidays, language=settings.default_language
            )

    monday, made = _run(work)
    texts = _texts()
    created = texts.count("shifts_cli.shifts_created", len(made.created))
    existing = texts.count("shifts_cli.shifts_existing", len(made.existing))
    # The ISO week, whether it was given as 2026-W51 or as a day of it: what --week takes back.
    shown = reports.week_label(monday)
    typer.echo(texts.t("shifts_cli.generated", week=shown, created=created, existing=existing))
    for day, name, template in made.skipped:
        typer.echo(texts.t("shifts_cli.generate_skipped", id=template.id, day=texts.day(day), holiday=name))
