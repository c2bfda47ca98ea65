"""The Trocshop in the staff console: balances, a person's ledger, credit and debit, paper notes,
corrections, the books check and the journal's export.

The console is one more face of the chat's operations: a credit, a withdrawal, a deposit or a
correction is the chat's own :func:`handlers.trocshop.execute` with the staff member as the actor,
and a debit is :func:`ledger.transfer` to a place told by the chat's own :func:`tell`; so floors, the
cap on an amount and "an entry is reversed once" refuse the same things, and the person hears of it
the same way, through the outbox. A preview is the operation itself, run in a transaction that is
then rolled back: the page shows exactly the balances and the messages the confirmation will write,
or the refusal it would meet. The confirming form carries the preview's token, which becomes the
entry's idempotency key (a second click writes nothing), and the audit line is written in the
entry's own transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from babel.numbers import format_decimal
from starlette.responses import Response

from bot import people
from bot.csvfiles import Separator, to_csv
from bot.dispatch import Context
from bot.messages import Channel
from bot.people import Identity, Person
from bot.text import fold, format_minutes
from bot.web import audit
from bot.web.view import View
from handlers.trocshop import error_params, execute, ledger, person_label, router, tell
from handlers.trocshop.amounts import read_amount, read_notes
from handlers.trocshop.cli import EXPORT_COLUMNS
from handlers.trocshop.ledger import DENOMINATIONS, LedgerError

router.console_templates = Path(__file__).parent / "templates"

BASE = "/console/trocshop"
PAGE = 25  # movements on one page of a person's ledger
RESULTS = 100  # people listed at most on the balances page
NOTE_MOVES = 50  # latest note moves listed
REASON_MAX = 200
TOKEN_MAX = 64
CREDIT_CATEGORIES = ("activity", "exchange", "purchase")  # a correction is a reversal, never a credit
AUDITED = ("minutes", "category", "memo", "reason", "notes", "place")  # what the audit line keeps of an operation
FIELDS = ("amount", "category", "reason", "place", "op", "n15", "n30", "n60", "token", "confirm")


class _DryRun(Exception):
    """Raised inside a preview's transaction so that it is rolled back, carrying what it would have done."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("preview")
        self.outcome = outcome


@dataclass(frozen=True)
class Outcome:
    """What an operation wrote (or, in a preview, would write)."""

    entry_id: int | None
    created: bool
    balances: list[tuple[str, int, int]]  # (who, before, after) of each person touched
    messages: list[tuple[str, str]]  # (who, text) queued in the outbox


@dataclass(frozen=True)
class Holder:
    person_id: int
    name: str
    code: str
    balance: int
    floor: int | None


def _context(view: View) -> Context:
    """The staff member as the chat's operations know a person; the console stands for their channel."""
    me = view.session.person
    identity = Identity(0, Channel.CONSOLE, f"console:{me.id}", me.id, None, opted_out=False, unreachable=False)
    core = view.core
    return Context(
        store=core.store,
        clock=core.clock,
        settings=core.settings,
        i18n=core.i18n,
        person=me,
        identity=identity,
        language=view.language,
        outbox=core.outbox,
    )


def _refusal(view: View, exc: LedgerError) -> str:
    return view.t(exc.key, **error_params(exc))


async def _explained(db: aiosqlite.Connection, exc: LedgerError) -> LedgerError:
    """The books' refusal as staff read it, looked up before the transaction is rolled back.

    The chat's "not enough" speaks to the payer of their own account; here it names the account
    whose floor refused: a person's, a place's, or the notes in circulation (a deposit of notes
    that are not out, a correction of minutes already spent).
    """
    account = exc.params.get("account")
    if exc.key != "trocshop.not_enough" or not isinstance(account, int):
        return exc
    rows = await _rows(db, "SELECT kind, label, person_id FROM troc_accounts WHERE id = ?", (account,))
    balance = exc.params.get("balance", 0)
    if rows and rows[0]["kind"] == "notes":
        return LedgerError("trocshop_console.notes_short", balance=balance)
    who = str(rows[0]["label"] or "") if rows else ""
    if rows and rows[0]["person_id"] is not None:
        who = (await _labels(db, [rows[0]["person_id"]])).get(rows[0]["person_id"], "")
    return LedgerError("trocshop_console.not_enough", who=who, balance=balance)


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def _rows(db: aiosqlite.Connection, sql: str, params: Sequence[object] = ()) -> list[aiosqlite.Row]:
    return list(await db.execute_fetchall(sql, params))


