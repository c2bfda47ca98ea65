"""What announcements keep about a person, for MES DONNEES and OUBLIER.

A staff member's unsent drafts are their own words; their Telegram chat is where a progress
message is edited. An announcement whose text names a person (by full name or member code) is
someone else's text about them: after their erasure it reads as a neutral text, and what was not
sent yet of it never goes (its queued rows are stopped by the outbox's own erasure).
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from bot.clock import iso
from bot.outbox import cancel_cause
from bot.people import privacy
from handlers.broadcast.queue import CAUSE


async def export(db: aiosqlite.Connection, person_id: int) -> dict[str, Any]:
    async with db.execute(
        "SELECT COUNT(*) FROM broadcasts WHERE created_by = ? AND status = 'draft'", (person_id,)
    ) as cursor:
        row = await cursor.fetchone()
    drafts = int(row[0]) if row else 0
    return {"drafts": drafts} if drafts else {}


async def erase(db: aiosqlite.Connection, person_id: int) -> None:
    erasure = privacy.erasure()
    await db.execute("DELETE FROM broadcasts WHERE created_by = ? AND status = 'draft'", (person_id,))
    await db.execute(
        "UPDATE broadcasts SET progress_chat = NULL, progress_language = NULL, progress_text = NULL,"
        " progress_final = 1 WHERE progress_chat IN"
        " (SELECT address FROM identities WHERE person_id = ? AND channel = 'telegram')",
        (person_id,),
    )
    async with db.execute("SELECT id, status, texts FROM broadcasts") as cursor:
        naming = [(row[0], row[1], row[2]) async for row in cursor if erasure.mentions.found(row[2])]
    for broadcast_id, status, texts in naming:
        neutral = {language: erasure.neutral for language in json.loads(texts)}
        await db.execute(
            "UPDATE broadcasts SET texts = ? WHERE id = ?", (json.dumps(neutral, ensure_ascii=False), broadcast_id)
        )
        if status in ("confirmed", "sending"):
            # Stopped like a cancellation by staff, so nobody else is queued the neutral text.
            await cancel_cause(db, erasure.at, f"{CAUSE}{broadcast_id}")
            await db.execute(
                "UPDATE broadcasts SET status = 'cancelled', cancelled_at = ? WHERE id = ?",
                (iso(erasure.at), broadcast_id),
            )
