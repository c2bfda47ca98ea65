"""The Trocshop in chat: balance, history, paying a person or a place, and the staff's operations.

Nothing is written until the person answers OUI to a preview that says who receives what; the
preview's token becomes the entry's idempotency key, so a double tap, a repeated SMS or a retried
request writes once. A preview older than ten minutes is refused: balances may have moved since.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot import outbox, people
from bot.clock import iso
from bot.dispatch import REGISTERED, STAFF_ROLES, Context, Replies, Router, guard
from bot.messages import Choice, Inbound, Reply
from bot.store import Store
from bot.text import NO_WORDS, YES_WORDS, fold, format_minutes
from handlers.trocshop import ledger
from handlers.trocshop.amounts import find_amount, parse_minutes
from handlers.trocshop.cli import troc_app
from handlers.trocshop.ledger import LedgerError

log = logging.getLogger(__name__)

router = Router("trocshop")
router.cli("troc", troc_app, "Trocshop time ledger: credit, balance, export, check.")

CONFIRM_WITHIN = timedelta(minutes=10)
BALANCE_LINES = 3
HISTORY_LINES = 10

BALANCE_WORDS = ("solde", "mon solde", "balance", "my balance", "sold", "sole", "/solde", "/balance")
HISTORY_WORDS = ("historique", "mon historique", "history", "historik", "histo", "/historique", "/history")
# Not "donner" or "give": "donner 2 couvertures" is someone offering blankets, not time.
PAY_VERBS = frozenset({"envoyer", "envoie", "envoi", "envoye", "envoyez", "payer", "paye", "paie", "pay", "send"})
PAY_COMMANDS = ("/payer", "/pay", "/envoyer", "/send")
CONNECTORS = frozenset({"a", "au", "aux", "to", "pour", "for", "chez", "at", "de", "vers"})
CATEGORY_WORDS = {
    "activite": "activity",
    "activity": "activity",
    "atelier": "activity",
    "echange": "exchange",
    "exchange": "exchange",
    "achat": "purchase",
    "purchase": "purchase",
    "billets": "notes",
    "notes": "notes",
    "correction": "correction",
}
_NOTE = re.compile(r"^(\d{1,3})\s*[x*]\s*(15|30|60)$|^(15|30|60)(?:min|mn|m)?$")
_NEGATIVE = re.compile(r"(?:^|\s)-\s*\d")


# --- Who and what --------------------------------------------------------------------------------


async def _person_by_text(db: aiosqlite.Connection, text: str) -> int | None:
    """A registered person by member code or phone number, as typed."""
    code = people.normalise_member_code(text)
    if code is not None:
        return await people.find_person_id(db, member_code=code)
    if sum(ch.isdigit() for ch in text) >= 8:
        phone = people.normalise_phone(text)
        if phone is not None:
            return await people.find_person_id(db, phone=phone)
    return None


def _person_label(person: people.Person) -> str:
    first = (person.name or "").split()
    code = person.member_code or ""
    return f"{first[0]} ({code})" if first else code


def _token() -> str:
    return secrets.token_hex(6)


def _confirm_reply(ctx: Context, text: str, token: str) -> Reply:
    return Reply(
        text,
        (
            Choice(f"trocshop.yes:{token}", ctx.t("trocshop.yes")),
            Choice(f"trocshop.no:{token}", ctx.t("trocshop.no")),
        ),
    )


def _ask(ctx: Context, text: str, **data: Any) -> Replies:
    """Keep the operation pending until OUI, NON or ten minutes."""
    token = _token()
    ctx.goto("trocshop.confirm", token=token, expires=iso(ctx.now() + CONFIRM_WITHIN), **data)
    return [_confirm_reply(ctx, text, token)]


def _error(ctx: Context, exc: LedgerError) -> Reply:
    params = {k: format_minutes(v) if k == "balance" and isinstance(v, int) else v for k, v in exc.params.items()}
    return Reply(ctx.t(exc.key, **params))


def _date(ctx: Context, stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(ctx.settings.tz).strftime("%d/%m")


def _movement_line(ctx: Context, movement: ledger.Movement) -> str:
    sign = "+" if movement.minutes > 0 else "-"
    if movement.reverses is not None:
        what = ctx.t("trocshop.what_correction", entry=movement.reverses)
    elif movement.other_kind == "issuing":
        what = ctx.t(f"trocshop.cat_{movement.category}")
    elif movement.other_kind == "notes":
        what = ctx.t("trocshop.what_notes")
    else:
        what = movement.other or "?"
    line = ctx.t(
        "trocshop.line",
        date=_date(ctx, movement.created_at),
        amount=sign + format_minutes(abs(movement.minutes)),
        what=what,
    )
    # Staff need the entry's number to correct it; for a resident it would only cost SMS room.
    return f"{line} #{movement.entry_id}" if ctx.person.is_staff else line


# --- Balance and history --------------------------------------------------------------------------


async def _show(inbound: Inbound, ctx: Context, limit: int, argument: str) -> Replies:
    """A balance is shown to its owner's own identities or to staff, never to anyone else."""
    async with ctx.store.transaction() as db:
        owner: int | None = ctx.person.id
        place: tuple[int, str] | None = None
        if argument:
            owner = await _person_by_text(db, argument)
            if owner != ctx.person.id and not ctx.person.is_staff:
                log.info("refused someone else's balance (person %s)", ctx.person.id)
                return [Reply(ctx.t("trocshop.not_yours"))]
            if owner is None:
                place = await ledger.find_place(db, argument)
                if place is None:
                    return [Reply(ctx.t("trocshop.unknown_target"))]
        if place is not None:
            account_id, label = place
        else:
            assert owner is not None
            account_id = await ledger.person_account(db, owner, ctx.now())
            label = ""
            if owner != ctx.person.id:
                label = _person_label(await people.get_person(db, owner))
        balance = await ledger.balance(db, account_id)
        moves = await ledger.history(db, account_id, limit)
    head_key = "trocshop.balance_of" if label else "trocshop.balance"
    lines = [ctx.t(head_key, balance=format_minutes(balance), who=label)]
    if moves:
        lines.append(ctx.t("trocshop.last_moves" if limit == BALANCE_LINES else "trocshop.history_head"))
        lines += [_movement_line(ctx, m) for m in moves]
    else:
        lines.append(ctx.t("trocshop.no_moves"))
    ctx.done()
    return [Reply("\n".join(lines))]


