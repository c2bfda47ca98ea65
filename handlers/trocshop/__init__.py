"""The Trocshop in chat: balance, history, paying a person or a place, and the staff's operations.

Nothing is written until the person answers OUI to a preview that says who receives what; the
preview's token becomes the entry's idempotency key, so a double tap, a repeated SMS or a retried
request writes once. A preview older than ten minutes is refused: balances may have moved since.
Every one of them moves time, so by SMS only the code printed in the preview confirms
(``bot.confirm``): a sender's number proves nothing, and a forger never sees the prompt.

A payment's preview names a person only by what the payer typed (member code or phone number), so
it tells nobody who is registered; the payee's name, or "nobody has this code", comes after OUI,
and that second answer is rationed (``MISSES_PER_PERSON``, ``MISSES_OVERALL`` an hour).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import aiosqlite
import phonenumbers

from bot import confirm, outbox, people
from bot.clock import iso
from bot.dispatch import REGISTERED, STAFF_ROLES, Context, Replies, Router, guard
from bot.i18n import I18n
from bot.messages import Choice, Inbound, Reply
from bot.people import privacy
from bot.store import Store
from bot.text import fold, format_minutes
from handlers.trocshop import ledger
from handlers.trocshop.amounts import leading_amount, read_entry, read_notes, search_amount
from handlers.trocshop.cli import troc_app
from handlers.trocshop.ledger import LedgerError

log = logging.getLogger(__name__)

router = Router("trocshop")
router.message_kind("payment_notice", r"^troc:")  # who paid you, a credit by staff
router.cli("troc", troc_app, "Trocshop time ledger: credit, balance, export, check.")

# A payment to a member code or phone number that matches nobody tells the payer so, once they have
# confirmed: that answer is rationed, so nobody can sweep numbers to learn who is registered.
MISS_WINDOW = timedelta(hours=1)
MISSES_PER_PERSON = 5
MISSES_OVERALL = 30
BALANCE_LINES = 3
HISTORY_LINES = 10

# Keyword keys (data/locales/<lang>/keywords/trocshop.yaml): the words people type, in every language.
BALANCE = "trocshop.balance"
HISTORY = "trocshop.history"
PAY_COMMANDS = ("/payer", "/pay", "/envoyer", "/send")
HOW_TO_PAY = "trocshop.how_to_pay"  # AIDE's PAYER choice
# What a credit is for; each has its words (trocshop.category_<category>) and its label (trocshop.cat_<category>).
CATEGORIES = ("activity", "exchange", "purchase", "notes", "correction")
# Two people (or a place) matched the name a payer typed: which one, before the preview.
STEP_PICK = "trocshop.step.pick"
PICK = "trocshop.pick"


# --- Who and what --------------------------------------------------------------------------------


async def _person_by_text(db: aiosqlite.Connection, text: str) -> int | None:
    """A registered person by member code or phone number, as typed (or as :func:`people.member_key` kept it)."""
    person = await people.by_code(db, text, phone=True)
    return None if person is None else person.id


def _typed_label(key: str) -> str:
    """A payee as the payer typed it, tidied: "GV-K7P2", "06 39 98 00 03" (abroad "+44 7911 123456")."""
    if not key.startswith("+"):
        return key
    number = phonenumbers.parse(key)
    style = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    if phonenumbers.region_code_for_number(number) == "FR":
        style = phonenumbers.PhoneNumberFormat.NATIONAL
    return phonenumbers.format_number(number, style)


async def _misses_exhausted(db: aiosqlite.Connection, ctx: Context) -> bool:
    """Whether this person, or everyone together, has had too many payees that matched nobody lately."""
    rows = await db.execute_fetchall(
        "SELECT COUNT(*), COALESCE(SUM(person_id = ?), 0) FROM troc_payee_misses WHERE missed_at > ?",
        (ctx.person.id, iso(ctx.now() - MISS_WINDOW)),
    )
    overall, mine = next(iter(rows))
    return int(mine) >= MISSES_PER_PERSON or int(overall) >= MISSES_OVERALL


async def _record_miss(db: aiosqlite.Connection, ctx: Context) -> None:
    """Count one payee that matched nobody; what is older than the window is of no use any more."""
    await db.execute("DELETE FROM troc_payee_misses WHERE missed_at <= ?", (iso(ctx.now() - MISS_WINDOW),))
    await db.execute(
        "INSERT INTO troc_payee_misses (person_id, missed_at) VALUES (?, ?)", (ctx.person.id, iso(ctx.now()))
    )


def person_label(person: people.Person) -> str:
    """First name and member code: enough to tell people apart, never the phone number."""
    first = (person.name or "").split()
    code = person.member_code or ""
    return f"{first[0]} ({code})" if first else code


async def _ask(ctx: Context, text: str, **data: Any) -> Replies:
    """Keep the operation pending until OUI, NON or the engine's expiry.

    Guarded, as every Trocshop operation moves time: by SMS the prompt carries its code.
    """
    return [await BOOK.ask(ctx, text, **data)]


def error_params(exc: LedgerError) -> dict[str, object]:
    """The refusal's parameters, a balance written in hours and minutes as people read it."""
    return {k: format_minutes(v) if k == "balance" and isinstance(v, int) else v for k, v in exc.params.items()}


