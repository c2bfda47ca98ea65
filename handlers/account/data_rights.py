"""Data rights in the chat: MES DONNEES shows what the bot keeps, OUBLIER erases it after a yes.

Anyone can use them, guests too: their number and messages are theirs. Staff do the same for a
person who asks at the desk, by member code (``/donnees GV-K7P2``, ``/oublier GV-K7P2``).

Staff cannot reach another staff member's account (nor their own) this way: a lost or shared
staff phone must not be able to wipe colleagues, or the traces of what they did, in two messages.
A staff member uses OUBLIER for themselves, like anyone; removing a colleague is an
administrator's decision, taken outside the chat.

Only the person's id and the time of the question wait in the conversation, never a name.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot import people, privacy
from bot.clock import iso
from bot.dispatch import STAFF_ROLES, Context, Replies, guard
from bot.messages import Choice, Inbound, Reply
from bot.people import Person
from bot.text import fold
from handlers.account import router

log = logging.getLogger(__name__)

EXPORT_WORDS = ("mes donnees", "mes données", "my data", "mydata", "/mydata", "/mesdonnees", "/donnees", "/data")
FORGET_WORDS = (
    "oublier",
    "oubliez moi",
    "forget",
    "forget me",
    "supprimer mes donnees",
    "effacer mes donnees",
    "delete my data",
    "/forget",
    "/oublier",
)
SELF_STEP = "privacy.forget"
STAFF_STEP = "privacy.staff_forget"
YES = "privacy.forget_yes"
NO = "privacy.forget_no"
# Long enough to read the question on a basic phone, short enough that a forgotten "OUI" later does nothing.
CONFIRM_WITHIN = timedelta(minutes=10)


def _argument(inbound: Inbound) -> str:
    """What follows a slash command ("/oublier GV-K7P2" -> "GV-K7P2"); keywords take none."""
    if not inbound.text.startswith("/"):
        return ""
    return inbound.text.partition(" ")[2].strip()


def _yes_no(ctx: Context) -> tuple[Choice, ...]:
    return (Choice(YES, ctx.t("privacy.yes")), Choice(NO, ctx.t("privacy.no")))


def _words(ctx: Context, key: str) -> set[str]:
    """The typed answer in any language: the button's own label ("OUI", "YES")."""
    return {fold(text) for text in ctx.i18n.variants(key)}


