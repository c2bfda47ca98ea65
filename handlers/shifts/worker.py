"""What a worker sees and answers: planning, next shift, OUI/NON to reminders, cancelling.

Only the worker's own shifts are ever read (by ``ctx.person.id``); a button or a numbered choice
naming another person's assignment changes nothing. The reminder's OUI/NON comes back as a button
(Telegram), a digit (SMS: the outbox remembered the numbered choices) or a typed word; a typed
answer applies to the one question still open (the reminder hour has come, the shift is ahead).
Cancelling from chat is asked first (OUI/NON; by SMS, OUI with the prompt's code: see
:mod:`bot.confirm`), since it frees the seat and alerts the coordinator. The reminder's own OUI/NON
is not such a prompt (it stays one short SMS answered by a digit or a word). Single-word STOP and
CANCEL stay the channel's opt-out (the account feature), so the words here are "annuler", "je peux
pas venir", "cancel my shift"...
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

import aiosqlite
from rapidfuzz import fuzz

from bot import confirm
from bot.clock import iso
from bot.dispatch import Context, Replies
from bot.i18n import I18n
from bot.messages import Choice, Inbound, Reply
from bot.people import Person, Role, privacy
from bot.text import fold, format_minutes, typed_number
from handlers.shifts import model, reminders
from handlers.shifts.model import Assignment, Shift
from handlers.shifts.reminders import ANSWER, answer_key
from handlers.shifts.router import router

log = logging.getLogger(__name__)

MENU = "shifts.my_menu"
PLANNING = "shifts.my_planning"
NEXT = "shifts.my_next"
DROP = "shifts.my_drop"  # shifts.my_drop[:<assignment>]
STEP_PICK = "shifts.my_drop_pick"
MAX_CHOICES = 6
# A typed OUI after the shift began still gets an answer ("too late"), not "not understood".
PAST_GRACE = timedelta(hours=12)

# The words people type are keyword files' (data/locales/<lang>/keywords/shifts.yaml). Whole messages
# also said about other things ("horaires" of the showers, "next": shifts.planning_shared,
# shifts.next_shared) are left to the other features when the sender has no shifts; the others get a
# clear answer.


def _like(word: str, targets: frozenset[str], cutoff: float = 80) -> bool:
    """The word, or a typo of it: fuzzy for words of five letters or more ("planing", "shedule")."""
    return word in targets or (len(word) >= 5 and any(fuzz.ratio(word, target) >= cutoff for target in targets))


def _is_worker(person: Person) -> bool:
    return Role.WORKER.value in person.roles


def _refusal(ctx: Context) -> Replies:
    """None for a worker; otherwise why not, clearly (a guest is told how to register)."""
    if _is_worker(ctx.person):
        return None
    ctx.done()
    if ctx.person.status == "guest":
        return [Reply(ctx.t("core.not_registered"))]
    return [Reply(ctx.t("shifts.worker.not_worker"))]


def _int(text: str) -> int | None:
    return typed_number(text, digits=11)


# --- Planning and next shift ---------------------------------------------------------------------


async def _week(db: aiosqlite.Connection, ctx: Context, monday: date, label_key: str) -> list[str]:
    """One week: the total against the contract, then one line per shift."""
    tz = ctx.settings.tz
    start = reminders.wall(monday, time(), tz)
    end = reminders.wall(monday + timedelta(days=7), time(), tz)
    pairs = await model.shifts_of_person(db, ctx.person.id, start, end)
    planned = await model.planned_minutes(db, ctx.person.id, monday)
    contract = await model.contract_minutes_on(db, ctx.person.id, monday + timedelta(days=6))
    total = (
        ctx.t("shifts.worker.total", planned=format_minutes(planned), contract=format_minutes(contract))
        if contract is not None
        else ctx.t("shifts.worker.total_no_contract", planned=format_minutes(planned))
    )
    lines = [ctx.t(label_key, total=total)]
    for shift, assignment in pairs:
        mark = ctx.t("shifts.worker.confirmed_mark") if assignment.answer == "yes" else ""
        lines.append(f"- {model.describe(shift, ctx.language)}{mark}")
    if not pairs:
        lines.append(ctx.t("shifts.worker.week_empty"))
    return lines


async def planning_text(ctx: Context) -> str:
    """This week's and next week's shifts of the person asking, each week's total against the contract."""
    monday, next_monday = model.week_of(ctx.local_now().date())
    async with ctx.store.transaction() as db:
        lines = await _week(db, ctx, monday, "shifts.worker.this_week")
        lines += await _week(db, ctx, next_monday, "shifts.worker.next_week")
    return "\n".join(lines)