def _error(ctx: Context, exc: LedgerError) -> Reply:
    return Reply(ctx.t(exc.key, **error_params(exc)))


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
                label = person_label(await people.get_person(db, owner))
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


def _argument(inbound: Inbound, words: frozenset[str]) -> str:
    """What follows the keyword ("solde GV-K7P2"); nothing when the whole message is the keyword."""
    if fold(inbound.text) in words:
        return ""
    parts = inbound.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


@router.command("/solde", "/balance", words=BALANCE, roles=REGISTERED, help="trocshop.about_balance")
@router.action(BALANCE, roles=REGISTERED)
async def show_balance(inbound: Inbound, ctx: Context) -> Replies:
    return await _show(inbound, ctx, BALANCE_LINES, _argument(inbound, ctx.i18n.words(BALANCE)))


@router.command("/historique", "/history", words=HISTORY, roles=REGISTERED, help="trocshop.about_history")
@router.action(HISTORY, roles=REGISTERED)
async def show_history(inbound: Inbound, ctx: Context) -> Replies:
    return await _show(inbound, ctx, HISTORY_LINES, _argument(inbound, ctx.i18n.words(HISTORY)))


@router.action(HOW_TO_PAY, roles=REGISTERED)
async def how_to_pay(inbound: Inbound, ctx: Context) -> Replies:
    """AIDE's PAYER: a payment is one message with the amount and who, so the choice shows how to write it."""
    ctx.done()
    return [Reply(ctx.t("trocshop.pay_usage"))]


# AIDE for a registered person offers these (their actions' roles decide who sees them).
router.help_entry(BALANCE, "trocshop.help_balance", order=10)
router.help_entry(HISTORY, "trocshop.help_history", order=11)
router.help_entry(HOW_TO_PAY, "trocshop.help_pay", order=12)


# --- Paying ---------------------------------------------------------------------------------------


async def _pay(inbound: Inbound, ctx: Context) -> Replies:
    """The preview names a person only as the payer typed them (code or number), never who has it:
    whether anyone is registered under it is answered after OUI, and rationed. Places are public, and
    so is a name among the people the payer has paid or been paid by; two who match are asked about."""
    text = inbound.text.split(maxsplit=1)[1] if inbound.text.startswith("/") and " " in inbound.text else inbound.text
    try:
        found = search_amount(text, ctx.i18n)
    except LedgerError as exc:
        return [_error(ctx, exc)]
    if found is None:
        return [Reply(ctx.t("trocshop.pay_usage"))]
    minutes = found.minutes
    rest = fold(text[: found.start] + " " + text[found.end :]).split()
    if rest and rest[0] in ctx.i18n.words("trocshop.pay"):
        rest = rest[1:]
    while rest and rest[0] in ctx.i18n.words("trocshop.to"):
        rest = rest[1:]
    target_text = " ".join(rest)
    if not target_text:
        return [Reply(ctx.t("trocshop.pay_usage"))]
    payee = people.member_key(target_text)
    if payee is not None:
        if payee == ctx.person.member_code:
            return [Reply(ctx.t("trocshop.pay_self"))]
        async with ctx.store.transaction() as db:
            if await _misses_exhausted(db, ctx):
                return [Reply(ctx.t("trocshop.payee_limit"))]
        return await _preview(ctx, minutes, {"target": None, "payee": payee, "label": _typed_label(payee)})
    async with ctx.store.transaction() as db:
        options = await _named(db, ctx, target_text)
    if not options:
        return [Reply(ctx.t("trocshop.unknown_target"))]
    if len(options) == 1:
        return await _preview(ctx, minutes, options[0])
    ctx.goto(STEP_PICK, minutes=minutes, options=options)
    choices = tuple(Choice(f"{PICK}:{n}", str(option["label"])) for n, option in enumerate(options))
    return [Reply(ctx.t("trocshop.pick_which", amount=format_minutes(minutes)), choices)]