def _page_number(view: View) -> int:
    text = view.request.query_params.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 10**6 else 1


# --- Balances -------------------------------------------------------------------------------------


def _matches(name: str, words: list[str]) -> bool:
    """Every word typed begins a word of the name: "ali mar" finds Alice Martin."""
    parts = fold(name).split()
    return bool(words) and all(any(part.startswith(word) for part in parts) for word in words)


async def _holders(db: aiosqlite.Connection, query: str) -> list[Holder]:
    """Everyone with an account; with a search, the person of a member code or phone, else by name."""
    rows = await _rows(
        db,
        "SELECT p.id, p.name, p.member_code, a.id AS account, COALESCE(a.balance, 0) AS balance, a.floor"
        " FROM persons p LEFT JOIN troc_accounts a ON a.person_id = p.id WHERE p.status = 'active'"
        " ORDER BY p.name COLLATE NOCASE, p.id",
    )
    holders = [Holder(r["id"], r["name"] or "", r["member_code"] or "", r["balance"], r["floor"]) for r in rows]
    if not query:
        with_account = {r["id"] for r in rows if r["account"] is not None}
        return [h for h in holders if h.person_id in with_account][:RESULTS]
    found = await people.by_code(db, query, phone=True)
    if found is not None:
        return [h for h in holders if h.person_id == found.id]
    words = fold(query).split()
    return [h for h in holders if _matches(h.name, words)][:RESULTS]


@router.console("trocshop", label="trocshop_console.menu", order=40)
async def index(view: View) -> Response:
    """Balances (searched by name, member code or phone), the places, the notes out, the export."""
    query = view.request.query_params.get("q", "").strip()[:80]
    async with view.core.store.transaction() as db:
        holders = await _holders(db, query)
        accounts = await _rows(db, "SELECT kind, label, balance FROM troc_accounts WHERE kind != 'person'")
        notes = await ledger.notes_in_circulation(db)
    places = sorted((r["label"], r["balance"]) for r in accounts if r["kind"] == "place")
    issued = -sum(r["balance"] for r in accounts if r["kind"] == "issuing")
    return view.render(
        "trocshop/index.html",
        query=query,
        holders=holders,
        places=places,
        issued=format_minutes(issued),
        notes=notes,
        notes_total=format_minutes(sum(d * c for d, c in notes.items())),
        minutes=format_minutes,
        separators=[s.value for s in Separator],
    )


# --- A person's ledger ----------------------------------------------------------------------------


def _what(view: View, movement: ledger.Movement) -> str:
    """The other side of a movement, as the chat's history names it."""
    if movement.reverses is not None:
        return view.t("trocshop.what_correction", entry=movement.reverses)
    if movement.other_kind == "issuing":
        return view.t(f"trocshop.cat_{movement.category}")
    if movement.other_kind == "notes":
        return view.t("trocshop.what_notes")
    return movement.other or "?"


async def _reversed(db: aiosqlite.Connection, entries: Sequence[int]) -> dict[int, int]:
    """Original entry -> the correction that reversed it, among ``entries``."""
    if not entries:
        return {}
    marks = ",".join("?" * len(entries))
    rows = await _rows(
        db,
        f"SELECT reverses_entry_id, id FROM troc_entries WHERE reverses_entry_id IN ({marks})",  # noqa: S608 (? marks)
        list(entries),
    )
    return {int(r[0]): int(r[1]) for r in rows}


