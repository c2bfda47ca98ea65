"""Hand-off conversations in the store, and the typed API the staff console calls.

Someone who asks for a person gets one open conversation (a unique index keeps it to one at a
time); their next messages are filed in it until staff close it or ``EXPIRES_AFTER`` passes since
the last message either way. Expiry is read lazily: whoever reads open conversations first closes
those past their time, stamped with the time they expired rather than the time it was noticed, so
no timer is needed and a bot that was down closes them the same. Closed conversations stay
readable for ``KEEP_CLOSED``, then go: these are vulnerable people's own words.

The console's functions (:func:`list_open`, :func:`list_closed`, :func:`get`, :func:`answer`,
:func:`close`) each run in one transaction, check that the staff member is staff, and raise
:class:`HandoffError` with a catalog key for what the console should say. An answer writes the staff
message and its outbox row together, so it goes once, on the person's own channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot import outbox as ob
from bot import people
from bot.clock import Clock, iso
from bot.dispatch import STAFF_ROLES
from bot.i18n import I18n
from bot.messages import Channel
from bot.outbox import Outbox
from bot.store import Store
from bot.text import clean
from handlers.handoff import exchanges, hours
from handlers.handoff.exchanges import Exchange

EXPIRES_AFTER = timedelta(hours=24)
# "Message transmis" at most this often while nobody answered (see the package's docstring for why).
ACK_QUIET = timedelta(hours=1)
KEEP_CLOSED = timedelta(days=90)
# Characters of a staff answer: an SMS body may have 1600, "L'équipe : " included, and a long one costs
# the site many segments; the console says so before sending.
MAX_ANSWER = 1000
CAUSE = "handoff"


class HandoffError(ValueError):
    """What the console should refuse and say: ``key`` is a catalog message id, ``params`` its fields."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Message:
    id: int
    direction: str  # "in" from the person, "out" from staff
    body: str
    at: datetime
    staff_id: int | None
    staff_name: str | None


@dataclass(frozen=True)
class Summary:
    """One conversation as the console's list shows it."""

    id: int
    person_id: int
    person_name: str | None  # a guest has none: show the member code or the channel
    member_code: str | None
    channel: Channel
    address: str
    opened_via: str  # words, menu, crisis
    opened_at: datetime
    last_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    closed_reason: str | None  # staff, expired
    last_message: str | None
    last_from_staff: bool
    waiting_since: datetime | None  # the person's first message nobody answered yet; None: nobody waits

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Thread:
    """One conversation with its messages and the person's recent exchanges with the bot."""

    conversation: Summary
    messages: list[Message]
    exchanges: list[Exchange]
    reachable: bool  # an answer can go out (SMS or Telegram, not opted out nor blocked)


@dataclass(frozen=True)
class Current:
    """A person's open conversation, as the chat needs it."""

    id: int
    acked_at: datetime | None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# -- the chat's side ----------------------------------------------------------------------------------


async def expire(db: aiosqlite.Connection, now: datetime, person_id: int | None = None) -> int:
    """Close the open conversations (one person's, or all) silent for ``EXPIRES_AFTER``; forget old closed ones."""
    where = " AND person_id = ?" if person_id is not None else ""
    params: tuple[object, ...] = (iso(now - EXPIRES_AFTER),) + ((person_id,) if person_id is not None else ())
    async with db.execute(
        f"SELECT id, last_at FROM handoff_conversations WHERE closed_at IS NULL AND last_at <= ?{where}",  # noqa: S608
        params,
    ) as cursor:
        due = [(row[0], datetime.fromisoformat(row[1])) async for row in cursor]
    await db.executemany(
        "UPDATE handoff_conversations SET closed_at = ?, closed_reason = 'expired' WHERE id = ?",
        [(iso(last + EXPIRES_AFTER), conversation_id) for conversation_id, last in due],
    )
    if person_id is None:
        await db.execute("DELETE FROM handoff_conversations WHERE closed_at < ?", (iso(now - KEEP_CLOSED),))
    return len(due)


