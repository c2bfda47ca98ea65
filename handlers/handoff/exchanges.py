"""A person's last exchanges with the bot: what they wrote and what it answered, for staff answering them.

Recorded by the dispatcher's exchange observer (``Router.observe``) inside its own transaction,
once the replies are known. Bounded: the last ``KEEP`` of each person and ``KEPT_FOR`` at most,
purged as new ones come, so it never becomes a history of someone's life. Staff's own exchanges are
not kept: their commands name other people, and nobody hands staff off to staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import iso
from bot.messages import Channel, Reply

KEEP = 20
KEPT_FOR = timedelta(days=7)


@dataclass(frozen=True)
class Exchange:
    at: datetime
    channel: Channel
    inbound: str  # empty for a button pressed or a position shared
    replies: str  # as the person read them, choices as numbered lines


def replies_text(replies: Sequence[Reply]) -> str:
    """The replies as one text: each reply's text, then its choices numbered as on SMS."""
    shown = []
    for reply in replies:
        lines = [reply.shown] if reply.shown else []
        lines += [f"{number} {choice.label}" for number, choice in enumerate(reply.choices, start=1)]
        shown.append("\n".join(lines))
    return "\n\n".join(text for text in shown if text)


async def record(
    db: aiosqlite.Connection, now: datetime, person_id: int, channel: Channel, inbound: str, replies: Sequence[Reply]
) -> None:
    """Keep one exchange, and drop what is now beyond the bounds (this person's and everyone's old ones)."""
    await db.execute(
        "INSERT INTO handoff_exchanges (person_id, channel, inbound, replies, at) VALUES (?, ?, ?, ?, ?)",
        (person_id, channel.value, inbound, replies_text(replies), iso(now)),
    )
    await db.execute(
        "DELETE FROM handoff_exchanges WHERE person_id = ? AND id NOT IN"
        " (SELECT id FROM handoff_exchanges WHERE person_id = ? ORDER BY id DESC LIMIT ?)",
        (person_id, person_id, KEEP),
    )
    await db.execute("DELETE FROM handoff_exchanges WHERE at < ?", (iso(now - KEPT_FOR),))


async def recent(db: aiosqlite.Connection, person_id: int, now: datetime) -> list[Exchange]:
    """The person's kept exchanges, oldest first (those past ``KEPT_FOR`` left out even before a purge)."""
    async with db.execute(
        "SELECT at, channel, inbound, replies FROM handoff_exchanges WHERE person_id = ? AND at >= ? ORDER BY id",
        (person_id, iso(now - KEPT_FOR)),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Exchange(datetime.fromisoformat(r[0]), Channel(r[1]), r[2], r[3]) for r in rows]