def _argument(inbound: Inbound, words: tuple[str, ...]) -> str:
    """What follows the keyword ("solde GV-K7P2"); nothing when the whole message is the keyword."""
    if fold(inbound.text) in {fold(w) for w in words}:
        return ""
    parts = inbound.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


@router.command(*BALANCE_WORDS, roles=REGISTERED)
async def show_balance(inbound: Inbound, ctx: Context) -> Replies:
    return await _show(inbound, ctx, BALANCE_LINES, _argument(inbound, BALANCE_WORDS))


@router.command(*HISTORY_WORDS, roles=REGISTERED)
async def show_history(inbound: Inbound, ctx: Context) -> Replies:
    return await _show(inbound, ctx, HISTORY_LINES, _argument(inbound, HISTORY_WORDS))


# --- Paying ---------------------------------------------------------------------------------------


async def _pay(inbound: Inbound, ctx: Context) -> Replies:
    text = inbound.text.split(maxsplit=1)[1] if inbound.text.startswith("/") and " " in inbound.text else inbound.text
    words = fold(text).split()
    if words and words[0] in PAY_VERBS:
        words = words[1:]
    found = find_amount(words)
    if found is None:
        return [Reply(ctx.t("trocshop.pay_usage"))]
    minutes, start, end = found
    if _NEGATIVE.search(text) or minutes <= 0:
        return [Reply(ctx.t("trocshop.amount_positive"))]
    rest = [w for w in words[:start] + words[end:]]
    while rest and rest[0] in CONNECTORS:
        rest = rest[1:]
    target_text = " ".join(rest)
    if not target_text:
        return [Reply(ctx.t("trocshop.pay_usage"))]
    async with ctx.store.transaction() as db:
        target_person = await _person_by_text(db, target_text)
        if target_person is not None:
            if target_person == ctx.person.id:
                return [Reply(ctx.t("trocshop.pay_self"))]
            target = await ledger.person_account(db, target_person, ctx.now())
            label = _person_label(await people.get_person(db, target_person))
        else:
            place = await ledger.find_place(db, target_text)
            if place is None:
                return [Reply(ctx.t("trocshop.unknown_target"))]
            target, label = place
        source = await ledger.person_account(db, ctx.person.id, ctx.now())
        balance = await ledger.balance(db, source)
    if minutes > balance:
        return [Reply(ctx.t("trocshop.not_enough", balance=format_minutes(balance)))]
    text = ctx.t(
        "trocshop.pay_preview",
        amount=format_minutes(minutes),
        who=label,
        after=format_minutes(balance - minutes),
    )
    return _ask(ctx, text, op="pay", minutes=minutes, target=target, target_person=target_person, label=label)


