"""``voisins troc ...``: the staff's Trocshop commands, and the proof that the books are right.

They open the database only (no channel, no demo data). ``check`` exits non-zero and names the
entry or account at fault, so a cron job or a deploy script can stop on it. What they say is in
``DEFAULT_LANGUAGE``, from the catalogs, as the refusals of the books are.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Annotated

import typer
from babel.numbers import format_decimal

from bot import people
from bot.cli_support import opened_store, settings_or_exit
from bot.clock import SystemClock
from bot.config import Settings
from bot.csvfiles import ExportSeparator, Overwrite, Separator, export_command, to_csv
from bot.i18n import I18n
from bot.people import normalise_member_code
from bot.store import Store
from bot.text import format_minutes
from handlers.trocshop import ledger
from handlers.trocshop.amounts import MAX_MINUTES, read_amount
from handlers.trocshop.ledger import LedgerError

troc_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

# The examples the helps show; the tests run each as written.
AMOUNT_EXAMPLES = ("30", "45min", "1h30", "1,5h")
FLOOR_EXAMPLE = -60
# The columns of the journal's export, one row per posting.
EXPORT_COLUMNS = (
    "entry",
    "created_at",
    "category",
    "memo",
    "reverses",
    "idem_key",
    "actor",
    "account",
    "kind",
    "account_label",
    "minutes",
    "notes",
)
SYSTEM_ACCOUNTS = ("issuing", "notes")  # their label is their kind


def _say(i18n: I18n, key: str, **params: object) -> str:
    return i18n.t(i18n.default_language, key, **params)


async def _member(store: Store, text: str, i18n: I18n) -> int:
    """The registered person named by member code or phone number; nobody exits with 1."""
    async with store.transaction() as db:
        person = await people.by_code(db, text, phone=True)
    if person is None:
        typer.echo(_say(i18n, "trocshop_cli.nobody"), err=True)
        raise typer.Exit(1)
    return person.id


def _fail(i18n: I18n, exc: LedgerError) -> None:
    params = {k: format_minutes(v) if k == "balance" and isinstance(v, int) else v for k, v in exc.params.items()}
    typer.echo(_say(i18n, exc.key, **params), err=True)
    raise typer.Exit(1)


@troc_app.command("credit")
def credit(
    member: Annotated[str, typer.Argument(help="Member code (GV-XXXX) or registered phone number.")],
    minutes: Annotated[str, typer.Argument(help=f"{', '.join(AMOUNT_EXAMPLES)}... (the chat's own reading)")],
    reason: Annotated[str, typer.Option("--reason", help="Why: what the person took part in.")],
    category: Annotated[str, typer.Option("--category", help="activity, exchange, purchase, correction")] = "activity",
    key: Annotated[str | None, typer.Option("--key", help="Idempotency key: the same key is written once.")] = None,
) -> None:
    """Credit a person for taking part, from the Trocshop's issuing account."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    try:
        amount = read_amount(minutes, i18n)
    except LedgerError as exc:
        _fail(i18n, exc)
        return
    if amount is None:
        typer.echo(_say(i18n, "trocshop_cli.not_an_amount", value=minutes), err=True)
        raise typer.Exit(2)

    async def go() -> tuple[int, bool, int]:
        async with opened_store(settings) as store:
            person_id = await _member(store, member, i18n)
            now = SystemClock().now()
            async with store.transaction() as db:
                written = await ledger.credit(
                    db,
                    now,
                    key=key or f"cli:{secrets.token_hex(8)}",
                    person_id=person_id,
                    minutes=amount,
                    actor=None,
                    category=category,
                    memo=reason,
                )
                account = await ledger.person_account(db, person_id, now)
                return written.entry_id, written.created, await ledger.balance(db, account)

    try:
        entry, created, balance = asyncio.run(go())
    except LedgerError as exc:
        _fail(i18n, exc)
        return
    key = "trocshop_cli.credited" if created else "trocshop_cli.credited_before"
    typer.echo(_say(i18n, key, entry=entry, amount=format_minutes(amount), balance=format_minutes(balance)))