async def _person(db: aiosqlite.Connection, person_id: int) -> Person | None:
    try:
        person = await people.get_person(db, person_id)
    except LookupError:
        return None
    return person if person.status != "guest" else None


async def _person_page(
    view: View,
    person_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    preview: dict[str, Any] | None = None,
    typed: Mapping[str, str] | None = None,
    kind: str | None = None,
) -> Response:
    page = _page_number(view)
    async with view.core.store.transaction() as db:
        person = await _person(db, person_id)
        if person is None:
            return view.render("error.html", status_code=404, message=view.t("trocshop_console.no_person"))
        account = await ledger.find_person_account(db, person_id)
        floor_row = await _rows(db, "SELECT floor FROM troc_accounts WHERE id = ?", (account,)) if account else []
        moves = await ledger.history(db, account, PAGE + 1, (page - 1) * PAGE) if account is not None else []
        balance = await ledger.balance(db, account) if account is not None else 0
        corrected = await _reversed(db, [m.entry_id for m in moves])
        places = await ledger.places(db)
    notice = None
    query = view.request.query_params
    if query.get("done", "").isdigit():
        notice = view.t("trocshop_console.done", entry=query["done"])
    elif query.get("again", "").isdigit():
        notice = view.t("trocshop.already_done")
    lines = [
        {
            "entry": m.entry_id,
            "at": _stamp(m.created_at),
            "amount": ("+" if m.minutes > 0 else "-") + format_minutes(abs(m.minutes)),
            "what": _what(view, m),
            "memo": m.memo,
            "corrected_by": corrected.get(m.entry_id),
        }
        for m in moves[:PAGE]
    ]
    return view.render(
        "trocshop/person.html",
        status_code=status,
        person=person,
        label=person_label(person) or view.t("trocshop_console.anonymous"),
        active=person.status == "active",
        balance=format_minutes(balance),
        floor=format_minutes(floor_row[0][0]) if floor_row and floor_row[0][0] is not None else None,
        lines=lines,
        page=page,
        more=len(moves) > PAGE,
        places=sorted(places, key=lambda p: fold(p[1])),
        categories=[(c, view.t(f"trocshop.cat_{c}")) for c in CREDIT_CATEGORIES],
        denominations=DENOMINATIONS,
        notice=notice,
        error=error,
        preview=preview,
        typed=typed or {},
        kind=kind,
    )


@router.console("trocshop/person/{person_id:int}")
async def person_page(view: View) -> Response:
    """A person's balance and ledger, page by page, with the forms that move their time."""
    return await _person_page(view, view.request.path_params["person_id"])


# --- Operations: read the form, preview, confirm --------------------------------------------------


def _reason(values: Mapping[str, str]) -> str:
    reason = values.get("reason", "")
    if not reason:
        raise LedgerError("trocshop_console.reason_needed")
    if len(reason) > REASON_MAX:
        raise LedgerError("trocshop_console.reason_too_long", max=REASON_MAX)
    return reason


def _minutes(view: View, values: Mapping[str, str]) -> int:
    """The amount as the command line reads it (same units, same cap)."""
    minutes = read_amount(values.get("amount", ""), view.core.i18n)
    if minutes is None:
        raise LedgerError("trocshop_console.not_an_amount")
    return minutes


def _notes(values: Mapping[str, str]) -> dict[int, int]:
    """The counts of each note, read as the chat reads "2x30 1x15" (same cap)."""
    counts = {d: values.get(f"n{d}", "") or "0" for d in DENOMINATIONS}
    if not all(c.isdigit() for c in counts.values()):
        raise LedgerError("trocshop.bad_notes")
    notes = read_notes(" ".join(f"{int(c)}x{d}" for d, c in counts.items() if int(c)))
    if notes is None:
        raise LedgerError("trocshop.bad_notes")
    return notes