_guarded_pay = guard(_pay, REGISTERED)


@router.command(*PAY_COMMANDS, roles=REGISTERED)
async def pay_command(inbound: Inbound, ctx: Context) -> Replies:
    return await _pay(inbound, ctx)


@router.text(priority=10)
async def pay_text(inbound: Inbound, ctx: Context) -> Replies:
    """ "envoyer 30 min a GV-K7P2", "payer 1h Lingerie"; "solde GV-K7P2" for staff."""
    words = fold(inbound.text).split()
    if not words:
        return None
    if words[0] in PAY_VERBS and find_amount(words[1:]) is not None:
        return await _guarded_pay(inbound, ctx)
    if words[0] in {fold(w) for w in BALANCE_WORDS} and len(words) > 1:
        return await guard(show_balance, REGISTERED)(inbound, ctx)
    if words[0] in {fold(w) for w in HISTORY_WORDS} and len(words) > 1:
        return await guard(show_history, REGISTERED)(inbound, ctx)
    return None


# --- Confirming -----------------------------------------------------------------------------------


async def _execute(db: aiosqlite.Connection, ctx: Context, key: str, data: dict[str, Any]) -> tuple[str, int]:
    """Write the pending operation and queue the news for the other side; returns (answer key, entry)."""
    now = ctx.now()
    op = data["op"]
    actor = ctx.person.id
    if op == "pay":
        source = await ledger.person_account(db, ctx.person.id, now)
        category = "exchange" if data["target_person"] is not None else "purchase"
        written = await ledger.transfer(
            db, now, key=key, source=source, target=data["target"], minutes=data["minutes"], actor=actor,
            category=category,
        )  # fmt: skip
        if written.created and data["target_person"] is not None:
            payer = await people.get_person(db, ctx.person.id)
            await _tell(db, ctx, data["target_person"], written.entry_id, "trocshop.told_received",
                        amount=format_minutes(data["minutes"]), who=_person_label(payer))  # fmt: skip
        answer = "trocshop.paid"
    elif op == "credit":
        written = await ledger.credit(
            db, now, key=key, person_id=data["person"], minutes=data["minutes"], actor=actor,
            category=data["category"], memo=data["memo"],
        )  # fmt: skip
        if written.created:
            await _tell(db, ctx, data["person"], written.entry_id, "trocshop.told_credited",
                        amount=format_minutes(data["minutes"]))  # fmt: skip
        answer = "trocshop.credited"
    elif op in ("withdraw", "deposit"):
        notes = {int(d): int(c) for d, c in data["notes"].items()}
        written = await ledger.move_notes(
            db, now, key=key, person_id=data["person"], notes=notes, withdraw=op == "withdraw", actor=actor
        )
        if written.created:
            await _tell(db, ctx, data["person"], written.entry_id, f"trocshop.told_{op}",
                        amount=format_minutes(ledger.notes_total(notes)))  # fmt: skip
        answer = f"trocshop.done_{op}"
    elif op == "reverse":
        written = await ledger.reverse(db, now, key=key, entry_id=data["entry"], reason=data["reason"], actor=actor)
        if written.created:
            for _, minutes, person_id in await ledger.entry_parties(db, written.entry_id):
                if person_id is not None:
                    await _tell(db, ctx, person_id, written.entry_id, "trocshop.told_reversed",
                                amount=("+" if minutes > 0 else "-") + format_minutes(abs(minutes)))  # fmt: skip
        answer = "trocshop.reversed"
    else:
        raise LedgerError("trocshop.nothing_pending")
    if not written.created:
        return "trocshop.already_done", written.entry_id
    return answer, written.entry_id