async def next_text(ctx: Context) -> str:
    now = ctx.now()
    async with ctx.store.transaction() as db:
        pairs = await model.shifts_of_person(db, ctx.person.id, now, now + timedelta(days=366))
    if not pairs:
        return ctx.t("shifts.worker.next_none")
    shift, assignment = pairs[0]
    mark = ctx.t("shifts.worker.confirmed_mark") if assignment.answer == "yes" else ""
    return ctx.t("shifts.worker.next", shift=model.describe(shift, ctx.language), mark=mark)


@router.command("/planning", "/horaires", "/shifts", "/schedule", words="shifts.planning")
@router.command(words="shifts.planning_shared")
@router.action(PLANNING)
async def planning(inbound: Inbound, ctx: Context) -> Replies:
    """This week's and next week's shifts with the total against the contract."""
    shared = fold(inbound.text) in ctx.i18n.words("shifts.planning_shared")
    if shared and not _is_worker(ctx.person) and inbound.choice is None:
        return None
    refused = _refusal(ctx)
    if refused:
        return refused
    ctx.done()
    return [Reply(await planning_text(ctx))]


@router.command("/prochain", "/next", words="shifts.next")
@router.command(words="shifts.next_shared")
@router.action(NEXT)
async def next_shift(inbound: Inbound, ctx: Context) -> Replies:
    """The next shift, with its place and time."""
    shared = fold(inbound.text) in ctx.i18n.words("shifts.next_shared")
    if shared and not _is_worker(ctx.person) and inbound.choice is None:
        return None
    refused = _refusal(ctx)
    if refused:
        return refused
    ctx.done()
    return [Reply(await next_text(ctx))]


@router.action(MENU)
async def worker_menu(inbound: Inbound, ctx: Context) -> Replies:
    """The workers' menu entry: the planning, and what they can do next."""
    refused = _refusal(ctx)
    if refused:
        return refused
    ctx.done()
    choices = (Choice(NEXT, ctx.t("shifts.worker.choice_next")), Choice(DROP, ctx.t("shifts.worker.choice_drop")))
    return [Reply(await planning_text(ctx), choices)]


router.menu_entry(MENU, "shifts.worker.menu_label", order=55, visible=_is_worker)
router.help_entry(PLANNING, "shifts.worker.help_label", order=20, visible=_is_worker)


# --- Answers to the reminder ---------------------------------------------------------------------


async def _record(
    db: aiosqlite.Connection, ctx: Context, assignment: Assignment, version: int | None, yes: bool
) -> tuple[str, dict[str, object]]:
    """Record OUI, or free the seat for NON (the coordinator is alerted); a stale answer changes nothing."""
    now = ctx.now()
    shift = await model.get_shift(db, assignment.shift_id)
    assert shift is not None
    said: dict[str, object] = {
        "shift": model.describe(shift, ctx.language),
        "when": model.when(shift, ctx.language),
        "place": shift.place,
    }
    if shift.cancelled:
        return "shifts.worker.answer_cancelled", said
    if shift.starts_at <= now:
        return "shifts.worker.answer_past", said
    if version is not None and version != shift.version:
        return "shifts.worker.answer_moved", said
    if not assignment.live:
        if not yes and assignment.released_reason == "declined":
            return "shifts.worker.already_no", said
        return "shifts.worker.answer_released", said
    if yes:
        if assignment.answer == "yes":
            return "shifts.worker.already_yes", said
        await model.answer(db, now, assignment.id, "yes")
        log.info("shift %s: person %s confirmed", shift.id, ctx.person.id)
        return "shifts.worker.thanks_yes", said
    await model.release(db, now, ctx.i18n, assignment.id, "declined")
    log.info("shift %s: person %s declined", shift.id, ctx.person.id)
    return "shifts.worker.thanks_no", said


async def _answer(ctx: Context, assignment_id: int, version: int | None, yes: bool) -> Replies:
    ctx.done()
    async with ctx.store.transaction() as db:
        assignment = await model.get_assignment(db, assignment_id)
        params: dict[str, object] = {}
        if assignment is None or assignment.person_id != ctx.person.id:
            key = "shifts.worker.answer_unknown"
        else:
            key, params = await _record(db, ctx, assignment, version, yes)
    return [Reply(ctx.t(key, **params))]


