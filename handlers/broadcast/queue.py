"""A broadcast's life: a draft, confirmed once, expanded into outbox rows in batches, cancelled, done.

A broadcast's messages are ordinary outbox rows with cause ``broadcast:<id>``, one per person: the
outbox's unique (cause, channel, address) makes every recipient get it once, and its senders keep
each channel's rate limits. Memory stays flat whatever the audience: recipients are queued by
``INSERT ... SELECT`` in keyset batches of persons, each batch its own short transaction, so the
bot keeps answering while a large broadcast is queued and a crash resumes at the last batch.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import Clock, iso
from bot.messages import Channel, Choice
from bot.outbox import cancel_cause, enqueue
from bot.store import Store
from handlers.broadcast.audience import SKIP_REASONS, Audience, QuietHours, audience_query, main_language

log = logging.getLogger(__name__)

CAUSE = "broadcast:"
PROGRESS_CAUSE = "broadcast-progress:"
EXPAND_BATCH = 2000  # persons per transaction: a few tens of milliseconds of the writer's lock
DRAFT_KEPT = timedelta(days=1)  # a preview nobody answered is forgotten after a day
ACTIVE = ("confirmed", "sending")
FINISHED = ("done", "cancelled")

_INSERT_SQL = """
INSERT OR IGNORE INTO outbox (cause, channel, address, person_id, body, choices, due_at, created_at, updated_at)
SELECT :cause, a.channel, a.address, a.person_id, CASE a.lang {cases} ELSE :main_text END, '[]',
       CASE WHEN a.channel = 'sms' THEN :sms_due ELSE :now END, :now, :now