async def _tell(
    db: aiosqlite.Connection, ctx: Context, person_id: int, entry_id: int, key: str, **params: object
) -> None:
    """The other side learns of the movement, in the same transaction as the movement itself."""
    account = await ledger.person_account(db, person_id, ctx.now())
    params["balance"] = format_minutes(await ledger.balance(db, account))
    await outbox.enqueue_for_person(
        db, ctx.now(), ctx.i18n, person_id, cause=f"troc:{entry_id}:{person_id}", key=key, params=params
    )


async def _confirm(ctx: Context, token: str) -> Replies:
    key = f"chat:{ctx.person.id}:{token}"
    if await ctx.store.fetchone("SELECT 1 FROM troc_entries WHERE idem_key = ?", (key,)) is not None:
        return [Reply(ctx.t("trocshop.already_done"))]
    data = ctx.data if ctx.step == "trocshop.confirm" else {}
    if data.get("token") != token:
        return [Reply(ctx.t("trocshop.nothing_pending"))]
    if iso(ctx.now()) > data["expires"]:
        ctx.done()
        return [Reply(ctx.t("trocshop.too_late"))]
    if data["op"] != "pay" and not ctx.person.is_staff:
        ctx.done()
        return [Reply(ctx.t("core.not_allowed"))]
    try:
        async with ctx.store.transaction() as db:
            answer, entry_id = await _execute(db, ctx, key, data)
            mine = await ledger.person_account(db, ctx.person.id, ctx.now())
            balance = await ledger.balance(db, mine)
    except LedgerError as exc:
        ctx.done()
        return [_error(ctx, exc)]
    if ctx.outbox is not None:
        ctx.outbox.wake()
    log.info("trocshop entry %s written (op %s, person %s)", entry_id, data["op"], ctx.person.id)
    ctx.goto("trocshop.done", token=token)
    return [
        Reply(
            ctx.t(
                answer,
                amount=format_minutes(data.get("minutes", 0)),
                who=data.get("label", ""),
                balance=format_minutes(balance),
                entry=entry_id,
            )
        )
    ]


def _cancel(ctx: Context, token: str | None) -> Replies:
    if ctx.step != "trocshop.confirm" or (token is not None and ctx.data.get("token") != token):
        return [Reply(ctx.t("trocshop.nothing_pending"))]
    ctx.done()
    return [Reply(ctx.t("trocshop.cancelled"))]


@router.action("trocshop.yes", roles=REGISTERED)
async def yes_pressed(inbound: Inbound, ctx: Context) -> Replies:
    token = (inbound.choice or "").partition(":")[2]
    return await _confirm(ctx, token)


@router.action("trocshop.no", roles=REGISTERED)
async def no_pressed(inbound: Inbound, ctx: Context) -> Replies:
    return _cancel(ctx, (inbound.choice or "").partition(":")[2])


@router.step("trocshop.confirm", roles=REGISTERED)
async def typed_answer(inbound: Inbound, ctx: Context) -> Replies:
    folded = fold(inbound.text)
    if folded in YES_WORDS:
        return await _confirm(ctx, str(ctx.data.get("token", "")))
    if folded in NO_WORDS:
        return _cancel(ctx, None)
    return None