def _minutes() -> int:
    return int(CONFIRM_WITHIN.total_seconds() // 60)


def _fresh(ctx: Context) -> bool:
    asked = ctx.data.get("at")
    if not isinstance(asked, str):
        return False
    try:
        elapsed = ctx.now() - datetime.fromisoformat(asked)
    except ValueError:
        return False
    return timedelta(0) <= elapsed <= CONFIRM_WITHIN


# --- The person's own data -------------------------------------------------------------------------


@router.command(*EXPORT_WORDS)
async def my_data(inbound: Inbound, ctx: Context) -> Replies:
    """What we keep about the sender; with a member code it is the staff's request for someone."""
    if _argument(inbound):
        return await staff_data(inbound, ctx)
    ctx.done()
    export = await privacy.export_person(ctx.store, ctx.person.id, ctx.personal_data)
    return [Reply(privacy.render_export(export, ctx.i18n, ctx.language))]


@router.command(*FORGET_WORDS)
async def forget(inbound: Inbound, ctx: Context) -> Replies:
    """Asks before erasing, listing exactly what goes; with a member code it is the staff's path."""
    if _argument(inbound):
        return await staff_forget(inbound, ctx)
    export = await privacy.export_person(ctx.store, ctx.person.id, ctx.personal_data)
    items = privacy.render_erasable(export, ctx.i18n, ctx.language, ctx.personal_data)
    ctx.goto(SELF_STEP, at=iso(ctx.now()))
    return [Reply(ctx.t("privacy.forget_ask", items=items, minutes=_minutes()), _yes_no(ctx))]


async def _forget_self(ctx: Context) -> Replies:
    done = await privacy.forget_person(ctx.store, ctx.person.id, ctx.personal_data, ctx.now())
    log.info(
        "person %s erased at their own request (%d identities, %d messages)",
        done.person_id,
        done.identities,
        done.messages,
    )
    return [Reply(ctx.t("privacy.forgotten"))]


# --- Staff, for a person who asks ------------------------------------------------------------------


async def _target(inbound: Inbound, ctx: Context) -> Person | Reply:
    """The registered person a staff command names, or the reason there is none to act on."""
    code = people.normalise_member_code(_argument(inbound))
    if code is None:
        return Reply(ctx.t("privacy.staff_bad_code"))
    async with ctx.store.transaction() as db:
        person_id = await people.find_person_id(db, member_code=code)
        person = await people.get_person(db, person_id) if person_id is not None else None
    if person is None:
        return Reply(ctx.t("privacy.staff_unknown", code=code))
    if person.id == ctx.person.id:
        return Reply(ctx.t("privacy.staff_self"))
    if person.is_staff:
        return Reply(ctx.t("privacy.staff_target_staff", name=person.name or "", code=code))
    return person


async def _staff_data(inbound: Inbound, ctx: Context) -> Replies:
    ctx.done()
    target = await _target(inbound, ctx)
    if isinstance(target, Reply):
        return [target]
    export = await privacy.export_person(ctx.store, target.id, ctx.personal_data)
    heading = ctx.t("privacy.staff_export_heading", name=target.name or "", code=target.member_code or "")
    log.info("staff person %s read the data of person %s", ctx.person.id, target.id)
    return [Reply(privacy.render_export(export, ctx.i18n, ctx.language, heading))]


async def _staff_forget(inbound: Inbound, ctx: Context) -> Replies:
    ctx.done()
    target = await _target(inbound, ctx)
    if isinstance(target, Reply):
        return [target]
    export = await privacy.export_person(ctx.store, target.id, ctx.personal_data)
    items = privacy.render_erasable(export, ctx.i18n, ctx.language, ctx.personal_data)
    ctx.goto(STAFF_STEP, target=target.id, at=iso(ctx.now()))
    text = ctx.t(
        "privacy.staff_forget_ask",
        name=target.name or "",
        code=target.member_code or "",
        items=items,
        minutes=_minutes(),
    )
    return [Reply(text, _yes_no(ctx))]


async def _forget_for_staff(inbound: Inbound, ctx: Context) -> Replies:
    target_id = ctx.data.get("target")
    ctx.done()
    async with ctx.store.transaction() as db:
        target = await people.get_person(db, target_id) if isinstance(target_id, int) else None
    # Checked again: the person may have been forgotten, or made staff, since the question.
    if target is None or target.status != "active" or target.is_staff or target.id == ctx.person.id:
        return [Reply(ctx.t("privacy.staff_gone"))]
    done = await privacy.forget_person(ctx.store, target.id, ctx.personal_data, ctx.now())
    log.info(
        "staff person %s erased person %s on request (%d identities, %d messages)",
        ctx.person.id,
        done.person_id,
        done.identities,
        done.messages,
    )
    return [Reply(ctx.t("privacy.staff_forgotten", name=target.name or "", code=target.member_code or ""))]


staff_data = guard(_staff_data, STAFF_ROLES)
staff_forget = guard(_staff_forget, STAFF_ROLES)
forget_for_staff = guard(_forget_for_staff, STAFF_ROLES)


# --- The answer to the question: a button, its number, or the word --------------------------------


async def _confirmed(inbound: Inbound, ctx: Context) -> Replies:
    step = ctx.step
    if step not in (SELF_STEP, STAFF_STEP) or not _fresh(ctx):
        ctx.done()
        return [Reply(ctx.t("privacy.forget_expired"))]
    if step == STAFF_STEP:
        return await forget_for_staff(inbound, ctx)
    ctx.done()
    return await _forget_self(ctx)


@router.action(YES)
async def pressed_yes(inbound: Inbound, ctx: Context) -> Replies:
    return await _confirmed(inbound, ctx)


@router.action(NO)
async def pressed_no(inbound: Inbound, ctx: Context) -> Replies:
    ctx.done()
    return [Reply(ctx.t("privacy.forget_cancelled"))]


@router.step(SELF_STEP)
@router.step(STAFF_STEP, roles=STAFF_ROLES)
async def typed_answer(inbound: Inbound, ctx: Context) -> Replies:
    """OUI erases, NON cancels; anything else cancels too and is answered as usual."""
    word = fold(inbound.text)
    if word in _words(ctx, "privacy.yes"):
        return await _confirmed(inbound, ctx)
    ctx.done()
    if word in _words(ctx, "privacy.no"):
        return [Reply(ctx.t("privacy.forget_cancelled"))]
    return None