async def _named(db: aiosqlite.Connection, ctx: Context, text: str) -> list[dict[str, Any]]:
    """The place named, and the people the payer has exchanged with whose name is the one typed."""
    options: list[dict[str, Any]] = []
    place = await ledger.find_place(db, text)
    if place is not None:
        options.append({"target": place[0], "payee": None, "label": place[1]})
    account = await ledger.find_person_account(db, ctx.person.id)
    known = await people.get_people(db, await ledger.counterparties(db, account)) if account else []
    for person in people.named(known, text):
        options.append({"target": None, "target_person": person.id, "payee": None, "label": person_label(person)})
    return options


async def _preview(ctx: Context, minutes: int, option: dict[str, Any]) -> Replies:
    """The question before paying ``minutes`` to ``option``, against the balance as it is now."""
    async with ctx.store.transaction() as db:
        balance = await ledger.balance(db, await ledger.person_account(db, ctx.person.id, ctx.now()))
    if minutes > balance:
        return [Reply(ctx.t("trocshop.not_enough", balance=format_minutes(balance)))]
    text = ctx.t(
        "trocshop.pay_preview",
        amount=format_minutes(minutes),
        who=option["label"],
        after=format_minutes(balance - minutes),
    )
    return await _ask(ctx, text, op="pay", minutes=minutes, **option)


@router.action(PICK, roles=REGISTERED)
async def picked(inbound: Inbound, ctx: Context) -> Replies:
    """One of the people (or the place) who matched a name: on to the preview; a stale list pays nobody."""
    options = ctx.data.get("options") if ctx.step == STEP_PICK else None
    index = (inbound.choice or "").partition(":")[2]
    if not isinstance(options, list) or not index.isdigit() or int(index) >= len(options):
        ctx.done()
        return [Reply(ctx.t("trocshop.pick_gone"))]
    minutes = int(ctx.data["minutes"])
    ctx.done()
    return await _preview(ctx, minutes, options[int(index)])


_guarded_pay = guard(_pay, REGISTERED)


def _mentions_amount(text: str, i18n: I18n) -> bool:
    """ "payer" with an amount is a payment, even a refused one ("payer -30 lingerie" is answered)."""
    try:
        return search_amount(text, i18n) is not None
    except LedgerError:
        return True


@router.command(*PAY_COMMANDS, roles=REGISTERED)
async def pay_command(inbound: Inbound, ctx: Context) -> Replies:
    return await _pay(inbound, ctx)


@router.text("trocshop.pay")
async def pay_text(inbound: Inbound, ctx: Context) -> Replies:
    """ "envoyer 30 min a GV-K7P2", "payer 1h Lingerie"; "solde GV-K7P2" for staff."""
    words = fold(inbound.text).split()
    if not words:
        return None
    if words[0] in ctx.i18n.words("trocshop.pay") and _mentions_amount(inbound.text, ctx.i18n):
        return await _guarded_pay(inbound, ctx)
    if len(words) == 1 and words[0] in ctx.i18n.words("trocshop.pay") and ctx.person.roles & REGISTERED:
        return [Reply(ctx.t("trocshop.pay_usage"))]  # "payer" alone: how to pay
    if words[0] in ctx.i18n.words(BALANCE) and len(words) > 1:
        return await guard(show_balance, REGISTERED)(inbound, ctx)
    if words[0] in ctx.i18n.words(HISTORY) and len(words) > 1:
        return await guard(show_history, REGISTERED)(inbound, ctx)
    return None