@router.step("trocshop.done", roles=REGISTERED)
async def typed_again(inbound: Inbound, ctx: Context) -> Replies:
    """A second OUI (the same SMS twice, a double tap) is answered, never written again."""
    token = str(ctx.data.get("token", ""))
    ctx.done()
    if fold(inbound.text) in YES_WORDS:
        return await _confirm(ctx, token)
    return None


# --- Staff ----------------------------------------------------------------------------------------


def _args(inbound: Inbound) -> list[str]:
    return inbound.text.split()[1:]


def _amount_at_start(tokens: list[str]) -> tuple[int, int] | None:
    for length in (3, 2, 1):
        if len(tokens) >= length:
            minutes = parse_minutes(" ".join(tokens[:length]))
            if minutes is not None and not _NEGATIVE.search(" ".join(tokens[:length])):
                return minutes, length
    return None


async def _staff_target(ctx: Context, text: str) -> tuple[int, str] | None:
    async with ctx.store.transaction() as db:
        person_id = await _person_by_text(db, text)
        if person_id is None:
            return None
        return person_id, _person_label(await people.get_person(db, person_id))


@router.command("/crediter", "/credit", roles=STAFF_ROLES)
async def staff_credit(inbound: Inbound, ctx: Context) -> Replies:
    """Staff credit someone for taking part: /crediter GV-K7P2 1h activite atelier jardin."""
    tokens = _args(inbound)
    amount = _amount_at_start(tokens[1:]) if tokens else None
    if amount is None:
        return [Reply(ctx.t("trocshop.credit_usage"))]
    minutes, used = amount
    if minutes <= 0:
        return [Reply(ctx.t("trocshop.amount_positive"))]
    target = await _staff_target(ctx, tokens[0])
    if target is None:
        return [Reply(ctx.t("trocshop.unknown_target"))]
    rest = tokens[1 + used :]
    category = "activity"
    if rest and fold(rest[0]) in CATEGORY_WORDS:
        category = CATEGORY_WORDS[fold(rest[0])]
        rest = rest[1:]
    memo = " ".join(rest)
    text = ctx.t(
        "trocshop.credit_preview",
        amount=format_minutes(minutes),
        who=target[1],
        category=ctx.t(f"trocshop.cat_{category}"),
    )
    return _ask(
        ctx, text, op="credit", person=target[0], minutes=minutes, category=category, memo=memo, label=target[1]
    )


def _notes(tokens: list[str]) -> dict[str, int] | None:
    notes: dict[str, int] = {}
    for token in tokens:
        match = _NOTE.match(token.lower())
        if match is None:
            return None
        if match.group(3):
            notes[match.group(3)] = notes.get(match.group(3), 0) + 1
        else:
            notes[match.group(2)] = notes.get(match.group(2), 0) + int(match.group(1))
    return notes if notes and sum(notes.values()) > 0 else None


async def _notes_command(inbound: Inbound, ctx: Context, op: str) -> Replies:
    tokens = _args(inbound)
    notes = _notes(tokens[1:]) if len(tokens) > 1 else None
    if notes is None:
        return [Reply(ctx.t("trocshop.notes_usage"))]
    target = await _staff_target(ctx, tokens[0])
    if target is None:
        return [Reply(ctx.t("trocshop.unknown_target"))]
    total = sum(int(d) * c for d, c in notes.items())
    listed = ", ".join(f"{c} x {d} min" for d, c in sorted(notes.items(), key=lambda i: int(i[0])))
    text = ctx.t(f"trocshop.{op}_preview", who=target[1], notes=listed, amount=format_minutes(total))
    return _ask(ctx, text, op=op, person=target[0], notes=notes, minutes=total, label=target[1])


@router.command("/retrait", "/withdraw", roles=STAFF_ROLES)
async def staff_withdraw(inbound: Inbound, ctx: Context) -> Replies:
    """Minutes leave the person's account as paper notes: /retrait GV-K7P2 2x30 1x15."""
    return await _notes_command(inbound, ctx, "withdraw")


