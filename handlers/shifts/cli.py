"""``voisins shifts ...``: contracts, the CSV import, rosters, the payroll's hours, and the chat's
operations for staff at a desk. Like the other staff commands they open the database only.

Dates are written 2026-12-09 or 09/12/2026 (a French Excel's cells included). An activity or a place
must be one that exists: a slip ("cusine") is refused with the close names, and a new one is made only
with ``--new`` (or ``voisins shifts activity NAME`` / ``place NAME``).

Exit codes: 0 done; 1 a rule refused (the reason is printed) or, for ``import``, at least one row
was rejected (the other rows are written, one transaction each, and the report names every rejected
row); 2 the command itself is wrong (bad option, unreadable file, wrong header, existing output file).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import aiosqlite
import typer
from rich.console import Console
from rich.table import Table

from bot import people
from bot.cli_support import MAX_ID, ask_yes_no, opened_store, settings_or_exit
from bot.clock import SystemClock
from bot.config import CLI_LANGUAGE, Settings
from bot.csvfiles import CsvFileError, Overwrite, RowReport, read_table, to_csv, write_atomically
from bot.i18n import I18n
from bot.store import Store
from bot.text import fold, format_minutes
from handlers.shifts import model, reports, templates
from handlers.shifts.model import ShiftError

shifts_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
template_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
shifts_app.add_typer(template_app, name="template", help="Weekly patterns that make a week's shifts.")

IMPORT_COLUMNS = ("date", "start", "end", "activity", "place", "capacity", "member_code")
HOURS_COLUMNS = (
    "member_code",
    "name",
    "kind",
    "period",
    "date",
    "shift",
    "worked_minutes",
    "worked_hours",
    "week_total_hours",
)

T = TypeVar("T")


# --- Running ------------------------------------------------------------------------------------


def _i18n(settings: Settings) -> I18n:
    return I18n.configured(settings)


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
        typer.echo("Give the date the hours start: --from 09/12/2026", err=True)
        raise typer.Exit(2)

    async def work(store: Store, settings: Settings, now: datetime) -> list[tuple[date, int]]:
        async with store.transaction() as db:
            person_id = await _person(db, member)
            if hours is not None and valid_from is not None:
                await model.set_contract(db, now, person_id, reports.parse_hours(hours), model.parse_day(valid_from))
            return await model.contract_history(db, person_id)

    history = _run(work)
    code = people.normalise_member_code(member) or member
    if not history:
        typer.echo(f"{code}: no contract hours yet.")
        return
    typer.echo(f"{code}: contract hours a week")
    for day, minutes in history:
        typer.echo(f"  from {day.isoformat()}: {format_minutes(minutes)}")


# --- Import -------------------------------------------------------------------------------------


@dataclass
class ImportReport(RowReport[tuple[int, str]]):
    created_shifts: int = 0
    assigned: int = 0
    new_names: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_shifts or self.assigned)


class ImportFileError(Exception):
    """The whole file is refused: nothing is read from it."""


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows by spreadsheet line (the header is line 1), with the encodings and separators
    every import reads (:mod:`bot.csvfiles`: UTF-8 with or without BOM, UTF-16, Windows-1252;
    comma, semicolon, tab)."""
    try:
        table = read_table(data, IMPORT_COLUMNS)
    except CsvFileError as error:
        if error.key == "people.roster_empty":
            raise ImportFileError("The file is empty.") from None
        raise ImportFileError(f"Not a readable CSV file ({error.key}).") from None
    missing = table.missing(IMPORT_COLUMNS)
    if missing:
        raise ImportFileError(
            f"Missing column(s): {', '.join(missing)}. The header must be: {','.join(IMPORT_COLUMNS)}"
        )
    rows = table.rows(IMPORT_COLUMNS, strip=True)
    if not rows:
        raise ImportFileError("The file has a header but no rows.")
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
            report.rejected.append((line, f"the same row as line {seen[key]}"))
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
    try:
        data = file.read_bytes()
    except OSError as error:
        typer.echo(f"Cannot read {file}: {error.strerror}", err=True)
        raise typer.Exit(2) from None

    async def work(store: Store, settings: Settings, now: datetime) -> ImportReport:
        return await import_shifts(store, settings, now, data, new=new)

    try:
        report = _run(work)
    except ImportFileError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    for name in sorted(set(report.new_names)):
        typer.echo(f"New activity or place: {name}")
    if report.changed:
        typer.echo(
            f"{report.created_shifts} shift(s) created, {report.assigned} assignment(s) made,"
            f" {report.unchanged} row(s) already there."
        )
    else:
        typer.echo(f"Nothing changed: the {report.unchanged} valid row(s) were already there.")
    for line, why in report.rejected:
        typer.echo(f"Line {line} rejected: {why}", err=True)
    if report.rejected:
        typer.echo(f"{len(report.rejected)} row(s) rejected.", err=True)
        raise typer.Exit(1)