# --- Confirming -----------------------------------------------------------------------------------


async def execute(
    db: aiosqlite.Connection, ctx: Context, key: str, data: dict[str, Any]
) -> tuple[str, int | None, str]:
    """Write the pending operation and queue the news for the other side.

    Returns the answer's key, the entry (None when nothing was written) and who the answer names.
    """
    now = ctx.now()
    op = data["op"]
    actor = ctx.person.id
    who = str(data.get("label", ""))
    if op == "pay":
        target, target_person = data["target"], data.get("target_person")
        if data.get("payee") is not None:
            # Who has this code or number is looked up only now, once the payer has confirmed.
            if await _misses_exhausted(db, ctx):
                return "trocshop.payee_limit", None, who
            target_person = await _person_by_text(db, data["payee"])
            if target_person is None:
                await _record_miss(db, ctx)
                return "trocshop.payee_unknown", None, who
            target = await ledger.person_account(db, target_person, now)
            who = person_label(await people.get_person(db, target_person))
        elif target_person is not None:
            # Named among the payer's past counterparts: still someone, now that OUI has come?
            if (await people.get_person(db, target_person)).status != "active":
                return "trocshop.payee_gone", None, who
            target = await ledger.person_account(db, target_person, now)
        source = await ledger.person_account(db, ctx.person.id, now)
        category = "exchange" if target_person is not None else "purchase"
        written = await ledger.transfer(
            db, now, key=key, source=source, target=target, minutes=data["minutes"], actor=actor,
            category=category,
        )  # fmt: skip
        if written.created and target_person is not None:
            payer = await people.get_person(db, ctx.person.id)
            await tell(db, ctx, target_person, written.entry_id, "trocshop.told_received",
                        amount=format_minutes(data["minutes"]), who=person_label(payer), about=payer.id)  # fmt: skip
        answer = "trocshop.paid"
    elif op == "credit":
        written = await ledger.credit(
            db, now, key=key, person_id=data["person"], minutes=data["minutes"], actor=actor,
            category=data["category"], memo=data["memo"],
        )  # fmt: skip
        if written.created:
            await tell(db, ctx, data["person"], written.entry_id, "trocshop.told_credited",
                        amount=format_minutes(data["minutes"]))  # fmt: skip
        answer = "trocshop.credited"
    elif op in ("withdraw", "deposit"):
        notes = {int(d): int(c) for d, c in data["notes"].items()}
        written = await ledger.move_notes(
            db, now, key=key, person_id=data["person"], notes=notes, withdraw=op == "withdraw", actor=actor
        )
        if written.created:
            await tell(db, ctx, data["person"], written.entry_id, f"trocshop.told_{op}",
                        amount=format_minutes(ledger.notes_total(notes)))  # fmt: skip
        answer = f"trocshop.done_{op}"
    elif op == "reverse":
        written = await ledger.reverse(db, now, key=key, entry_id=data["entry"], reason=data["reason"], actor=actor)
        if written.created:
            for _, minutes, person_id in await ledger.entry_parties(db, written.entry_id):
                if person_id is not None:
                    await tell(db, ctx, person_id, written.entry_id, "trocshop.told_reversed",
                                amount=("+" if minutes > 0 else "-") + format_minutes(abs(minutes)))  # fmt: skip
        answer = "trocshop.reversed"
    else:
        raise LedgerError("trocshop.nothing_pending")
    if not written.created:
        return "trocshop.already_done", written.entry_id, who
    return answer, written.entry_id, who


async def tell(
    db: aiosqlite.Connection,
    ctx: Context,
    person_id: int,
    entry_id: int,
    key: str,
    about: int | None = None,
    **params: object,
) -> None:
    """The other side learns of the movement, in the same transaction as the movement itself.

    ``about`` is the person the text names (the payer), whose erasure neutralises it.
    """
    account = await ledger.person_account(db, person_id, ctx.now())
    params["balance"] = format_minutes(await ledger.balance(db, account))
    await outbox.enqueue_for_person(
        db, ctx.now(), ctx.i18n, person_id, cause=f"troc:{entry_id}:{person_id}", key=key, params=params, about=about
    )


