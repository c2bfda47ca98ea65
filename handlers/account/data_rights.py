"""Data rights in the chat: MES DONNEES shows what the bot keeps, OUBLIER erases it after a yes.

Anyone can use them, guests too: their number and messages are theirs. Staff do the same for a
person who asks at the desk, by member code (``/donnees GV-K7P2``, ``/oublier GV-K7P2``).

Staff cannot reach another staff member's account (nor their own) this way: a lost or shared
staff phone must not be able to wipe colleagues, or the traces of what they did, in two messages.
A staff member uses OUBLIER for themselves, like anyone; removing a colleague is an
administrator's decision, taken outside the chat.

Only the person's id waits in the conversation, never a name. The question goes through
``bot.confirm``: answered by SMS it needs the code printed in it, since a forged ``From`` must not
erase anyone.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot import confirm, people, privacy
from bot.dispatch import STAFF_ROLES, Context, Replies, guard
from bot.messages import Inbound, Reply
from bot.people import Person
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


async def _ask(ctx: Context, step: str, text: str, **data: Any) -> Reply:
    return await confirm.ask(
        ctx,
        step,
        text,
        yes=YES,
        no=NO,
        yes_label=ctx.t("privacy.yes"),
        no_label=ctx.t("privacy.no"),
        within=CONFIRM_WITHIN,
        **data,
    )


def _minutes() -> int:
    return int(CONFIRM_WITHIN.total_seconds() // 60)


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
    return [await _ask(ctx, SELF_STEP, ctx.t("privacy.forget_ask", items=items, minutes=_minutes()))]


async def _forget_self(ctx: Context) -> Replies:
    done = await privacy.forget_person(ctx.store, ctx.person.id, ctx.personal_data, ctx.now(), ctx.i18n)
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
    text = ctx.t(
        "privacy.staff_forget_ask",
        name=target.name or "",
        code=target.member_code or "",
        items=items,
        minutes=_minutes(),
    )
    return [await _ask(ctx, STAFF_STEP, text, target=target.id)]


async def _forget_for_staff(inbound: Inbound, ctx: Context) -> Replies:
    """The staff's yes, guarded again: the asker must still be staff when it comes."""
    answer = await _answer(inbound, ctx, STAFF_STEP)
    if answer.kind is not confirm.Kind.YES:
        return _not_yes(ctx, answer)
    target_id = answer.data.get("target")
    async with ctx.store.transaction() as db:
        target = await people.get_person(db, target_id) if isinstance(target_id, int) else None
    # Checked again: the person may have been forgotten, or made staff, since the question.
    if target is None or target.status != "active" or target.is_staff or target.id == ctx.person.id:
        return [Reply(ctx.t("privacy.staff_gone"))]
    done = await privacy.forget_person(ctx.store, target.id, ctx.personal_data, ctx.now(), ctx.i18n)
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


# --- The answer to the question: a button, its number, or the word (by SMS with its code) ----------


async def _answer(inbound: Inbound, ctx: Context, step: str) -> confirm.Answer:
    if inbound.choice is not None:
        return await confirm.pressed(inbound, ctx, step, yes=inbound.choice.partition(":")[0] == YES)
    return await confirm.typed(inbound, ctx, step)


def _not_yes(ctx: Context, answer: confirm.Answer) -> Replies:
    """No, too late, or the engine's own answer (the code asked again); anything else cancels the question."""
    if answer.kind is confirm.Kind.NO:
        return [Reply(ctx.t("privacy.forget_cancelled"))]
    if answer.kind in (confirm.Kind.STALE, confirm.Kind.EXPIRED):
        return [Reply(ctx.t("privacy.forget_expired"))]
    if answer.kind is confirm.Kind.HANDLED:
        return answer.replies
    ctx.done()
    return None


async def _answered(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.step == STAFF_STEP:
        return await forget_for_staff(inbound, ctx)
    answer = await _answer(inbound, ctx, SELF_STEP)
    if answer.kind is not confirm.Kind.YES:
        return _not_yes(ctx, answer)
    return await _forget_self(ctx)


@router.action(YES)
async def pressed_yes(inbound: Inbound, ctx: Context) -> Replies:
    return await _answered(inbound, ctx)


@router.action(NO)
async def pressed_no(inbound: Inbound, ctx: Context) -> Replies:
    ctx.done()  # no token needed: a NO, even a late one, erases nothing
    return [Reply(ctx.t("privacy.forget_cancelled"))]


@router.step(SELF_STEP)
@router.step(STAFF_STEP, roles=STAFF_ROLES)
async def typed_answer(inbound: Inbound, ctx: Context) -> Replies:
    """OUI erases, NON cancels; anything else cancels too and is answered as usual."""
    return await _answered(inbound, ctx)