@router.command("/depot", "/deposit", roles=STAFF_ROLES)
async def staff_deposit(inbound: Inbound, ctx: Context) -> Replies:
    """Paper notes come back onto the person's account: /depot GV-K7P2 1x60."""
    return await _notes_command(inbound, ctx, "deposit")


@router.command("/corriger", "/reverse", roles=STAFF_ROLES)
async def staff_reverse(inbound: Inbound, ctx: Context) -> Replies:
    """A mistake is undone by a reversing entry: /corriger 12 erreur de saisie."""
    tokens = _args(inbound)
    if len(tokens) < 2 or not tokens[0].lstrip("#").isdigit():
        return [Reply(ctx.t("trocshop.reverse_usage"))]
    entry = int(tokens[0].lstrip("#"))
    row = await ctx.store.fetchone("SELECT id FROM troc_entries WHERE id = ?", (entry,))
    if row is None:
        return [Reply(ctx.t("trocshop.no_entry", entry=entry))]
    text = ctx.t("trocshop.reverse_preview", entry=entry, reason=" ".join(tokens[1:]))
    return _ask(ctx, text, op="reverse", entry=entry, reason=" ".join(tokens[1:]))


@router.command("/billets", "/notes", roles=STAFF_ROLES)
async def staff_notes(inbound: Inbound, ctx: Context) -> Replies:
    """How many paper notes of each value are out there."""
    async with ctx.store.transaction() as db:
        counts = await ledger.notes_in_circulation(db)
    total = sum(d * c for d, c in counts.items())
    return [
        Reply(
            ctx.t(
                "trocshop.notes_count",
                n15=counts[15],
                n30=counts[30],
                n60=counts[60],
                total=format_minutes(total),
            )
        )
    ]


@router.command("/lieu", "/place", roles=STAFF_ROLES)
async def staff_place(inbound: Inbound, ctx: Context) -> Replies:
    """Staff add a place where people can pay in time."""
    name = inbound.text.split(maxsplit=1)[1].strip() if " " in inbound.text else ""
    if not name:
        return [Reply(ctx.t("trocshop.place_usage"))]
    try:
        async with ctx.store.transaction() as db:
            await ledger.add_place(db, name, ctx.now())
    except LedgerError as exc:
        return [_error(ctx, exc)]
    return [Reply(ctx.t("trocshop.place_added", name=name))]


# --- Personal data and demo -----------------------------------------------------------------------


async def _export(db: aiosqlite.Connection, person_id: int) -> dict[str, Any]:
    account = await ledger.find_person_account(db, person_id)
    if account is None:
        return {}
    moves = await ledger.history(db, account, 1_000_000)
    return {
        "balance": format_minutes(await ledger.balance(db, account)),
        "movements": [
            {"entry": m.entry_id, "date": m.created_at, "minutes": m.minutes, "category": m.category, "memo": m.memo}
            for m in moves
        ],
        "count": len(moves),
    }


async def _erase(db: aiosqlite.Connection, person_id: int) -> None:
    """The journal stays (the books must balance); it now points to an anonymous person."""
    await db.execute("UPDATE troc_accounts SET label = NULL WHERE person_id = ?", (person_id,))


router.personal_data(_export, _erase)


@router.demo
async def _demo(store: Store, now: datetime) -> None:
    """The three places and a few credits, so a newcomer can try paying from the terminal."""
    async with store.transaction() as db:
        for name in ledger.DEFAULT_PLACES:
            await ledger.add_place(db, name, now)
        staff = await people.find_person_id(db, member_code="GV-EKP3")
        for code, minutes in (("GV-K7P2", 120), ("GV-TAY3", 90), ("GV-MRT4", 60)):
            person_id = await people.find_person_id(db, member_code=code)
            if person_id is not None:
                await ledger.credit(
                    db, now, key=f"demo:{code}", person_id=person_id, minutes=minutes, actor=staff, memo="demo"
                )