async def _operation(
    db: aiosqlite.Connection, view: View, kind: str, person: Person, values: Mapping[str, str]
) -> tuple[dict[str, Any], str]:
    """The chat's operation data for what the form asks, and the chat's own question for it."""
    label = person_label(person)
    if kind == "credit":
        minutes, category, reason = _minutes(view, values), values.get("category", ""), _reason(values)
        if category not in CREDIT_CATEGORIES:
            raise LedgerError("trocshop.bad_category")
        data = {"op": "credit", "person": person.id, "minutes": minutes, "category": category, "memo": reason}
        question = view.t(
            "trocshop.credit_preview",
            amount=format_minutes(minutes),
            who=label,
            category=view.t(f"trocshop.cat_{category}"),
        )
    elif kind == "debit":
        minutes, reason = _minutes(view, values), _reason(values)
        place = dict(await ledger.places(db)).get(int(values["place"])) if values.get("place", "").isdigit() else None
        if place is None:
            raise LedgerError("trocshop_console.no_place")
        data = {"op": "debit", "person": person.id, "minutes": minutes, "place": int(values["place"]), "memo": reason}
        question = view.t("trocshop_console.debit_preview", amount=format_minutes(minutes), who=label, place=place)
        data["place_label"] = place
    else:
        op = values.get("op", "")
        if op not in ("withdraw", "deposit"):
            raise LedgerError("trocshop.bad_notes")
        notes = _notes(values)
        total = ledger.notes_total(notes)
        data = {"op": op, "person": person.id, "notes": notes, "minutes": total}
        listed = ", ".join(f"{c} x {d} min" for d, c in sorted(notes.items()))
        question = view.t(f"trocshop.{op}_preview", who=label, notes=listed, amount=format_minutes(total))
    data["label"] = label
    return data, question


async def _write(db: aiosqlite.Connection, ctx: Context, key: str, data: dict[str, Any]) -> tuple[int | None, bool]:
    """The chat's own operation (a debit: a purchase at a place, told as the chat tells a movement)."""
    if data["op"] != "debit":
        answer, entry_id, _ = await execute(db, ctx, key, data)
        return entry_id, answer != "trocshop.already_done"
    source = await ledger.person_account(db, data["person"], ctx.now())
    written = await ledger.transfer(
        db,
        ctx.now(),
        key=key,
        source=source,
        target=data["place"],
        minutes=data["minutes"],
        actor=ctx.person.id,
        category="purchase",
        memo=data["memo"],
    )
    if written.created:
        await tell(
            db,
            ctx,
            data["person"],
            written.entry_id,
            "trocshop_console.told_debited",
            amount=format_minutes(data["minutes"]),
            place=data["place_label"],
        )
    return written.entry_id, written.created


async def _person_balances(db: aiosqlite.Connection, person_ids: Sequence[int]) -> dict[int, int]:
    balances = {}
    for person_id in person_ids:
        account = await ledger.find_person_account(db, person_id)
        balances[person_id] = await ledger.balance(db, account) if account is not None else 0
    return balances


async def _parties(db: aiosqlite.Connection, data: dict[str, Any]) -> list[int]:
    """The persons whose balance the operation moves."""
    if data["op"] == "reverse":
        return [p for _, _, p in await ledger.entry_parties(db, data["entry"]) if p is not None]
    return [int(data["person"])]


async def _labels(db: aiosqlite.Connection, person_ids: Sequence[int]) -> dict[int, str]:
    return {p.id: person_label(p) for p in await people.get_people(db, person_ids)}