# --- Roster -------------------------------------------------------------------------------------


def _roster_period(week: str | None, day: str | None, now: datetime, settings: Settings) -> tuple[date, date]:
    if week and day:
        typer.echo("Give --week or --day, not both.", err=True)
        raise typer.Exit(2)
    if day:
        first = model.parse_day(day)
        return first, first + timedelta(days=1)
    monday = reports.parse_week_or_day(week) if week else model.week_of(now.astimezone(settings.tz).date())[0]
    return monday, monday + timedelta(days=7)


_MARKS = {"yes": "OUI", "no": "NON", None: "?", "present": "present", "absent": "absent"}


def _person_text(assignment: model.Assignment) -> str:
    return f"{assignment.name or '?'} ({assignment.member_code or '?'})"


def _who(assignment: model.Assignment) -> str:
    return f"{_person_text(assignment)} {_MARKS[assignment.attendance or assignment.answer]}"


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
    console = Console(highlight=False)
    title = f"Shifts {first.isoformat()} to {(after - timedelta(days=1)).isoformat()} ({reports.week_label(first)})"
    if not entries:
        typer.echo(f"{title}: no shifts.")
        return
    rows = [
        (
            str(e.shift.id),
            e.shift.local_date.strftime("%a %Y-%m-%d"),
            _span_text(e.shift),
            e.shift.activity,
            e.shift.place,
            "CANCELLED" if e.shift.cancelled else f"{len(e.live)}/{e.shift.capacity}, {e.free} free",
            "; ".join(
                [_who(a) for a in e.live] + [f"{a.name or '?'} ({a.member_code or '?'}) NON" for a in e.declined]
            ),
        )
        for e in entries
    ]
    headers = ("#", "Day", "Time", "Activity", "Place", "Seats", "Workers")
    if console.is_terminal:
        table = Table(title=title)
        for header in headers:
            # The short columns never wrap; names and places take what is left.
            table.add_column(header, no_wrap=header in ("#", "Time", "Seats"), overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table, markup=False)
        return
    typer.echo(title)
    for row in rows:
        typer.echo("\t".join(row))


# --- Hours for the payroll ----------------------------------------------------------------------


def _span_text(shift: model.Shift) -> str:
    return f"{shift.start_local.strftime('%H:%M')}-{shift.end_local.strftime('%H:%M')}"


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def hours_csv(workers: list[reports.WorkerHours], month: date) -> bytes:
    """One row per worker and ISO week (the month's days only), one for the month, then the shifts
    marked absent and those not marked yet, so nothing is paid or forgotten silently."""
    rows: list[list[object]] = []
    period = month.strftime("%Y-%m")
    for worker in workers:
        who = [worker.member_code, worker.name]
        for week in sorted(worker.weeks):
            minutes = worker.weeks[week]
            rows.append([*who, "week", week, "", "", minutes, _hours(minutes), _hours(worker.whole_weeks[week])])
        rows.append([*who, "month", period, "", "", worker.month_minutes, _hours(worker.month_minutes), ""])
        for kind, shifts in (("absent", worker.absent), ("unmarked", worker.unmarked)):
            for shift in shifts:
                label = f"{_span_text(shift)} {shift.activity}, {shift.place}"
                week_label, day = reports.week_label(shift.local_date), shift.local_date.isoformat()
                rows.append([*who, kind, week_label, day, label, shift.minutes, _hours(shift.minutes), ""])
    return to_csv(HOURS_COLUMNS, rows)


@shifts_app.command("hours")
def hours_command(
    file: Annotated[Path, typer.Argument(help="The CSV file to write.")],
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    overwrite: Overwrite = False,
) -> None:
    """Hours worked (shifts marked present) per worker, per ISO week and for the month, for the payroll."""
    if file.exists() and not overwrite:
        typer.echo(f"{file} exists: add --overwrite to replace it.", err=True)
        raise typer.Exit(2)

    async def work(store: Store, settings: Settings, now: datetime) -> list[reports.WorkerHours]:
        first = reports.parse_month(month)
        async with store.transaction() as db:
            return await reports.month_hours(db, first)

    workers = _run(work)
    first = date.fromisoformat(month + "-01")
    write_atomically(file, hours_csv(workers, first))
    unmarked = sum(len(w.unmarked) for w in workers)
    typer.echo(
        f"{len(workers)} worker(s), {format_minutes(sum(w.month_minutes for w in workers))} worked in {month}: {file}"
    )
    if unmarked:
        typer.echo(f"{unmarked} shift(s) not marked present or absent yet: listed as 'unmarked'.", err=True)


# --- Shifts -------------------------------------------------------------------------------------


def _describe(settings: Settings, shift: model.Shift) -> str:
    return f"#{shift.id} {model.describe(shift, settings.default_language)}"


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
            return _describe(settings, shift), created

    text, created = _run(work)
    typer.echo(f"{'Created' if created else 'Already there'}: {text}")


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
            return f"Changed: {_describe(settings, shift)} ({told} worker(s) on it)"

    typer.echo(_run(work))