# A negative number is the argument, not an option: "floor GV-XXXX -60" works without "--".
@troc_app.command("floor", context_settings={"ignore_unknown_options": True})
def floor(
    member: Annotated[str, typer.Argument(help="Member code (GV-XXXX) or registered phone number.")],
    minutes: Annotated[
        int,
        typer.Argument(
            help=f"The lowest balance allowed, in minutes ({FLOOR_EXAMPLE} lets it go"
            f" {format_minutes(-FLOOR_EXAMPLE)} below zero).",
            min=-MAX_MINUTES,
            max=MAX_MINUTES,
        ),
    ],
) -> None:
    """Set how low a person's balance may go (0 unless staff decide otherwise)."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)

    async def go() -> None:
        async with opened_store(settings) as store:
            person_id = await _member(store, member, i18n)
            async with store.transaction() as db:
                account = await ledger.person_account(db, person_id, SystemClock().now())
                await ledger.set_floor(db, account, minutes)

    try:
        asyncio.run(go())
    except LedgerError as exc:
        _fail(i18n, exc)
        return
    typer.echo(_say(i18n, "trocshop_cli.floor_set", who=normalise_member_code(member) or member, minutes=minutes))


@troc_app.command("balance")
def balance(
    member: Annotated[str | None, typer.Argument(help="Member code or phone; every account when omitted.")] = None,
) -> None:
    """One person's balance, or every account's with the notes in circulation."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)

    def account_line(kind: str, name: str | None, minutes: int) -> str:
        said = _say(i18n, f"trocshop_cli.kind_{kind}")
        name = said if kind in SYSTEM_ACCOUNTS else name or _say(i18n, "trocshop_cli.anonymous")
        return f"{said:10} {name}: {format_minutes(minutes)}"

    async def go() -> list[str]:
        async with opened_store(settings) as store:
            if member is not None:
                person_id = await _member(store, member, i18n)
                async with store.transaction() as db:
                    account = await ledger.find_person_account(db, person_id)
                    value = await ledger.balance(db, account) if account is not None else 0
                return [f"{normalise_member_code(member) or member}: {format_minutes(value)}"]
            rows = await store.fetchall(
                "SELECT a.id, a.kind, COALESCE(a.label, p.member_code) AS label, a.balance, a.floor"
                " FROM troc_accounts a LEFT JOIN persons p ON p.id = a.person_id ORDER BY a.kind, a.id"
            )
            async with store.transaction() as db:
                notes = await ledger.notes_in_circulation(db)
            lines = [account_line(r["kind"], r["label"], r["balance"]) for r in rows]
            held = ", ".join(f"{c} x {d} min" for d, c in notes.items()) or _say(i18n, "trocshop_cli.no_notes")
            lines.append(_say(i18n, "trocshop_cli.notes", notes=held))
            return lines

    for line in asyncio.run(go()):
        typer.echo(line)


@troc_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="The CSV file to write (the whole journal).")],
    separator: ExportSeparator = Separator.semicolon,
    overwrite: Overwrite = False,
) -> None:
    """Write the whole journal, one row per posting, as CSV for a spreadsheet (as the other exports)."""

    async def make(settings: Settings, i18n: I18n) -> tuple[bytes, int]:
        async with opened_store(settings) as store, store.transaction() as db:
            rows = await ledger.export_rows(db)
        cells = ([row[column] for column in EXPORT_COLUMNS] for row in rows)
        return to_csv(EXPORT_COLUMNS, cells, delimiter=separator.value), len(rows)

    export_command(file, overwrite, make, "trocshop_cli.export_done")


@troc_app.command("check")
def check() -> None:
    """Prove the books: every entry balanced, balances equal their postings, floors and notes respected."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    language = i18n.default_language

    async def go() -> tuple[list[ledger.Problem], int]:
        async with opened_store(settings) as store:
            async with store.transaction() as db:
                problems = await ledger.check(db)
            row = await store.fetchone("SELECT COUNT(*) FROM troc_entries")
            return problems, int(row[0]) if row else 0

    problems, entries = asyncio.run(go())
    for problem in problems:
        typer.echo(problem.said(i18n, language), err=True)
    if problems:
        raise typer.Exit(1)
    count = format_decimal(entries, locale=language)
    typer.echo(i18n.plural(language, "trocshop_cli.check_right", entries, count=count))


@troc_app.command("place")
def place(name: Annotated[str, typer.Argument(help="The place's name, as people say it.")]) -> None:
    """Add a place where people can pay in time."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)

    async def go() -> int:
        async with opened_store(settings) as store, store.transaction() as db:
            return await ledger.add_place(db, name, SystemClock().now())

    try:
        account = asyncio.run(go())
    except LedgerError as exc:
        _fail(i18n, exc)
        return
    typer.echo(_say(i18n, "trocshop_cli.place_added", account=account, name=name))