async def _run(view: View, data: dict[str, Any], token: str, *, dry: bool) -> Outcome:
    """Write the operation with its audit line in one transaction; a dry run is rolled back.

    Raises LedgerError (nothing written) when the books refuse it.
    """
    ctx = _context(view)
    key = f"console:{view.person_id}:{token}"
    try:
        async with view.core.store.transaction() as db:
            parties = await _parties(db, data)
            before = await _person_balances(db, parties)
            try:
                entry_id, created = await _write(db, ctx, key, data)
            except LedgerError as exc:
                raise await _explained(db, exc) from exc
            after = await _person_balances(db, parties)
            labels = await _labels(db, parties)
            queued = await _rows(
                db, "SELECT person_id, body FROM outbox WHERE cause LIKE ? ORDER BY id", (f"troc:{entry_id}:%",)
            )
            outcome = Outcome(
                entry_id,
                created,
                [(labels.get(p, ""), before[p], after[p]) for p in parties],
                [(labels.get(r["person_id"], ""), r["body"]) for r in queued] if created else [],
            )
            if dry:
                raise _DryRun(outcome)
            if created:
                await audit.record(
                    db,
                    view.now(),
                    view.person_id,
                    f"trocshop.{data['op']}",
                    f"entry:{data['entry']}" if data["op"] == "reverse" else f"person:{data['person']}",
                    {"balances": {str(p): before[p] for p in parties}},
                    {
                        "entry": entry_id,
                        "balances": {str(p): after[p] for p in parties},
                        **{k: data[k] for k in AUDITED if k in data},
                    },
                )
    except _DryRun as preview:
        return preview.outcome
    if created:
        view.core.outbox.wake()
    return outcome


def _preview_values(
    action: str, back: str, question: str, outcome: Outcome, values: Mapping[str, str], token: str
) -> dict[str, Any]:
    """What the preview panel shows and the hidden fields its confirmation sends back."""
    return {
        "action": action,
        "back": back,
        "question": question,
        "balances": [(who, format_minutes(b), format_minutes(a)) for who, b, a in outcome.balances],
        "messages": outcome.messages,
        "fields": {**{k: v for k, v in values.items() if v and k not in ("token", "confirm")}, "token": token},
    }


async def _form_values(view: View) -> dict[str, str]:
    form = await view.form()
    return {name: str(form.get(name) or "").strip() for name in FIELDS}


def _token(values: Mapping[str, str]) -> str | None:
    token = values.get("token", "")
    return token if 0 < len(token) <= TOKEN_MAX and token.replace("-", "").replace("_", "").isalnum() else None


async def _person_operation(view: View, kind: str) -> Response:
    """Preview (no ``confirm``) or do a credit, a debit or a notes move for the person of the path."""
    person_id: int = view.request.path_params["person_id"]
    values = await _form_values(view)
    token = _token(values)
    confirmed = values["confirm"] == "1" and token is not None
    try:
        async with view.core.store.transaction() as db:
            person = await _person(db, person_id)
            if person is None or person.status != "active":
                raise LedgerError("trocshop_console.no_person")
            data, question = await _operation(db, view, kind, person, values)
        token = token or secrets.token_urlsafe(12)
        outcome = await _run(view, data, token, dry=not confirmed)
    except LedgerError as exc:
        error = _refusal(view, exc)
        return await _person_page(view, person_id, status=400, error=error, typed=values, kind=kind)
    if not confirmed:
        back = f"{BASE}/person/{person_id}"
        preview = _preview_values(f"{back}/{kind}", back, question, outcome, values, token)
        return await _person_page(view, person_id, preview=preview, typed=values, kind=kind)
    done = "done" if outcome.created else "again"
    return view.redirect(f"{BASE}/person/{person_id}?{done}={outcome.entry_id}")


@router.console("trocshop/person/{person_id:int}/credit", methods=("POST",))
async def credit(view: View) -> Response:
    return await _person_operation(view, "credit")


@router.console("trocshop/person/{person_id:int}/debit", methods=("POST",))
async def debit(view: View) -> Response:
    return await _person_operation(view, "debit")


@router.console("trocshop/person/{person_id:int}/notes", methods=("POST",))
async def notes_move(view: View) -> Response:
    return await _person_operation(view, "notes")


# --- An entry, and its correction -----------------------------------------------------------------