FROM ({query}) AS a WHERE a.skip IS NULL ORDER BY a.person_id"""


@dataclass(frozen=True)
class ProgressMessage:
    """The staff's Telegram message that shows a broadcast's progress, edited in place."""

    chat: str
    language: str
    text: str
    stop_label: str


@dataclass(frozen=True)
class Broadcast:
    id: int
    texts: dict[str, str]
    audience: Audience
    urgent: bool
    status: str
    created_by: int | None
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    finished_at: datetime | None
    queued: int
    skipped: dict[str, int]
    quiet_hours: QuietHours | None
    timezone: ZoneInfo
    progress_chat: str | None
    progress_language: str | None
    progress_text: str | None
    progress_final: bool
    send_at: datetime | None = None  # scheduled (console): nothing is queued before

    @property
    def cause(self) -> str:
        return f"{CAUSE}{self.id}"

    @classmethod
    def of(cls, row: aiosqlite.Row) -> Broadcast:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            id=row["id"],
            texts=json.loads(row["texts"]),
            audience=Audience.stored(row["audience"]),
            urgent=bool(row["urgent"]),
            status=row["status"],
            created_by=row["created_by"],
            created_at=datetime.fromisoformat(row["created_at"]),
            confirmed_at=when(row["confirmed_at"]),
            cancelled_at=when(row["cancelled_at"]),
            finished_at=when(row["finished_at"]),
            queued=row["queued"],
            skipped={reason: row[f"skipped_{reason}"] for reason in SKIP_REASONS},
            quiet_hours=QuietHours.parse(row["quiet_hours"]),
            timezone=ZoneInfo(row["timezone"]),
            progress_chat=row["progress_chat"],
            progress_language=row["progress_language"],
            progress_text=row["progress_text"],
            progress_final=bool(row["progress_final"]),
            send_at=when(row["send_at"]),
        )


def cause_id(cause: str) -> int | None:
    """The broadcast id of an outbox cause ``broadcast:12``, else None."""
    if not cause.startswith(CAUSE):
        return None
    number = cause[len(CAUSE) :]
    return int(number) if number.isdigit() else None


async def get(store: Store, broadcast_id: int) -> Broadcast | None:
    row = await store.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
    return Broadcast.of(row) if row else None


async def recent(store: Store, limit: int = 8) -> list[Broadcast]:
    """The latest confirmed broadcasts, newest first (drafts are not announcements yet)."""
    rows = await store.fetchall("SELECT * FROM broadcasts WHERE status != 'draft' ORDER BY id DESC LIMIT ?", (limit,))
    return [Broadcast.of(row) for row in rows]


async def create_draft(
    store: Store,
    now: datetime,
    texts: dict[str, str],
    audience: Audience,
    *,
    timezone: str,
    created_by: int | None,
    urgent: bool = False,
    send_at: datetime | None = None,
) -> int:
    """A broadcast nobody has confirmed yet: the preview shows its number, its buttons carry it.

    ``send_at`` schedules it: once confirmed, its recipients are queued at that time, not before.
    """
    async with store.transaction() as db:
        if created_by is not None:  # the same staff member's unanswered previews are abandoned
            await db.execute("DELETE FROM broadcasts WHERE status = 'draft' AND created_by = ?", (created_by,))
        cursor = await db.execute(
            "INSERT INTO broadcasts (texts, audience, urgent, timezone, status, created_by, created_at, send_at)"
            " VALUES (?, ?, ?, ?, 'draft', ?, ?, ?)",
            (
                json.dumps(texts, ensure_ascii=False),
                str(audience),
                int(urgent),
                timezone,
                created_by,
                iso(now),
                iso(send_at) if send_at else None,
            ),
        )
        broadcast_id = cursor.lastrowid
    assert broadcast_id is not None
    return broadcast_id


async def set_urgent(store: Store, broadcast_id: int, urgent: bool) -> bool:
    changed = await store.execute(
        "UPDATE broadcasts SET urgent = ? WHERE id = ? AND status = 'draft'", (int(urgent), broadcast_id)
    )
    return changed == 1


async def discard_draft(store: Store, broadcast_id: int) -> bool:
    """NON to a preview: the draft goes, nothing was ever queued."""
    return await store.execute("DELETE FROM broadcasts WHERE id = ? AND status = 'draft'", (broadcast_id,)) == 1


async def forget_drafts(store: Store, now: datetime) -> None:
    """Previews nobody answered for a day: their text is not kept longer than needed."""
    await store.execute("DELETE FROM broadcasts WHERE status = 'draft' AND created_at < ?", (iso(now - DRAFT_KEPT),))


async def confirm(
    store: Store,
    now: datetime,
    broadcast_id: int,
    *,
    quiet: QuietHours | None,
    progress: ProgressMessage | None = None,
) -> bool:
    """Draft to confirmed, once (a second OUI changes nothing); False when it was not a draft."""
    async with store.transaction() as db:
        return await confirm_in(db, now, broadcast_id, quiet=quiet, progress=progress)


async def confirm_in(
    db: aiosqlite.Connection,
    now: datetime,
    broadcast_id: int,
    *,
    quiet: QuietHours | None,
    progress: ProgressMessage | None = None,
    urgent: bool = False,
) -> bool:
    """:func:`confirm` in the caller's transaction; ``urgent`` marks the draft urgent first.

    ``progress`` queues the staff's progress message in the same transaction: the outbox sends it
    before the broadcast's rows, then the running bot edits it in place.
    """
    if urgent:
        await db.execute("UPDATE broadcasts SET urgent = 1 WHERE id = ? AND status = 'draft'", (broadcast_id,))
    async with db.execute("SELECT urgent FROM broadcasts WHERE id = ? AND status = 'draft'", (broadcast_id,)) as c:
        row = await c.fetchone()
    if row is None:
        return False
    await db.execute(
        "UPDATE broadcasts SET status = 'confirmed', confirmed_at = ?, quiet_hours = ?,"
        " progress_chat = ?, progress_language = ?, progress_text = ? WHERE id = ?",
        (
            iso(now),
            None if row["urgent"] or quiet is None else str(quiet),
            progress.chat if progress else None,
            progress.language if progress else None,
            progress.text if progress else None,
            broadcast_id,
        ),
    )
    if progress is not None:
        await enqueue(
            db,
            now,
            cause=f"{PROGRESS_CAUSE}{broadcast_id}",
            channel=Channel.TELEGRAM,
            address=progress.chat,
            text=progress.text,
            choices=[Choice(f"broadcast.cancel:{broadcast_id}", progress.stop_label)],
        )
    return True


async def expand(
    store: Store,
    clock: Clock,
    broadcast_id: int,
    *,
    batch: int = EXPAND_BATCH,
    budget: float | None = None,
) -> bool:
    """Queue the recipients of a confirmed broadcast, batch by batch; True when all are queued.

    Each batch is one transaction that reads the cursor, writes one outbox row per reachable
    person (``INSERT ... SELECT``, nothing held in Python) and counts the others, so two processes
    (the command line and the bot) or a restart after a crash carry on where it stopped, and a
    cancel stops it between two batches. ``budget`` (seconds) leaves the rest to the next call.
    A broadcast scheduled for later (``send_at``) queues nothing before its time: False.
    """
    scheduled = await store.fetchone("SELECT send_at FROM broadcasts WHERE id = ?", (broadcast_id,))
    if scheduled is not None and scheduled["send_at"] and scheduled["send_at"] > iso(clock.now()):
        return False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget if budget is not None else None
    while True:
        now = clock.now()
        async with store.transaction() as db:
            async with db.execute("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,)) as cursor:
                found = await cursor.fetchone()
            if found is None or found["status"] != "confirmed":
                return True
            broadcast = Broadcast.of(found)
            after = found["expanded_through"]
            async with db.execute(
                "SELECT MAX(id) FROM (SELECT id FROM persons WHERE id > ? ORDER BY id LIMIT ?)", (after, batch)
            ) as cursor:
                upto_row = await cursor.fetchone()
            upto = upto_row[0] if upto_row else None
            if upto is None:
                await db.execute(
                    "UPDATE broadcasts SET status = 'sending', expanded_at = ? WHERE id = ?", (iso(now), broadcast_id)
                )
                log.info("broadcast %s: every recipient queued", broadcast_id)
                return True
            queued, skipped = await _expand_batch(db, broadcast, now, after, upto)
            await db.execute(
                "UPDATE broadcasts SET expanded_through = ?, queued = queued + ?,"
                " skipped_opted_out = skipped_opted_out + ?, skipped_unreachable = skipped_unreachable + ?,"
                " skipped_no_channel = skipped_no_channel + ? WHERE id = ?",
                (upto, queued, skipped["opted_out"], skipped["unreachable"], skipped["no_channel"], broadcast_id),
            )
        if deadline is not None and loop.time() >= deadline:
            return False


async def _expand_batch(
    db: aiosqlite.Connection, broadcast: Broadcast, now: datetime, after: int, upto: int
) -> tuple[int, dict[str, int]]:
    params: dict[str, Any] = {"after": after, "upto": upto}
    query = audience_query(broadcast.audience, params, main_language(broadcast.texts))
    sms_due = None
    if broadcast.quiet_hours is not None and not broadcast.urgent:
        sms_due = broadcast.quiet_hours.until(now, broadcast.timezone)
    cases = []
    for i, (language, text) in enumerate(sorted(broadcast.texts.items())):
        cases.append(f"WHEN :lang{i} THEN :text{i}")
        params[f"lang{i}"] = language
        params[f"text{i}"] = text
    params.update(
        cause=broadcast.cause,
        main_text=broadcast.texts[main_language(broadcast.texts)],
        now=iso(now),
        sms_due=iso(sms_due or now),
    )
    cursor = await db.execute(_INSERT_SQL.format(cases=" ".join(cases), query=query), params)
    queued = cursor.rowcount
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    async with db.execute(
        f"SELECT skip, COUNT(*) FROM ({query}) WHERE skip IS NOT NULL GROUP BY skip",  # noqa: S608
        params,
    ) as cursor:
        for reason, count in await cursor.fetchall():
            skipped[reason] = count
    return queued, skipped


@dataclass(frozen=True)
class Cancelled:
    broadcast: Broadcast | None
    stopped: int  # messages that will not be sent
    already: bool  # it had finished or was cancelled before


async def cancel(store: Store, now: datetime, broadcast_id: int, by: int | None = None) -> Cancelled:
    """Stop a broadcast: what is not sent yet is not sent; a request in flight finishes."""
    async with store.transaction() as db:
        stopped, already, found = await cancel_in(db, now, broadcast_id, by)
    return Cancelled(await get(store, broadcast_id) if found else None, stopped, already)


async def cancel_in(
    db: aiosqlite.Connection, now: datetime, broadcast_id: int, by: int | None = None
) -> tuple[int, bool, bool]:
    """:func:`cancel` in the caller's transaction: (messages stopped, already finished, found).

    One transaction marks the broadcast and every pending row, so the outbox (in this process or
    in ``voisins run``) claims none of them afterwards, and queuing stops before its next batch.
    """
    async with db.execute("SELECT status FROM broadcasts WHERE id = ?", (broadcast_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None or row["status"] == "draft":
        return 0, False, False
    if row["status"] in FINISHED:
        return 0, True, True
    stopped = await cancel_cause(db, now, f"{CAUSE}{broadcast_id}")
    await db.execute(
        "UPDATE broadcasts SET status = 'cancelled', cancelled_at = ?, cancelled_by = ? WHERE id = ?",
        (iso(now), by, broadcast_id),
    )
    log.info("broadcast %s cancelled (%d messages not sent)", broadcast_id, stopped)
    return stopped, False, True


async def mark_done(store: Store, now: datetime, broadcast_id: int) -> bool:
    """A sending broadcast with no row left to send is done; True when it just became so."""
    changed = await store.execute(
        "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending'"
        " AND NOT EXISTS (SELECT 1 FROM outbox WHERE cause = ? AND status IN ('pending', 'sending'))",
        (iso(now), broadcast_id, f"{CAUSE}{broadcast_id}"),
    )
    if changed:
        log.info("broadcast %s done", broadcast_id)
    return changed == 1