@router.action(ANSWER)
async def answer_pressed(inbound: Inbound, ctx: Context) -> Replies:
    """A reminder's OUI/NON button, or its digit by SMS: shifts.my_answer:<assignment>:<version>:yes|no."""
    parts = (inbound.choice or "").split(":")
    assignment_id = _int(parts[1]) if len(parts) == 4 else None
    version = _int(parts[2]) if len(parts) == 4 else None
    if assignment_id is None or version is None or parts[3] not in ("yes", "no"):
        return [Reply(ctx.t("shifts.worker.answer_unknown"))]
    return await _answer(ctx, assignment_id, version, parts[3] == "yes")


async def _asked(db: aiosqlite.Connection, ctx: Context) -> list[tuple[Shift, Assignment]]:
    """The person's shifts whose question is open or was recently asked: the reminder hour has come
    and the shift is ahead (or began within PAST_GRACE); the latest assignment of each shift."""
    now = ctx.now()
    times = reminders.Times.of(ctx.settings)
    async with db.execute(
        "SELECT x.id, x.shift_id FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id"
        " WHERE x.person_id = ? AND s.starts_at > ? AND s.starts_at <= ? ORDER BY s.starts_at, x.id DESC",
        (ctx.person.id, iso(now - PAST_GRACE), iso(now + reminders.LOOK_AHEAD)),
    ) as cursor:
        rows = [(int(row[0]), int(row[1])) for row in await cursor.fetchall()]
    found: list[tuple[Shift, Assignment]] = []
    seen: set[int] = set()
    for assignment_id, shift_id in rows:
        if shift_id in seen:
            continue
        seen.add(shift_id)
        shift = await model.get_shift(db, shift_id)
        assignment = await model.get_assignment(db, assignment_id)
        if shift and assignment and now >= times.reminder(shift):
            found.append((shift, assignment))
    return found


def _open(shift: Shift, assignment: Assignment, now: datetime) -> bool:
    return assignment.live and assignment.answer is None and not shift.cancelled and shift.starts_at > now


@router.text("shifts.reminder_answer")
async def typed_answer(inbound: Inbound, ctx: Context) -> Replies:
    """OUI / NON (o, n, ok, 1, 2...) typed to a reminder; None when no reminder was asked."""
    word = fold(inbound.text)
    yes = word in ctx.i18n.words(confirm.YES) or word == "1"
    if not (yes or word in ctx.i18n.words(confirm.NO) or word == "2") or not _is_worker(ctx.person):
        return None
    now = ctx.now()
    async with ctx.store.transaction() as db:
        asked = await _asked(db, ctx)
    if not asked:
        return None
    waiting = [(shift, assignment) for shift, assignment in asked if _open(shift, assignment, now)]
    if len(waiting) == 1:
        return await _answer(ctx, waiting[0][1].id, None, yes)
    if len(waiting) > 1:
        value = "yes" if yes else "no"
        choices = tuple(
            Choice(answer_key(a.id, s.version, value), model.describe(s, ctx.language)) for s, a in waiting
        )[:MAX_CHOICES]
        return [Reply(ctx.t("shifts.worker.which_yes" if yes else "shifts.worker.which_no"), choices)]
    if word in ("1", "2"):
        return None  # a digit with nothing open is someone else's menu
    nearest = min(asked, key=lambda pair: abs(pair[0].starts_at - now))
    return await _settled(ctx, *nearest, yes=yes)


async def _settled(ctx: Context, shift: Shift, assignment: Assignment, *, yes: bool) -> Replies:
    """A typed answer when the last question was already settled: say so, change nothing. NON
    after OUI is a cancellation, asked first."""
    if not yes and assignment.live and assignment.answer == "yes" and _open_for_drop(shift, assignment, ctx.now()):
        return [await _confirm(ctx, shift, assignment)]
    return await _answer(ctx, assignment.id, shift.version, yes)


# --- Cancelling from chat ------------------------------------------------------------------------


def _wants_to_cancel(words: list[str], i18n: I18n) -> bool:
    """ "annuler", "annuler mon creneau", "je peux pas venir demain", "cancel my shift"."""
    if not words or len(words) > 12 or any(w in i18n.words("shifts.other_things") for w in words):
        return False
    text = " ".join(words)
    if text in i18n.words("shifts.cancel"):
        return True
    if any(phrase in text for phrase in i18n.words("shifts.cannot_come")):
        return True
    verbs = tuple(i18n.words("shifts.cancel_verbs"))
    return any(w.startswith(verbs) for w in words) and any(w in i18n.words("shifts.shift_nouns") for w in words)


