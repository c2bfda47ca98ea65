"""The durable outbound queue: every message that is not a direct answer.

Rows are written in the same transaction as the fact that causes them (``enqueue`` takes the
caller's connection), with a unique (cause, channel, address), so a retried operation never
queues a message twice. Senders claim due rows one at a time and record the result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from bot.clock import iso
from bot.i18n import I18n
from bot.messages import Channel, Choice

SENDABLE = (Channel.SMS, Channel.TELEGRAM)
# One channel for a person who has several: Telegram costs nothing, SMS reaches every phone.
PREFERENCE = {Channel.TELEGRAM.value: 0, Channel.SMS.value: 1}


async def enqueue(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    cause: str,
    channel: Channel,
    address: str,
    text: str,
    person_id: int | None = None,
    choices: Iterable[Choice] = (),
    due_at: datetime | None = None,
) -> bool:
    """Queue one message inside the caller's transaction; False when this cause already reached this address."""
    if channel not in SENDABLE:
        return False
    cursor = await db.execute(
        "INSERT OR IGNORE INTO outbox (cause, channel, address, person_id, body, choices, due_at, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            cause,
            channel.value,
            address,
            person_id,
            text,
            json.dumps([[c.key, c.label] for c in choices], ensure_ascii=False),
            iso(due_at or now),
            iso(now),
            iso(now),
        ),
    )
    return cursor.rowcount == 1


async def enqueue_for_person(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    person_id: int,
    *,
    cause: str,
    key: str,
    params: dict[str, object] | None = None,
    choices: Iterable[tuple[str, str]] = (),
    every_channel: bool = False,
    exclude_identity: int | None = None,
    due_at: datetime | None = None,
) -> int:
    """Queue a catalog message for a person, in their language, on their preferred reachable channel.

    ``every_channel`` sends on each of their channels (a security notice); ``choices`` are
    (key, label message id) pairs. Opted-out and unreachable identities are left out here, and
    checked again when sending. Returns how many rows were queued.
    """
    async with db.execute("SELECT language FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return 0
    language = row[0] or i18n.default_language
    async with db.execute(
        "SELECT id, channel, address FROM identities WHERE person_id = ? AND opted_out_at IS NULL"
        " AND unreachable_at IS NULL AND channel IN ('sms', 'telegram')",
        (person_id,),
    ) as cursor:
        identities = [r for r in await cursor.fetchall() if r[0] != exclude_identity]
    identities.sort(key=lambda r: PREFERENCE[r[1]])
    if not every_channel:
        identities = identities[:1]
    text = i18n.t(language, key, **(params or {}))
    rendered = [Choice(k, i18n.t(language, label)) for k, label in choices]
    queued = 0
    for _, channel, address in identities:
        queued += await enqueue(
            db,
            now,
            cause=cause,
            channel=Channel(channel),
            address=address,
            text=text,
            person_id=person_id,
            choices=rendered,
            due_at=due_at,
        )
    return queued
