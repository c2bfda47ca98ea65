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
from typing import Any

import aiosqlite

from bot import confirm, people
from bot.dispatch import STAFF_ROLES, Context, Replies, guard
from bot.messages import Inbound, Reply
from bot.people import Person, privacy
from handlers.account import router

log = logging.getLogger(__name__)


def _argument(inbound: Inbound) -> str:
    """What follows a slash command ("/oublier GV-K7P2" -> "GV-K7P2"); keywords take none."""
    if not inbound.text.startswith("/"):
        return ""
    return inbound.text.partition(" ")[2].strip()


# --- The person's own data -------------------------------------------------------------------------


@router.command("/mydata", "/mesdonnees", "/donnees", "/data", words="account.my_data", help="privacy.about_data")
async def my_data(inbound: Inbound, ctx: Context) -> Replies:
    """What we keep about the sender; with a member code it is the staff's request for someone."""
    if _argument(inbound):
        return await staff_data(inbound, ctx)
    ctx.done()
    export = await privacy.export_person(ctx.store, ctx.person.id, ctx.personal_data)
    return [Reply(privacy.render_export(export, ctx.i18n, ctx.language))]


@router.command("/forget", "/oublier", words="account.forget", typos=False, help="privacy.about_forget")
async def forget(inbound: Inbound, ctx: Context) -> Replies:
    """Asks before erasing, listing exactly what goes; with a member code it is the staff's path."""
    if _argument(inbound):
        return await staff_forget(inbound, ctx)
    export = await privacy.export_person(ctx.store, ctx.person.id, ctx.personal_data)
    items = privacy.render_erasable(export, ctx.i18n, ctx.language, ctx.personal_data)
    text = ctx.t("privacy.forget_ask", items=items, minutes=ctx.settings.confirm_minutes)
    return [await FORGET_SELF.ask(ctx, text)]


async def _forget_self(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    done = await privacy.erase_person(db, ctx.person.id, ctx.personal_data, ctx.now(), ctx.i18n)
    log.info(
        "person %s erased at their own request (%d identities, %d messages)",
        done.person_id,
        done.identities,
        done.messages,
    )
    return [Reply(ctx.t("privacy.forgotten"))]


async def _scrubbed(ctx: Context, data: dict[str, Any], replies: list[Reply]) -> list[Reply]:
    """Once committed, the file is rewritten so that the erased bytes are gone too."""
    await privacy.scrub(ctx.store)
    return replies


_TEXTS = confirm.Texts(
    cancelled="privacy.forget_cancelled",
    nothing_pending="privacy.forget_expired",
    too_late="privacy.forget_expired",
)
FORGET_SELF = router.confirmation(
    confirm.Operation(
        "privacy.forget",
        _forget_self,
        yes_label="privacy.yes",
        no_label="privacy.no",
        texts=_TEXTS,
        after=_scrubbed,
    )
)


# --- Staff, for a person who asks ------------------------------------------------------------------


async def _target(inbound: Inbound, ctx: Context) -> Person | Reply:
    """The registered person a staff command names, or the reason there is none to act on."""
    code = people.normalise_member_code(_argument(inbound))
    if code is None:
        return Reply(ctx.t("privacy.staff_bad_code"))
    async with ctx.store.transaction() as db:
        person = await people.by_code(db, code)
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
    code = target.member_code or ""
    heading = ctx.t("privacy.staff_export_heading", name=target.name or "", code=code)
    footer = ctx.t("privacy.staff_export_footer", code=code)  # never the self-erase word: it would erase the staff
    log.info("staff person %s read the data of person %s", ctx.person.id, target.id)
    return [Reply(privacy.render_export(export, ctx.i18n, ctx.language, heading, footer))]


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
        minutes=ctx.settings.confirm_minutes,
    )
    return [await FORGET_FOR_STAFF.ask(ctx, text, target=target.id)]


async def _forget_for_staff(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The staff's yes, guarded again (the engine checks the asker is still staff)."""
    target_id = data.get("target")
    target = await people.get_person(db, target_id) if isinstance(target_id, int) else None
    # Checked again: the person may have been forgotten, or made staff, since the question.
    if target is None or target.status != "active" or target.is_staff or target.id == ctx.person.id:
        raise confirm.Refused("privacy.staff_gone")
    done = await privacy.erase_person(db, target.id, ctx.personal_data, ctx.now(), ctx.i18n)
    log.info(
        "staff person %s erased person %s on request (%d identities, %d messages)",
        ctx.person.id,
        done.person_id,
        done.identities,
        done.messages,
    )
    return [Reply(ctx.t("privacy.staff_forgotten", name=target.name or "", code=target.member_code or ""))]


FORGET_FOR_STAFF = router.confirmation(
    confirm.Operation(
        "privacy.staff_forget",
        _forget_for_staff,
        roles=STAFF_ROLES,
        yes_label="privacy.yes",
        no_label="privacy.no",
        texts=_TEXTS,
        after=_scrubbed,
    )
)

staff_data = guard(_staff_data, STAFF_ROLES)
staff_forget = guard(_staff_forget, STAFF_ROLES)