async def _upcoming(ctx: Context) -> list[tuple[Shift, Assignment]]:
    now = ctx.now()
    async with ctx.store.transaction() as db:
        return await model.shifts_of_person(db, ctx.person.id, now, now + timedelta(days=366))


async def _confirm(ctx: Context, shift: Shift, assignment: Assignment) -> Reply:
    """Guarded: a forged SMS must not free the worker's seat (and alert the coordinator)."""
    text = ctx.t("shifts.worker.drop_confirm", shift=model.describe(shift, ctx.language))
    return await DROP_SHIFT.ask(ctx, text, assignment=assignment.id)


async def _start_drop(ctx: Context) -> Replies:
    refused = _refusal(ctx)
    if refused:
        return refused
    ctx.done()
    upcoming = await _upcoming(ctx)
    if not upcoming:
        return [Reply(ctx.t("shifts.worker.drop_none"))]
    if len(upcoming) == 1:
        return [await _confirm(ctx, *upcoming[0])]
    ctx.goto(STEP_PICK)
    choices = tuple(Choice(f"{DROP}:{a.id}", model.describe(s, ctx.language)) for s, a in upcoming[:MAX_CHOICES])
    return [Reply(ctx.t("shifts.worker.drop_which"), choices)]


@router.text("shifts.cancel")
async def cancel_words(inbound: Inbound, ctx: Context) -> Replies:
    """A worker who cannot come: which shift (when several), then OUI/NON."""
    words = fold(inbound.text).split()
    if not _wants_to_cancel(words, ctx.i18n):
        return None
    if not _is_worker(ctx.person) and not any(w in ctx.i18n.words("shifts.shift_nouns") for w in words):
        return None  # "je peux pas venir" from someone without shifts is about something else
    return await _start_drop(ctx)


@router.action(DROP)
async def drop_pressed(inbound: Inbound, ctx: Context) -> Replies:
    """The menu's "cancel a shift", or one shift picked from the list."""
    arg = (inbound.choice or "").partition(":")[2]
    if not arg:
        return await _start_drop(ctx)
    refused = _refusal(ctx)
    if refused:
        return refused
    ctx.done()
    assignment_id = _int(arg)
    now = ctx.now()
    async with ctx.store.transaction() as db:
        assignment = await model.get_assignment(db, assignment_id) if assignment_id else None
        shift = await model.get_shift(db, assignment.shift_id) if assignment else None
    if assignment is None or shift is None or assignment.person_id != ctx.person.id:
        return [Reply(ctx.t("shifts.worker.answer_unknown"))]
    if not _open_for_drop(shift, assignment, now):
        return [Reply(ctx.t(_why_not_droppable(shift, assignment, now), shift=model.describe(shift, ctx.language)))]
    return [await _confirm(ctx, shift, assignment)]


def _open_for_drop(shift: Shift, assignment: Assignment, now: datetime) -> bool:
    return assignment.live and not shift.cancelled and shift.starts_at > now


def _why_not_droppable(shift: Shift, assignment: Assignment, now: datetime) -> str:
    if shift.cancelled:
        return "shifts.worker.answer_cancelled"
    if shift.starts_at <= now:
        return "shifts.worker.drop_past"
    return "shifts.worker.drop_already"


@router.step(STEP_PICK)
async def drop_pick(inbound: Inbound, ctx: Context) -> Replies:
    """A digit picks (the dispatcher reads it against the list); anything else leaves the list."""
    ctx.done()
    return None