async def _entry_page(
    view: View,
    entry_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    preview: dict[str, Any] | None = None,
    typed: Mapping[str, str] | None = None,
) -> Response:
    async with view.core.store.transaction() as db:
        found = await _rows(
            db,
            "SELECT e.id, e.category, e.memo, e.created_at, e.reverses_entry_id, actor.name AS actor,"
            " actor.member_code AS actor_code, (SELECT r.id FROM troc_entries r WHERE r.reverses_entry_id = e.id)"
            " AS corrected_by FROM troc_entries e LEFT JOIN persons actor ON actor.id = e.actor_person_id"
            " WHERE e.id = ?",
            (entry_id,),
        )
        if not found:
            return view.render("error.html", status_code=404, message=view.t("trocshop.no_entry", entry=entry_id))
        postings = await _rows(
            db,
            "SELECT a.kind, a.label, a.person_id, p.name, p.member_code, q.minutes FROM troc_postings q"
            " JOIN troc_accounts a ON a.id = q.account_id LEFT JOIN persons p ON p.id = a.person_id"
            " WHERE q.entry_id = ? ORDER BY q.id",
            (entry_id,),
        )
        moved = await _rows(
            db, "SELECT denomination, count FROM troc_note_moves WHERE entry_id = ? ORDER BY denomination", (entry_id,)
        )
    entry = dict(found[0])
    query = view.request.query_params
    notice = view.t("trocshop_console.done", entry=query["done"]) if query.get("done", "").isdigit() else None
    if query.get("again", "").isdigit():
        notice = view.t("trocshop.already_done")
    return view.render(
        "trocshop/entry.html",
        status_code=status,
        entry=entry,
        at=_stamp(entry["created_at"]),
        category=view.t(f"trocshop.cat_{entry['category']}"),
        postings=[
            {
                "who": r["label"] if r["kind"] == "place" else r["name"] or r["member_code"] or "",
                "kind": view.t(f"trocshop_console.kind_{r['kind']}"),
                "person_id": r["person_id"],
                "amount": ("+" if r["minutes"] > 0 else "-") + format_minutes(abs(r["minutes"])),
            }
            for r in postings
        ],
        notes=[(r["denomination"], r["count"]) for r in moved],
        reversible=entry["reverses_entry_id"] is None and entry["corrected_by"] is None,
        notice=notice,
        error=error,
        preview=preview,
        typed=typed or {},
    )


@router.console("trocshop/entry/{entry_id:int}")
async def entry_page(view: View) -> Response:
    """One entry: its postings, who did it, and the form that reverses it."""
    return await _entry_page(view, view.request.path_params["entry_id"])


@router.console("trocshop/entry/{entry_id:int}/reverse", methods=("POST",))
async def reverse(view: View) -> Response:
    """A mistake is undone by a correction that mirrors the entry; preview first, as every operation."""
    entry_id: int = view.request.path_params["entry_id"]
    values = await _form_values(view)
    token = _token(values)
    confirmed = values["confirm"] == "1" and token is not None
    token = token or secrets.token_urlsafe(12)
    data: dict[str, Any] = {"op": "reverse", "entry": entry_id, "reason": values["reason"]}
    try:
        if len(values["reason"]) > REASON_MAX:
            raise LedgerError("trocshop_console.reason_too_long", max=REASON_MAX)
        outcome = await _run(view, data, token, dry=not confirmed)
    except LedgerError as exc:
        return await _entry_page(view, entry_id, status=400, error=_refusal(view, exc), typed=values)
    if not confirmed:
        question = view.t("trocshop.reverse_preview", entry=entry_id, reason=data["reason"])
        back = f"{BASE}/entry/{entry_id}"
        preview = _preview_values(f"{back}/reverse", back, question, outcome, values, token)
        return await _entry_page(view, entry_id, preview=preview, typed=values)
    done = "done" if outcome.created else "again"
    return view.redirect(f"{BASE}/entry/{entry_id}?{done}={outcome.entry_id}")


