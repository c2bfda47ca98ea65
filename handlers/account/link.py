"""Linking a new identity (say a Telegram account) to a registered person with a one-time code.

The code goes to the person's other channels through the outbox (by SMS to the registered
number); staff can read it out when the person has no credit. The answer to "who are you" never
says whether a number is registered: that would tell anyone who lives at the site. So every
request does the same work and leaves a code row: for a number or code nobody registered under
(or a person who already had their codes this hour) the row is a decoy that no code matches, so
the code step answers "wrong code" the same way. The only refusals an asker sees are limits that
depend on the asker and on the whole bot, never on what they typed; the limit per target is
silent (nothing sent, the same answer).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

import aiosqlite

from bot import outbox, people
from bot.clock import iso
from bot.dispatch import STAFF_ROLES, Context, Replies
from bot.messages import Inbound, Reply
from bot.people import PeopleError
from bot.text import digits_of
from handlers.account import router

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=15)
MAX_TRIES = 5
WINDOW = timedelta(hours=1)
# Codes sent to one person in a WINDOW, whoever asks: nobody's phone is flooded. Silent.
MAX_CODES_PER_TARGET = 3
# Requests from one asking account in a WINDOW, and from everyone together (what the association
# may pay in SMS for LIER). Forged SMS senders are many accounts: the overall limit is the bound.
MAX_REQUESTS_PER_ASKER = 5
MAX_REQUESTS_OVERALL = 30
# Request rows are kept this long (the limits read one WINDOW back), then pruned.
KEEP_REQUESTS = timedelta(days=1)


router.message_kind("link_code", r"^link-code:")  # the code sent to the other channel being linked


@router.command("/link", "/lier", words="account.link")
async def start_link(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.person.status != "guest":
        return [Reply(ctx.t("link.already", name=ctx.person.name or ""))]
    ctx.goto("link.who")
    return [Reply(ctx.t("link.ask_who"))]


@router.step("link.who")
async def who(inbound: Inbound, ctx: Context) -> Replies:
    text = inbound.text.strip()
    code = people.normalise_member_code(text)
    phone = None if code else people.normalise_phone(text)
    if code is None and phone is None:
        return [Reply(ctx.t("link.not_a_number"))]
    now = ctx.now()
    channel, address = ctx.identity.channel.value, ctx.identity.address
    async with ctx.store.transaction() as db:
        await db.execute("DELETE FROM link_codes WHERE created_at < ?", (iso(now - KEEP_REQUESTS),))
        if await _asked_too_often(db, channel, address, now):
            ctx.done()
            return [Reply(ctx.t("link.too_many_codes"))]
        found = await people.find_person_id(db, member_code=code, phone=phone)
        async with db.execute(
            "SELECT COUNT(*) FROM link_codes WHERE person_id = ? AND created_at > ?", (found, iso(now - WINDOW))
        ) as cursor:
            recent = await cursor.fetchone()
        # From here on the same statements run whatever was typed; only the outbox write differs.
        target = found if recent is not None and recent[0] < MAX_CODES_PER_TARGET else None
        one_time = f"{secrets.randbelow(1_000_000):06d}"
        cursor = await db.execute(
            "INSERT INTO link_codes (person_id, channel, address, code, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (target, channel, address, one_time, iso(now + CODE_LIFETIME), iso(now)),
        )
        sent = 0
        if target is not None:
            sent = await outbox.enqueue_for_person(
                db,
                now,
                ctx.i18n,
                target,
                cause=f"link-code:{cursor.lastrowid}",
                key="link.code_message",
                params={"code": one_time},
                every_channel=True,
                exclude_identity=ctx.identity.id,
            )
    if ctx.outbox is not None:
        ctx.outbox.wake()
    ctx.goto("link.code")
    log.info("link code requested (queued=%d)", sent)
    return [Reply(ctx.t("link.code_sent"))]


async def _asked_too_often(db: aiosqlite.Connection, channel: str, address: str, now: datetime) -> bool:
    """The asking account's limit and the whole bot's: neither depends on the number or code typed."""
    since = iso(now - WINDOW)
    async with db.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN channel = ? AND address = ? THEN 1 ELSE 0 END), 0)"
        " FROM link_codes WHERE created_at > ?",
        (channel, address, since),
    ) as cursor:
        row = await cursor.fetchone()
    overall, mine = (row[0], row[1]) if row is not None else (0, 0)
    return bool(mine >= MAX_REQUESTS_PER_ASKER or overall >= MAX_REQUESTS_OVERALL)


@router.step("link.code")
async def check_code(inbound: Inbound, ctx: Context) -> Replies:
    typed = digits_of(inbound.text)  # ASCII: compare_digest refuses any other character
    if len(typed) != 6:
        return (
            None
            if inbound.text.strip() and not any(ch.isdigit() for ch in inbound.text)
            else [Reply(ctx.t("link.six_digits"))]
        )
    now = ctx.now()
    async with ctx.store.transaction() as db:
        async with db.execute(
            "SELECT id, person_id, code, tries, expires_at FROM link_codes WHERE channel = ? AND address = ?"
            " AND used_at IS NULL ORDER BY id DESC LIMIT 1",
            (ctx.identity.channel.value, ctx.identity.address),
        ) as cursor:
            pending = await cursor.fetchone()
        if pending is None:
            ctx.done()
            return [Reply(ctx.t("link.no_code"))]
        if pending["expires_at"] <= iso(now):
            ctx.done()
            return [Reply(ctx.t("link.expired"))]
        if pending["tries"] >= MAX_TRIES:
            ctx.done()
            return [Reply(ctx.t("link.too_many_tries"))]
        # A decoy (nobody was sent this code) is wrong whatever is typed, like any wrong code.
        right = hmac.compare_digest(typed, pending["code"])
        if not right or pending["person_id"] is None:
            tries = pending["tries"] + 1
            await db.execute("UPDATE link_codes SET tries = ? WHERE id = ?", (tries, pending["id"]))
            if tries >= MAX_TRIES:
                ctx.done()
                return [Reply(ctx.t("link.too_many_tries"))]
            return [Reply(ctx.plural("link.wrong_code", MAX_TRIES - tries, left=MAX_TRIES - tries))]
        person_id = pending["person_id"]
        try:
            await people.attach_identity(db, now, person_id, ctx.identity.channel, ctx.identity.address)
        except PeopleError as exc:
            ctx.done()
            return [Reply(ctx.t(exc.key, **exc.params))]
        await db.execute("UPDATE link_codes SET used_at = ? WHERE id = ?", (iso(now), pending["id"]))
        cursor = await db.execute(
            "INSERT INTO identity_links (person_id, channel, method, linked_at) VALUES (?, ?, 'code', ?)",
            (person_id, ctx.identity.channel.value, iso(now)),
        )
        await outbox.enqueue_for_person(
            db,
            now,
            ctx.i18n,
            person_id,
            cause=f"link-done:{cursor.lastrowid}",
            key="link.told_other_channel",
            params={"channel": ctx.t(f"link.channel_{ctx.identity.channel.value}")},
            every_channel=True,
            exclude_identity=ctx.identity.id,
        )
        person = await people.get_person(db, person_id)
    if ctx.outbox is not None:
        ctx.outbox.wake()
    ctx.done()
    log.info("identity linked (person %s, channel %s)", person_id, ctx.identity.channel.value)
    if person.language:
        ctx.language = person.language
    return [Reply(ctx.t("link.done", name=person.name or ""))]


@router.command("/code", "/codes", roles=STAFF_ROLES, help="link.about_code")
async def staff_reads_code(inbound: Inbound, ctx: Context) -> Replies:
    """For someone with no credit: staff see the live code and read it out in person."""
    parts = inbound.text.split(maxsplit=1)
    code = people.normalise_member_code(parts[1]) if len(parts) == 2 else None
    if code is None:
        return [Reply(ctx.t("link.staff_usage"))]
    row = await ctx.store.fetchone(
        "SELECT c.code, c.expires_at, p.name FROM link_codes c JOIN persons p ON p.id = c.person_id"
        " WHERE p.member_code = ? AND c.used_at IS NULL AND c.tries < ? AND c.expires_at > ?"
        " ORDER BY c.id DESC LIMIT 1",
        (code, MAX_TRIES, iso(ctx.now())),
    )
    if row is None:
        return [Reply(ctx.t("link.staff_no_code", member=code))]
    minutes = max(1, int((_parse(row["expires_at"]) - ctx.now()).total_seconds() // 60))
    return [Reply(ctx.t("link.staff_code", name=row["name"] or code, code=row["code"], minutes=minutes))]


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


async def _export(db: aiosqlite.Connection, person_id: int) -> dict[str, object]:
    async with db.execute(
        "SELECT channel, method, linked_at FROM identity_links WHERE person_id = ? ORDER BY id", (person_id,)
    ) as cursor:
        links = [dict(row) for row in await cursor.fetchall()]
    return {"identity_links": links}


async def _erase(db: aiosqlite.Connection, person_id: int) -> None:
    """Codes sent to the person, and the requests their own accounts made (their address is in them)."""
    await db.execute(
        "DELETE FROM link_codes WHERE person_id = ? OR EXISTS (SELECT 1 FROM identities i WHERE i.person_id = ?"
        " AND i.channel = link_codes.channel AND i.address = link_codes.address)",
        (person_id, person_id),
    )
    await db.execute("DELETE FROM identity_links WHERE person_id = ?", (person_id,))


router.personal_data(_export, _erase)