async def _drop(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """YES frees the seat if it is still the worker's and still ahead; anything else changes nothing."""
    refused = _refusal(ctx)  # no longer a worker since the question
    if refused:
        raise confirm.Refused.saying(refused[0].text)
    now = ctx.now()
    assignment = await model.get_assignment(db, int(data["assignment"]))
    shift = await model.get_shift(db, assignment.shift_id) if assignment else None
    if assignment is None or shift is None or assignment.person_id != ctx.person.id:
        return [Reply(ctx.t("shifts.worker.answer_unknown"))]
    if not _open_for_drop(shift, assignment, now):
        key = _why_not_droppable(shift, assignment, now)
    else:
        await model.release(db, now, ctx.i18n, assignment.id, "worker_cancelled")
        log.info("shift %s: person %s cancelled", shift.id, ctx.person.id)
        key = "shifts.worker.dropped"
    return [Reply(ctx.t(key, shift=model.describe(shift, ctx.language)))]


DROP_SHIFT = router.confirmation(
    confirm.Operation(
        "shifts.my_drop_confirm",
        _drop,
        texts=confirm.Texts(cancelled="shifts.worker.drop_kept", nothing_pending="shifts.worker.answer_unknown"),
    )
)


# --- Free text with typos ------------------------------------------------------------------------


@router.text("shifts.planning")
async def free_text(inbound: Inbound, ctx: Context) -> Replies:
    """ "planing", "mes horraires", "kan c mon prochain creneau", "my shifts please". Someone who is not a
    worker is told why not when the message names a shift or a schedule ("my shifts please"), never for
    one word or for hours alone ("horaires" may be a place's, "mes heures" a Trocshop balance)."""
    words = fold(inbound.text).split()
    worker = _is_worker(ctx.person)
    if not words or len(words) > 8 or (not worker and len(words) < 2):
        return None
    nouns = ctx.i18n.words("shifts.shift_nouns")
    keywords = [w for w in words if w not in ctx.i18n.words("shifts.fillers")]
    named = [w for w in keywords if w in nouns]
    rest = [w for w in keywords if w not in nouns]
    about_planning = [w for w in rest if _like(w, ctx.i18n.words("shifts.planning_like"))]
    about_next = [w for w in rest if _like(w, ctx.i18n.words("shifts.next_like"))]
    if not keywords or len(rest) > len(about_planning) + len(about_next):
        return None  # another word: about something else ("horaires douche")
    if not worker:
        schedule = named or [w for w in rest if w in ctx.i18n.words("shifts.planning_shared")]
        return _refusal(ctx) if schedule else None
    if about_next:
        return await next_shift(inbound, ctx)
    return await planning(inbound, ctx)


# --- Personal data -------------------------------------------------------------------------------


async def export(db: aiosqlite.Connection, person_id: int) -> dict[str, Any]:
    """The person's shifts (every assignment, worked, answered or released) and contract steps."""
    async with db.execute(
        "SELECT s.local_date, s.start_local, s.end_local, a.name, p.name, s.status, x.status, x.released_reason,"
        " x.answer, x.attendance FROM shift_assignments x JOIN shifts s ON s.id = x.shift_id"
        " JOIN shift_activities a ON a.id = s.activity_id JOIN shift_places p ON p.id = s.place_id"
        " WHERE x.person_id = ? ORDER BY s.starts_at, x.id",
        (person_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    shifts = [
        {
            "date": row[0],
            "start": row[1],
            "end": row[2],
            "activity": row[3],
            "place": row[4],
            "shift_status": row[5],
            "status": row[6],
            "released_reason": row[7],
            "answer": row[8],
            "attendance": row[9],
        }
        for row in rows
    ]
    contracts = [
        {"from": day.isoformat(), "weekly": format_minutes(minutes)}
        for day, minutes in await model.contract_history(db, person_id)
    ]
    if not shifts and not contracts:
        return {}
    return {
        "shifts": shifts,
        "count": len(shifts),
        "contracts": contracts,
        "contract": contracts[-1]["weekly"] if contracts else "-",
    }


async def erase(db: aiosqlite.Connection, person_id: int) -> None:
    """The payroll's rows stay (shifts worked, contract hours), pointing to the anonymous person;
    a forgotten staff member stops being a coordinator, so alerts reach the team instead. A reason
    staff gave for a change that names the person ("Nadia Exemple malade") becomes a neutral text."""
    await db.execute("UPDATE shifts SET coordinator_person_id = NULL WHERE coordinator_person_id = ?", (person_id,))
    await db.execute(
        "UPDATE shift_templates SET coordinator_person_id = NULL WHERE coordinator_person_id = ?", (person_id,)
    )
    erasure = privacy.erasure()
    async with db.execute("SELECT id, reason FROM shifts WHERE reason IS NOT NULL") as cursor:
        naming = [(erasure.neutral, row[0]) async for row in cursor if erasure.mentions.found(row[1])]
    await db.executemany("UPDATE shifts SET reason = ? WHERE id = ?", naming)


router.personal_data(export, erase)