def _key(ctx: Context, token: str) -> str:
    """The ledger entry's idempotency key: the preview's token, so one preview writes at most once."""
    return f"chat:{ctx.person.id}:{token}"


async def _book(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """Write what the person confirmed (the engine has checked the token, the expiry and the SMS code)."""
    if data["op"] != "pay" and not ctx.person.is_staff:  # the role may have gone since the preview
        raise confirm.Refused("core.not_allowed")
    try:
        answer, entry_id, who = await execute(db, ctx, _key(ctx, str(data["token"])), data)
        balance = await ledger.balance(db, await ledger.person_account(db, ctx.person.id, ctx.now()))
    except LedgerError as exc:  # nothing is written: the transaction is rolled back
        raise confirm.Refused(exc.key, **error_params(exc)) from exc
    if answer in ("trocshop.payee_limit", "trocshop.payee_unknown"):  # the miss is counted, nothing paid
        raise confirm.Refused.keeping_writes(answer, who=who, amount=format_minutes(data.get("minutes", 0)))
    if answer == "trocshop.payee_gone":
        raise confirm.Refused(answer, who=who)
    if entry_id is not None:
        log.info("trocshop entry %s written (op %s, person %s)", entry_id, data["op"], ctx.person.id)
    amount = format_minutes(data.get("minutes", 0))
    return [Reply(ctx.t(answer, amount=amount, who=who, balance=format_minutes(balance), entry=entry_id))]


BOOK = router.confirmation(
    confirm.Operation(
        "trocshop.confirm",
        _book,
        roles=REGISTERED,
        texts=confirm.Texts(
            cancelled="trocshop.cancelled",
            already_done="trocshop.already_done",
            nothing_pending="trocshop.nothing_pending",
            too_late="trocshop.too_late",
        ),
    )
)


# --- Staff ----------------------------------------------------------------------------------------


def _args(inbound: Inbound) -> list[str]:
    return inbound.text.split()[1:]


def _target_and_rest(inbound: Inbound) -> tuple[str, str]:
    """The person a staff command names (its first word) and what follows: "/crediter GV-K7P2 1h atelier"."""
    parts = inbound.text.split(maxsplit=2)
    return (parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")


async def _staff_target(ctx: Context, text: str) -> tuple[int, str] | None:
    async with ctx.store.transaction() as db:
        person_id = await _person_by_text(db, text)
        if person_id is None:
            return None
        return person_id, person_label(await people.get_person(db, person_id))


@router.command("/crediter", "/credit", roles=STAFF_ROLES, help="trocshop.about_credit")
async def staff_credit(inbound: Inbound, ctx: Context) -> Replies:
    """Staff credit someone for taking part: /crediter GV-K7P2 1h activite atelier jardin."""
    who, typed = _target_and_rest(inbound)
    try:
        amount = leading_amount(typed, ctx.i18n)
    except LedgerError as exc:
        return [_error(ctx, exc)]
    if not who or amount is None:
        return [Reply(ctx.t("trocshop.credit_usage"))]
    minutes = amount.minutes
    target = await _staff_target(ctx, who)
    if target is None:
        return [Reply(ctx.t("trocshop.unknown_target"))]
    rest = typed[amount.end :].split()
    category = "activity"
    typed_category = fold(rest[0]) if rest else ""
    named = next((c for c in CATEGORIES if typed_category in ctx.i18n.words(f"trocshop.category_{c}")), None)
    if named is not None:
        category = named
        rest = rest[1:]
    memo = " ".join(rest)
    text = ctx.t(
        "trocshop.credit_preview",
        amount=format_minutes(minutes),
        who=target[1],
        category=ctx.t(f"trocshop.cat_{category}"),
    )
    return await _ask(
        ctx, text, op="credit", person=target[0], minutes=minutes, category=category, memo=memo, label=target[1]
    )


async def _notes_command(inbound: Inbound, ctx: Context, op: str) -> Replies:
    who, typed = _target_and_rest(inbound)
    try:
        notes = read_notes(typed)
    except LedgerError as exc:
        return [_error(ctx, exc)]
    if not who or notes is None:
        return [Reply(ctx.t("trocshop.notes_usage"))]
    target = await _staff_target(ctx, who)
    if target is None:
        return [Reply(ctx.t("trocshop.unknown_target"))]
    total = ledger.notes_total(notes)
    listed = ", ".join(f"{c} x {d} min" for d, c in sorted(notes.items()))
    text = ctx.t(f"trocshop.{op}_preview", who=target[1], notes=listed, amount=format_minutes(total))
    return await _ask(ctx, text, op=op, person=target[0], notes=notes, minutes=total, label=target[1])


@router.command("/retrait", "/withdraw", roles=STAFF_ROLES, help="trocshop.about_withdraw")
async def staff_withdraw(inbound: Inbound, ctx: Context) -> Replies:
    """Minutes leave the person's account as paper notes: /retrait GV-K7P2 2x30 1x15."""
    return await _notes_command(inbound, ctx, "withdraw")


@router.command("/depot", "/deposit", roles=STAFF_ROLES, help="trocshop.about_deposit")
async def staff_deposit(inbound: Inbound, ctx: Context) -> Replies:
    """Paper notes come back onto the person's account: /depot GV-K7P2 1x60."""
    return await _notes_command(inbound, ctx, "deposit")


@router.command("/corriger", "/reverse", roles=STAFF_ROLES, help="trocshop.about_reverse")
async def staff_reverse(inbound: Inbound, ctx: Context) -> Replies:
    """A mistake is undone by a reversing entry: /corriger 12 erreur de saisie."""
    tokens = _args(inbound)
    try:
        entry = read_entry(tokens[0]) if len(tokens) >= 2 else None
    except LedgerError as exc:
        return [_error(ctx, exc)]
    if entry is None:
        return [Reply(ctx.t("trocshop.reverse_usage"))]
    row = await ctx.store.fetchone("SELECT id FROM troc_entries WHERE id = ?", (entry,))
    if row is None:
        return [Reply(ctx.t("trocshop.no_entry", entry=entry))]
    text = ctx.t("trocshop.reverse_preview", entry=entry, reason=" ".join(tokens[1:]))
    return await _ask(ctx, text, op="reverse", entry=entry, reason=" ".join(tokens[1:]))


@router.command("/billets", "/notes", roles=STAFF_ROLES, help="trocshop.about_notes")
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


@router.command("/lieu", "/place", roles=STAFF_ROLES, help="trocshop.about_place")
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
    """The journal stays (the books must balance); it now points to an anonymous person.

    What staff typed in a memo of the person's own movements, or in any memo that names them, is
    replaced by a neutral text, once (``memo_erased_at``); entries and amounts stay. The memos
    of note moves are the ledger's own words ("withdrawal") and stay.
    """
    erasure = privacy.erasure()
    await db.execute("UPDATE troc_accounts SET label = NULL, folded = NULL WHERE person_id = ?", (person_id,))
    async with db.execute(
        "SELECT e.id, e.memo, EXISTS (SELECT 1 FROM troc_postings p JOIN troc_accounts a ON a.id = p.account_id"
        " WHERE p.entry_id = e.id AND a.person_id = ?) FROM troc_entries e"
        " WHERE e.memo != '' AND e.category != 'notes' AND e.memo_erased_at IS NULL",
        (person_id,),
    ) as cursor:
        naming = [row[0] async for row in cursor if row[2] or erasure.mentions.found(row[1])]
    await db.executemany(
        "UPDATE troc_entries SET memo = ?, memo_erased_at = ? WHERE id = ?",
        [(erasure.neutral, iso(erasure.at), entry_id) for entry_id in naming],
    )


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


# The console pages call the operations above, so they are registered last.
from handlers.trocshop import console as _console  # noqa: E402, F401
from handlers.trocshop import voice as _voice  # noqa: E402, F401  (the telephone menu)