def _confirmed(question: str, yes: bool) -> None:
    """Irreversible: asked at a terminal, or --yes in a script."""
    if yes:
        return
    if not sys.stdin.isatty() or not ask_yes_no(question):
        typer.echo("Nothing changed (confirm at a terminal, or add --yes).", err=True)
        raise typer.Exit(1)


@shifts_app.command("cancel")
def cancel_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    reason: Annotated[str, typer.Option("--reason", help="Told to the workers")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
) -> None:
    """Cancel a shift; the workers on it are told, with the reason."""
    _confirmed(f"Cancel shift #{shift_id} and tell its workers?", yes)

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            told = len(await model.assignments_of(db, shift_id, live_only=True))
            shift = await model.cancel_shift(db, now, _i18n(settings), shift_id, reason)
            return f"Cancelled: {_describe(settings, shift)} ({told} worker(s) told)"

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
            shown = _describe(settings, shift)
            return f"{_person_text(done)} on {shown}; {format_minutes(planned)} planned that week"

    typer.echo(_run(work))


@shifts_app.command("unassign")
def unassign_command(
    shift_id: Annotated[int, typer.Argument(help="Shift number", min=1, max=MAX_ID)],
    member: Annotated[str, typer.Argument(help="Member code (GV-XXXX)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
) -> None:
    """Take a worker off a shift; they are told."""
    _confirmed(f"Take {member} off shift #{shift_id} and tell them?", yes)

    async def work(store: Store, settings: Settings, now: datetime) -> str:
        async with store.transaction() as db:
            live = await _assignment(db, shift_id, member)
            released = await model.release(db, now, _i18n(settings), live.id, "unassigned")
            return f"{released.name} ({released.member_code}) taken off shift #{shift_id}"

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
            return [f"{m.name} ({m.member_code}): {m.attendance}" for m in marked]

    lines = _run(work)
    for line in lines or [f"Nobody left to mark on shift #{shift_id}."]:
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
    async def work(store: Store, settings: Settings, now: datetime) -> list[str]:
        async with store.transaction() as db:
            if name is None:
                return [f"{i}. {n}" for i, n in await reports.list_named(db, kind)] or [f"No {kind} yet."]
            if rename is not None:
                return [f"{kind} {rename} renamed: {await reports.rename_named(db, kind, rename, name)}"]
            ensure = model.ensure_activity if kind == "activity" else model.ensure_place
            item_id, shown = await ensure(db, now, name)
            return [f"{kind} {item_id}: {shown}"]

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


def _template_text(made: templates.Template) -> str:
    days = templates.weekday_names(made.weekdays, CLI_LANGUAGE)
    holidays = ", also on public holidays" if made.on_holidays else ""
    return (
        f"template {made.id}: {days} {made.start_local.strftime('%H:%M')}-{made.end_local.strftime('%H:%M')}"
        f" {made.activity}, {made.place}, {made.capacity} seat(s){holidays}"
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
            return _template_text(made)

    typer.echo(_run(work))


@template_app.command("list")
def template_list() -> None:
    """The active weekly patterns."""

    async def work(store: Store, settings: Settings, now: datetime) -> list[templates.Template]:
        async with store.transaction() as db:
            return await templates.list_templates(db)

    found = _run(work)
    for made in found:
        typer.echo(_template_text(made))
    if not found:
        typer.echo("No templates yet.")


@template_app.command("remove")
def template_remove(template_id: Annotated[int, typer.Argument(help="Template number", min=1, max=MAX_ID)]) -> None:
    """Stop a weekly pattern; the shifts it made stay."""

    async def work(store: Store, settings: Settings, now: datetime) -> None:
        async with store.transaction() as db:
            await templates.remove_template(db, template_id)

    _run(work)
    typer.echo(f"Template {template_id} removed; its shifts stay.")


@shifts_app.command("generate")
def generate_command(
    week: Annotated[str, typer.Option("--week", help="ISO week, 2026-W49, or a day of it")],
    holidays: Annotated[bool, typer.Option("--holidays", help="Make shifts on public holidays too")] = False,
) -> None:
    """Make a week's shifts from the templates (again: nothing new), skipping public holidays."""

    async def work(store: Store, settings: Settings, now: datetime) -> templates.Generated:
        monday = reports.parse_week_or_day(week)
        async with store.transaction() as db:
            return await templates.generate_week(
                db, now, settings.tz, monday, include_holidays=holidays, language=CLI_LANGUAGE
            )

    made = _run(work)
    typer.echo(f"{week}: {len(made.created)} shift(s) created, {len(made.existing)} already there.")
    for day, name, template in made.skipped:
        typer.echo(f"Skipped {day.isoformat()} ({name}) for template {template.id}; --holidays to include it.")
