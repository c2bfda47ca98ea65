"""What the hand-off keeps about a person, for MES DONNEES and OUBLIER.

Their own: their conversations with the team (their words and staff's answers to them) and their
last exchanges with the bot. About them in other people's rows: a staff answer or a resident's
message that names them (full name or member code) reads as a neutral text after their erasure, and
someone else's kept exchange that names them (a payment to them, a list that shows them) goes.
"""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.people import privacy


async def export(db: aiosqlite.Connection, person_id: int) -> dict[str, Any]:
    async with db.execute(
        "SELECT id, channel, opened_at, closed_at, closed_reason FROM handoff_conversations WHERE person_id = ?"
        " ORDER BY id",
        (person_id,),
    ) as cursor:
        conversations = [dict(row) for row in await cursor.fetchall()]
    for conversation in conversations:
        async with db.execute(
            "SELECT direction, body, at FROM handoff_messages WHERE conversation_id = ? ORDER BY id",
            (conversation.pop("id"),),
        ) as cursor:
            conversation["messages"] = [dict(row) for row in await cursor.fetchall()]
    async with db.execute(
        "SELECT channel, inbound, replies, at FROM handoff_exchanges WHERE person_id = ? ORDER BY id", (person_id,)
    ) as cursor:
        recent = [dict(row) for row in await cursor.fetchall()]
    if not conversations and not recent:
        return {}
    return {
        "count": len(conversations),
        "messages": sum(len(c["messages"]) for c in conversations),
        "exchanges": len(recent),
        "conversations": conversations,
        "recent": recent,
    }


async def erase(db: aiosqlite.Connection, person_id: int) -> None:
    erasure = privacy.erasure()
    await db.execute("DELETE FROM handoff_conversations WHERE person_id = ?", (person_id,))  # messages cascade
    await db.execute("DELETE FROM handoff_exchanges WHERE person_id = ?", (person_id,))
    if not erasure.mentions.terms:
        return
    async with db.execute("SELECT id, body FROM handoff_messages") as cursor:
        naming = [(erasure.neutral, row[0]) async for row in cursor if erasure.mentions.found(row[1])]
    await db.executemany("UPDATE handoff_messages SET body = ? WHERE id = ?", naming)
    async with db.execute("SELECT id, inbound, replies FROM handoff_exchanges") as cursor:
        gone = [(row[0],) async for row in cursor if erasure.mentions.found(row[1]) or erasure.mentions.found(row[2])]
    await db.executemany("DELETE FROM handoff_exchanges WHERE id = ?", gone)