# --- Paper notes, the books check, the export -----------------------------------------------------


@router.console("trocshop/notes")
async def notes_page(view: View) -> Response:
    """The paper notes: how many of each went out, came back and are out there, and the latest moves."""
    async with view.core.store.transaction() as db:
        out = await ledger.notes_in_circulation(db)
        totals = await _rows(
            db,
            "SELECT denomination, SUM(MAX(count, 0)) AS issued, SUM(MAX(-count, 0)) AS back"
            " FROM troc_note_moves GROUP BY denomination",
        )
        moves = await _rows(
            db,
            "SELECT e.id, e.created_at, e.reverses_entry_id, m.denomination, m.count, p.id AS person_id, p.name,"
            " p.member_code FROM troc_note_moves m JOIN troc_entries e ON e.id = m.entry_id"
            " LEFT JOIN persons p ON p.id = (SELECT a.person_id FROM troc_postings q"
            "  JOIN troc_accounts a ON a.id = q.account_id WHERE q.entry_id = e.id AND a.kind = 'person' LIMIT 1)"
            " ORDER BY m.id DESC LIMIT ?",
            (NOTE_MOVES,),
        )
    by_value = {int(r["denomination"]): (int(r["issued"]), int(r["back"])) for r in totals}
    rows = [(d, *by_value.get(d, (0, 0)), out[d]) for d in DENOMINATIONS]
    return view.render(
        "trocshop/notes.html",
        rows=rows,
        issued=format_minutes(sum(d * i for d, i, _, _ in rows)),
        back=format_minutes(sum(d * b for d, _, b, _ in rows)),
        out=format_minutes(sum(d * o for d, _, _, o in rows)),
        moves=[{**dict(r), "at": _stamp(r["created_at"])} for r in moves],
    )


def _verdict(view: View, problems: Sequence[str], entries: int) -> str:
    """ "The books are right: 1 234 entries checked", or how many problems were found."""
    key, count = ("check_wrong", len(problems)) if problems else ("check_right", entries)
    return view.core.i18n.plural(
        view.language, f"trocshop_console.{key}", count, count=format_decimal(count, locale=view.language)
    )


async def _check(view: View) -> tuple[list[str], int]:
    async with view.core.store.transaction() as db:
        problems = await ledger.check(db)
        count = await _rows(db, "SELECT COUNT(*) FROM troc_entries")
    return [problem.said(view.core.i18n, view.language) for problem in problems], int(count[0][0])


@router.console("trocshop/check")
async def check_page(view: View) -> Response:
    """The books check of ``voisins troc check``: every entry balanced, balances, floors and notes proved."""
    problems, entries = await _check(view)
    return view.render("trocshop/check.html", problems=problems, verdict=_verdict(view, problems, entries))


@router.console("trocshop/export.csv")
async def export(view: View) -> Response:
    """The whole journal as ``voisins troc export`` writes it (``;`` and a BOM unless ``,`` is asked)."""
    asked = view.request.query_params.get("separator", Separator.semicolon.value)
    separator = asked if asked in {s.value for s in Separator} else Separator.semicolon.value
    async with view.core.store.transaction() as db:
        rows = await ledger.export_rows(db)
        await audit.record(db, view.now(), view.person_id, "trocshop.export", None, None, {"postings": len(rows)})
    data = to_csv(EXPORT_COLUMNS, ([row[column] for column in EXPORT_COLUMNS] for row in rows), delimiter=separator)
    name = f"trocshop-{view.local(view.now()).date().isoformat()}.csv"
    return Response(
        data, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.today(order=40)
async def today_panel(view: View) -> str | None:
    """Only when the books are wrong: that needs staff now."""
    problems, _ = await _check(view)
    if not problems:
        return None
    return view.fragment("trocshop/panel.html", verdict=_verdict(view, problems, 0))
