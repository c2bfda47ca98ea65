"""Hand-off: someone who needs a person ("parler à quelqu'un", "talk to someone") gets the site's team.

They ask in their own words, by PARLER, or from the main menu or AIDE; they are told when a person
will answer (the team's hours, data/handoff/hours.yaml), and a conversation opens (one at a time).
Until staff close it or 24 hours pass since the last message, their own sentences go to it; the bot's
words still work (STOP, SOLDE, AIDE) and MENU shows the menu without closing anything, so a person
waiting for staff can still ask the bot where to shower. Danger words get the emergency numbers
first, as always, and are filed in the conversation all the same (the exchange observer).

The acknowledgement is short and at most one an hour while nobody answered: receiving an SMS costs
a French prepaid line nothing, writing one does, and a message left unanswered is sent again; but a
basic phone's inbox is small, and the same words after every message fill it for nothing.

Staff answer from the console through :mod:`handlers.handoff.model`; the answer goes out through the
outbox on the person's own channel. The last exchanges of each person (exchanges.py) are what staff
see of what the person already asked the bot and was told.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from bot import outbox as ob
from bot.dispatch import Context, Replies, Router
from bot.messages import Inbound, Reply
from bot.people import Person
from handlers.handoff import exchanges, hours, model, privacy
from handlers.handoff.words import asks_for_someone

router = Router("handoff")
router.personal_data(privacy.export, privacy.erase)

OPEN = "handoff.open"


def _not_staff(person: Person) -> bool:
    """Staff answer the conversations; their menus stay short."""
    return not person.is_staff


router.menu_entry(OPEN, "handoff.menu_label", order=58, visible=_not_staff)
router.help_entry(OPEN, "handoff.help_label", order=40, visible=_not_staff)

# Read and check the hours once, now: a wrong file fails at start-up, not in someone's conversation.
hours.team_hours()


def _when(ctx: Context) -> str:
    return hours.when_answered(ctx.i18n, ctx.language, ctx.now(), ctx.settings.tz)


async def _open(inbound: Inbound, ctx: Context, via: str) -> Replies:
    """Open the person's conversation, or say it is open already; what they typed is filed in it."""
    ctx.done()
    now = ctx.now()
    typed = inbound.text if inbound.choice is None else ""
    async with ctx.store.transaction() as db:
        current = await model.open_for(db, ctx.person.id, now)
        if current is not None:
            if typed:
                await model.record_in(db, current.id, typed, now)
            return [Reply(ctx.t("handoff.already_open", when=_when(ctx)))]
        conversation_id = await model.start(db, now, ctx.person.id, ctx.identity.channel, ctx.identity.address, via)
        if typed:
            await model.record_in(db, conversation_id, typed, now)
        queued = await model.notify_staff(db, now, ctx.i18n, ctx.settings.tz, conversation_id, ctx.person.id)
    if queued and ctx.outbox is not None:
        ctx.outbox.wake()
    return [Reply(ctx.t("handoff.opened", when=_when(ctx)))]


@router.command("/parler", "/talk", words=OPEN)
@router.action(OPEN)
async def open_conversation(inbound: Inbound, ctx: Context) -> Replies:
    """PARLER, or the menu's and AIDE's choice."""
    return await _open(inbound, ctx, "menu" if inbound.choice is not None else "words")


@router.text("handoff.relay")
async def relay(inbound: Inbound, ctx: Context) -> Replies:
    """While a conversation is open, the person's own sentences go to it: acknowledged at most once an
    hour until staff answer, silent otherwise. None when no conversation is open."""
    if not inbound.text:
        return None  # a shared position: the bot answers it with the nearest places
    now = ctx.now()
    again = asks_for_someone(inbound.text, ctx.i18n)
    async with ctx.store.transaction() as db:
        current = await model.open_for(db, ctx.person.id, now)
        if current is None:
            return None
        await model.record_in(db, current.id, inbound.text, now)
        quiet = current.acked_at is not None and now - current.acked_at < model.ACK_QUIET
        if not quiet:
            await model.mark_acked(db, current.id, now)
    if again:
        return [Reply(ctx.t("handoff.already_open", when=_when(ctx)))]
    return [] if quiet else [Reply(ctx.t("handoff.received"))]


@router.text("handoff.ask")
async def ask(inbound: Inbound, ctx: Context) -> Replies:
    """ "je voudrais parler à une personne svp", "I need to talk to someone": a conversation opens."""
    if not inbound.text or not asks_for_someone(inbound.text, ctx.i18n):
        return None
    return await _open(inbound, ctx, "words")


@router.observe
async def observe(db: aiosqlite.Connection, ctx: Context, inbound: Inbound, replies: Sequence[Reply]) -> None:
    """Every exchange: kept among the person's recent ones; one answered by the danger words is filed in
    their open conversation, and opens one when it also asks for a person (the numbers came first)."""
    async with db.execute("SELECT status FROM persons WHERE id = ?", (ctx.person.id,)) as cursor:
        row = await cursor.fetchone()
    if row is None or row[0] == "forgotten":  # erased by this very message: nothing of theirs is written again
        return
    now = ctx.now()
    if not ctx.person.is_staff:
        await exchanges.record(db, now, ctx.person.id, inbound.channel, inbound.text, replies)
    if not ctx.urgent or not inbound.text:
        return
    current = await model.open_for(db, ctx.person.id, now)
    if current is not None:
        await model.record_in(db, current.id, inbound.text, now)
        return
    if not asks_for_someone(inbound.text, ctx.i18n):
        return
    conversation_id = await model.start(db, now, ctx.person.id, ctx.identity.channel, ctx.identity.address, "crisis")
    await model.record_in(db, conversation_id, inbound.text, now)
    await model.notify_staff(db, now, ctx.i18n, ctx.settings.tz, conversation_id, ctx.person.id)
    # After the numbers, in a message of its own: when a person of the team will answer.
    await ob.enqueue(
        db,
        now,
        cause=f"{model.CAUSE}:opened:{conversation_id}",
        channel=ctx.identity.channel,
        address=ctx.identity.address,
        text=ctx.t("handoff.opened", when=_when(ctx)),
        person_id=ctx.person.id,
    )
    if ctx.outbox is not None:
        ctx.outbox.wake()


# The console's Conversations page uses the model above; imported last, once the router exists.
from handlers.handoff import console as _console  # noqa: E402, F401