async def open_for(db: aiosqlite.Connection, person_id: int, now: datetime) -> Current | None:
    """The person's open conversation, once the one past its time is closed."""
    await expire(db, now, person_id)
    async with db.execute(
        "SELECT id, acked_at FROM handoff_conversations WHERE person_id = ? AND closed_at IS NULL", (person_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else Current(row[0], _time(row[1]))


async def start(
    db: aiosqlite.Connection, now: datetime, person_id: int, channel: Channel, address: str, via: str
) -> int:
    """Open a conversation answered on ``channel``/``address``; the caller checked none is open."""
    cursor = await db.execute(
        "INSERT INTO handoff_conversations (person_id, channel, address, opened_via, opened_at, last_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (person_id, channel.value, address, via, iso(now), iso(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def record_in(db: aiosqlite.Connection, conversation_id: int, text: str, now: datetime) -> None:
    """File what the person wrote; the 24 hours count again from now."""
    await db.execute(
        "INSERT INTO handoff_messages (conversation_id, direction, body, at) VALUES (?, 'in', ?, ?)",
        (conversation_id, text, iso(now)),
    )
    await db.execute("UPDATE handoff_conversations SET last_at = ? WHERE id = ?", (iso(now), conversation_id))


async def mark_acked(db: aiosqlite.Connection, conversation_id: int, now: datetime) -> None:
    await db.execute("UPDATE handoff_conversations SET acked_at = ? WHERE id = ?", (iso(now), conversation_id))


async def notify_staff(
    db: aiosqlite.Connection, now: datetime, i18n: I18n, tz: ZoneInfo, conversation_id: int, person_id: int
) -> int:
    """Tell each staff member once that someone waits, at the team's next opening hour (not at night).

    The notice names nobody: it is a pointer to the console, where the person is shown.
    """
    due = hours.team_hours().next_opening(now, tz)
    queued = 0
    for staff_id in await people.staff_ids(db):
        if staff_id != person_id:
            queued += await ob.enqueue_for_person(
                db,
                now,
                i18n,
                staff_id,
                cause=f"{CAUSE}:new:{conversation_id}:{staff_id}",
                key="handoff.staff_notice",
                params={"id": conversation_id},
                due_at=due,
            )
    return queued


# -- reading, for the console -----------------------------------------------------------------------

_SUMMARY = (
    "SELECT c.id, c.person_id, p.name, p.member_code, c.channel, c.address, c.opened_via, c.opened_at, c.last_at,"
    " c.closed_at, c.closed_by, c.closed_reason,"
    " (SELECT m.body FROM handoff_messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS last_body,"
    " (SELECT m.direction FROM handoff_messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1)"
    " AS last_direction,"
    " (SELECT MAX(m.id) FROM handoff_messages m WHERE m.conversation_id = c.id AND m.direction = 'out') AS last_out,"
    " (SELECT MIN(m.at) FROM handoff_messages m WHERE m.conversation_id = c.id AND m.direction = 'in' AND m.id >"
    " COALESCE((SELECT MAX(o.id) FROM handoff_messages o WHERE o.conversation_id = c.id AND o.direction = 'out'), 0))"
    " AS waiting_in"
    " FROM handoff_conversations c JOIN persons p ON p.id = c.person_id"
)


def _summary(row: aiosqlite.Row) -> Summary:
    closed = row["closed_at"] is not None
    waiting = _time(row["waiting_in"]) or (_time(row["opened_at"]) if row["last_out"] is None else None)
    return Summary(
        id=row["id"],
        person_id=row["person_id"],
        person_name=row["name"],
        member_code=row["member_code"],
        channel=Channel(row["channel"]),
        address=row["address"],
        opened_via=row["opened_via"],
        opened_at=datetime.fromisoformat(row["opened_at"]),
        last_at=datetime.fromisoformat(row["last_at"]),
        closed_at=_time(row["closed_at"]),
        closed_by=row["closed_by"],
        closed_reason=row["closed_reason"],
        last_message=row["last_body"],
        last_from_staff=row["last_direction"] == "out",
        waiting_since=None if closed else waiting,
    )


async def _summaries(db: aiosqlite.Connection, where: str, params: tuple[object, ...]) -> list[Summary]:
    async with db.execute(f"{_SUMMARY} {where}", params) as cursor:
        return [_summary(row) for row in await cursor.fetchall()]


async def _require_staff(db: aiosqlite.Connection, staff_id: int) -> None:
    """The same rule as the chat's staff commands: an active person with the staff or admin role."""
    found = await people.get_people(db, [staff_id])
    if not found or found[0].status != "active" or not found[0].roles & STAFF_ROLES:
        raise HandoffError("handoff.error_not_staff")


async def list_open(store: Store, now: datetime) -> list[Summary]:
    """The open conversations: those with someone waiting first (longest wait first), then the latest."""
    async with store.transaction() as db:
        await expire(db, now)
        found = await _summaries(db, "WHERE c.closed_at IS NULL", ())
    waiting = sorted((s for s in found if s.waiting_since is not None), key=lambda s: (s.waiting_since, s.id))
    others = sorted((s for s in found if s.waiting_since is None), key=lambda s: s.last_at, reverse=True)
    return waiting + others


async def list_closed(store: Store, now: datetime, limit: int = 50) -> list[Summary]:
    """The last closed conversations, newest first: an expired one nobody answered shows ``last_from_staff`` False."""
    async with store.transaction() as db:
        await expire(db, now)
        return await _summaries(
            db, "WHERE c.closed_at IS NOT NULL ORDER BY c.closed_at DESC, c.id DESC LIMIT ?", (limit,)
        )


async def _target(db: aiosqlite.Connection, person_id: int, channel: str, address: str) -> tuple[Channel, str] | None:
    """Where an answer goes: the identity the person asked from, else another of theirs that can receive."""
    sendable = {channel.value for channel in ob.SENDABLE}
    async with db.execute(
        "SELECT channel, address FROM identities WHERE person_id = ? AND opted_out_at IS NULL"
        " AND unreachable_at IS NULL",
        (person_id,),
    ) as cursor:
        found = [(str(row[0]), str(row[1])) for row in await cursor.fetchall() if row[0] in sendable]
    if not found:
        return None
    found.sort(key=lambda pair: (pair != (channel, address), ob.PREFERENCE.get(pair[0], len(ob.PREFERENCE))))
    return Channel(found[0][0]), found[0][1]


async def _messages(db: aiosqlite.Connection, conversation_id: int) -> list[Message]:
    async with db.execute(
        "SELECT m.id, m.direction, m.body, m.at, m.staff_id, p.name FROM handoff_messages m"
        " LEFT JOIN persons p ON p.id = m.staff_id WHERE m.conversation_id = ? ORDER BY m.id",
        (conversation_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Message(r[0], r[1], r[2], datetime.fromisoformat(r[3]), r[4], r[5]) for r in rows]


async def _conversation(db: aiosqlite.Connection, conversation_id: int) -> Summary:
    found = await _summaries(db, "WHERE c.id = ?", (conversation_id,))
    if not found:
        raise HandoffError("handoff.error_not_found")
    return found[0]


async def get(store: Store, conversation_id: int, now: datetime) -> Thread:
    """One conversation, open or closed, with its messages and the person's recent exchanges with the bot."""
    async with store.transaction() as db:
        await expire(db, now)
        conversation = await _conversation(db, conversation_id)
        return Thread(
            conversation=conversation,
            messages=await _messages(db, conversation_id),
            exchanges=await exchanges.recent(db, conversation.person_id, now),
            reachable=await _target(db, conversation.person_id, conversation.channel.value, conversation.address)
            is not None,
        )


# -- answering and closing ----------------------------------------------------------------------------


def _answer_text(text: str) -> str:
    """The staff member's text as typed, control characters out, line breaks kept (an address, steps)."""
    lines = [clean(line) for line in text.replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


async def _send(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    person_id: int,
    target: tuple[Channel, str],
    cause: str,
    key: str,
    **params: object,
) -> None:
    """One of our texts to the person, in their language, queued for ``target``."""
    async with db.execute("SELECT language FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    language = row[0] if row is not None and row[0] in i18n.catalogs else i18n.default_language
    text = i18n.t(language, key, **params)
    await ob.enqueue(db, now, cause=cause, channel=target[0], address=target[1], text=text, person_id=person_id)


async def answer(
    store: Store,
    clock: Clock,
    i18n: I18n,
    conversation_id: int,
    staff_id: int,
    text: str,
    *,
    outbox: Outbox | None = None,
) -> Message:
    """Staff answer: the message is filed and queued to the person's own channel in one transaction.

    An expired conversation is opened again by an answer (a Friday-night request answered on
    Monday), unless the person opened another since; one closed by staff is not. Raises
    :class:`HandoffError` when the text is empty or too long, the person cannot receive it, or the
    conversation cannot take it. ``outbox``, when given, is woken to send at once.
    """
    body = _answer_text(text)
    if not body:
        raise HandoffError("handoff.error_empty")
    if len(body) > MAX_ANSWER:
        raise HandoffError("handoff.error_too_long", length=len(body), limit=MAX_ANSWER)
    now = clock.now()
    async with store.transaction() as db:
        await _require_staff(db, staff_id)
        await expire(db, now)
        conversation = await _conversation(db, conversation_id)
        if not conversation.open:
            if conversation.closed_reason != "expired":
                raise HandoffError("handoff.error_closed")
            other = await open_for(db, conversation.person_id, now)
            if other is not None:
                raise HandoffError("handoff.error_other_open", id=other.id)
            await db.execute(
                "UPDATE handoff_conversations SET closed_at = NULL, closed_reason = NULL WHERE id = ?",
                (conversation_id,),
            )
        target = await _target(db, conversation.person_id, conversation.channel.value, conversation.address)
        if target is None:
            raise HandoffError("handoff.error_unreachable")
        cursor = await db.execute(
            "INSERT INTO handoff_messages (conversation_id, direction, staff_id, body, at) VALUES (?, 'out', ?, ?, ?)",
            (conversation_id, staff_id, body, iso(now)),
        )
        assert cursor.lastrowid is not None
        message_id = cursor.lastrowid
        # The person may write again and be told it reached the team: the quiet hour starts over.
        await db.execute(
            "UPDATE handoff_conversations SET last_at = ?, acked_at = NULL WHERE id = ?", (iso(now), conversation_id)
        )
        cause = f"{CAUSE}:answer:{message_id}"
        await _send(db, now, i18n, conversation.person_id, target, cause, "handoff.staff_answer", text=body)
        staff = await people.get_person(db, staff_id)
    if outbox is not None:
        outbox.wake()
    return Message(message_id, "out", body, now, staff_id, staff.name)


async def close(
    store: Store, clock: Clock, i18n: I18n, conversation_id: int, staff_id: int, *, outbox: Outbox | None = None
) -> bool:
    """Staff close a conversation; False when it was closed already. The person is told, on their channel,
    that their messages no longer reach the team and how to ask again."""
    now = clock.now()
    async with store.transaction() as db:
        await _require_staff(db, staff_id)
        await expire(db, now)
        conversation = await _conversation(db, conversation_id)
        if not conversation.open:
            return False
        await db.execute(
            "UPDATE handoff_conversations SET closed_at = ?, closed_by = ?, closed_reason = 'staff' WHERE id = ?",
            (iso(now), staff_id, conversation_id),
        )
        target = await _target(db, conversation.person_id, conversation.channel.value, conversation.address)
        if target is not None:
            cause = f"{CAUSE}:closed:{conversation_id}"
            await _send(db, now, i18n, conversation.person_id, target, cause, "handoff.closed_notice")
    if outbox is not None:
        outbox.wake()
    return True
