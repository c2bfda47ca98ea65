"""The durable outbound queue: every message that is not a direct answer.

Rows are written in the same transaction as the fact that causes them (``enqueue`` takes the
caller's connection), with a unique (cause, channel, address), so a retried operation never
queues a message twice. Senders claim due rows one at a time and record the result.

Hooks (:class:`OutboxHook`, registered by features with ``Router.outbox_hook``) may hold a claimed
row back (quiet hours, a cancelled announcement) and do periodic work while the outbox runs
(queuing what is left to queue, editing a progress message), without the outbox knowing why.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aiosqlite

from bot import conversations, people
from bot.clock import Clock, iso
from bot.i18n import I18n
from bot.messages import Channel, Choice
from bot.store import Store, unwritable_reason

log = logging.getLogger(__name__)

# The console while `voisins run` talks in the terminal.
SENDABLE = (Channel.SMS, Channel.TELEGRAM, Channel.WHATSAPP, Channel.CONSOLE)
# One channel for a person who has several, first first (CHANNEL_ORDER): Telegram and WhatsApp cost
# nothing to the person, SMS reaches every phone. The terminal, only there, comes last.
PREFERENCE = {Channel.TELEGRAM.value: 0, Channel.WHATSAPP.value: 1, Channel.SMS.value: 2, Channel.CONSOLE.value: 3}
# The channels a person is reached on for what is not an answer (the terminal is not one).
REACHING = (Channel.TELEGRAM.value, Channel.WHATSAPP.value, Channel.SMS.value)


def set_channel_order(order: Sequence[str]) -> None:
    """CHANNEL_ORDER, read once when a core is built: the order every feature's messages follow."""
    ranked = [*order, *(c for c in REACHING if c not in order), Channel.CONSOLE.value]
    PREFERENCE.clear()
    PREFERENCE.update({channel: rank for rank, channel in enumerate(ranked)})


# An identity the outbox may reach: not opted out, not unreachable, and on WhatsApp opted in
# (the person wrote first: WhatsApp forbids a business to start a conversation unasked).
REACHABLE_SQL = "opted_out_at IS NULL AND unreachable_at IS NULL AND (channel != 'whatsapp' OR opted_in_at IS NOT NULL)"


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
    about: int | None = None,
) -> bool:
    """Queue one message inside the caller's transaction; False when this cause already reached this address.

    ``about`` is the person the text names when it goes to someone else (staff told of a sign-up,
    a payee told who paid): erasing that person neutralises the body (:mod:`bot.people.privacy`).
    """
    if channel not in SENDABLE:
        return False
    cursor = await db.execute(
        "INSERT OR IGNORE INTO outbox (cause, channel, address, person_id, about_person_id, body, choices, due_at,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            cause,
            channel.value,
            address,
            person_id,
            about,
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
    about: int | None = None,
) -> int:
    """Queue a catalog message for a person, in their language, on their preferred reachable channel.

    ``every_channel`` sends on each of their channels (a security notice); ``choices`` are
    (key, label message id) pairs; ``about`` as for :func:`enqueue`. Opted-out and unreachable
    identities are left out here, and checked again when sending. Returns how many rows were queued.
    """
    async with db.execute("SELECT language FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return 0
    language = row[0] or i18n.default_language
    async with db.execute(
        f"SELECT id, channel, address FROM identities WHERE person_id = ? AND {REACHABLE_SQL}"  # noqa: S608
        " AND channel IN ('sms', 'telegram', 'whatsapp')",
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
            about=about,
        )
    return queued


# --- Sending -----------------------------------------------------------------------------------

MAX_ATTEMPTS = 8
# A transient error (5xx, 429, time-out, lost connection) ends a row only once it has had
# MAX_ATTEMPTS tries and has been due this long: a provider down for an hour must not turn
# queued messages into failures (eight tries with backoff last only about four minutes).
RETRY_FOR = timedelta(hours=24)
BACKOFF_CAP = timedelta(minutes=10)
POLL_SECONDS = 1.0
TICK_SECONDS = 1.0
# Windows are kept this much longer than the provider's (1 %), for timer granularity.
WINDOW_MARGIN = 0.01


@dataclass(frozen=True)
class Row:
    id: int
    cause: str
    channel: Channel
    address: str
    person_id: int | None
    body: str
    choices: tuple[Choice, ...]
    attempts: int

    @classmethod
    def of(cls, row: aiosqlite.Row) -> Row:
        return cls(
            id=row["id"],
            cause=row["cause"],
            channel=Channel(row["channel"]),
            address=row["address"],
            person_id=row["person_id"],
            body=row["body"],
            choices=tuple(Choice(k, label) for k, label in json.loads(row["choices"])),
            attempts=row["attempts"],
        )


@dataclass(frozen=True)
class Sent:
    provider_id: str | None
    segments: int | None = None


class Retry(Exception):
    """Try this row again later; ``after`` (seconds) when the channel said how long to wait."""

    def __init__(self, reason: str, after: float | None = None, pause_channel: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.pause_channel = pause_channel


class Reroute(Exception):
    """This channel may not carry this row now (WhatsApp outside the 24 hours, with no template for it):
    the person's next channel gets it, or it waits for the person to write and staff are told."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Undeliverable(Exception):
    """Never retry: ``mark`` is ``unreachable`` (blocked bot) or ``opted_out`` (21610), or None."""

    def __init__(self, reason: str, mark: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mark = mark


@dataclass(frozen=True)
class Hold:
    """A hook's verdict on a claimed row: send it ``until`` later, or end it now with ``status``."""

    until: datetime | None = None
    status: str | None = None
    reason: str | None = None


class OutboxHook(Protocol):
    async def hold(self, row: Row, now: datetime) -> Hold | None:
        """Consulted just before a claimed row is sent; None lets it go."""
        ...

    async def tick(self, outbox: Outbox) -> None:
        """Periodic work while the outbox runs (about every second)."""
        ...


class WindowLimiter:
    """At most ``count`` requests in any window of ``period`` seconds, however slow each one is.

    A request holds a slot from the moment it may start until it has finished, and the slot stays
    taken ``period`` seconds after that: a request reaches the provider before it finishes, so two
    requests ``count`` apart always arrive more than ``period`` apart, even when the first one was
    slow to leave (a new connection). aiolimiter's leaky bucket counts when a request starts and
    lets a full bucket through at once: up to twice the rate in a second, which providers refuse.
    """

    def __init__(self, per_second: float, margin: float = WINDOW_MARGIN) -> None:
        self.count = max(1, int(per_second))
        self.period = self.count / per_second * (1 + margin)
        self._finished: deque[float] = deque()
        self._busy = 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._changed:
            while True:
                now = loop.time()
                while self._finished and now - self._finished[0] >= self.period:
                    self._finished.popleft()
                if len(self._finished) + self._busy < self.count:
                    self._busy += 1
                    return
                wait = self._finished[0] + self.period - now if self._finished else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self._busy -= 1
            self._finished.append(asyncio.get_running_loop().time())
            self._changed.notify_all()


async def cancel_cause(db: aiosqlite.Connection, now: datetime, cause: str) -> int:
    """Inside the caller's transaction: rows of ``cause`` not sent yet never will be; requests in flight finish."""
    cursor = await db.execute(
        "UPDATE outbox SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?"
        " WHERE cause = ? AND status IN ('pending', 'waiting')",
        (iso(now), cause),
    )
    return cursor.rowcount


class Edit(enum.Enum):
    """What became of :meth:`Outbox.edit`: callers that edit often count only the tries that went out."""

    DONE = "done"  # the message shows the new text (or already did)
    BUSY = "busy"  # not tried: no sender, the channel paused, or this address had a message too recently
    RETRY = "retry"  # tried, failed for now (a 429, a time-out): try again later
    NEVER = "never"  # it cannot be edited: the message is gone, the bot blocked, or the channel cannot edit


class Sender(Protocol):
    channel: Channel
    max_per_second: float
    per_address_interval: float  # seconds between two messages to the same address

    async def send(self, row: Row) -> Sent: ...

    async def edit(self, address: str, message_ref: str, text: str, choices: Sequence[Choice] = ()) -> None:
        """Show ``text`` and ``choices`` in a message sent earlier; ``message_ref`` is its :attr:`Sent.provider_id`.

        Raises :class:`Retry` (try again later) or :class:`Undeliverable` (this message cannot be
        edited, or this channel cannot edit at all).
        """
        ...

    async def close(self) -> None: ...


class Outbox:
    """Claims due rows, sends them under each channel's limits, and records what happened.

    A row is marked ``sending`` just before its request and ``sent`` just after, each in its own
    transaction; a crash between the two leaves it ``sending``, and :meth:`recover` makes it
    pending again. So a recipient can get a cause twice only if the crash fell inside that one
    request (the HTTP call and the write that follows it).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        senders: Iterable[Sender] = (),
        workers: int = 4,
        hooks: Iterable[OutboxHook] | None = None,
        i18n: I18n | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.i18n = i18n  # for the staff notice of a message that waits (:meth:`_reroute`)
        self.workers = workers
        self.senders: dict[Channel, Sender] = {}
        self._limiters: dict[Channel, WindowLimiter] = {}
        for sender in senders:
            self.add_sender(sender)
        self.hooks: list[OutboxHook] = list(hooks or ())
        self._last_sent: dict[tuple[Channel, str], float] = {}
        self._paused_until: dict[Channel, float] = {}
        self._in_flight: set[tuple[Channel, str]] = set()
        self._waiting: dict[Channel, bool] = {}  # due rows held back only by per-chat spacing
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def add_sender(self, sender: Sender) -> None:
        """A channel able to send; rows of channels without a sender wait in the table."""
        self.senders[sender.channel] = sender
        self._limiters[sender.channel] = WindowLimiter(sender.max_per_second)

    def add_hook(self, hook: OutboxHook) -> None:
        self.hooks.append(hook)

    async def recover(self) -> int:
        """Rows left ``sending`` by a crash go back to ``pending``."""
        return await self.store.execute(
            "UPDATE outbox SET status = 'pending', updated_at = ? WHERE status = 'sending'", (iso(self.clock.now()),)
        )

    async def start(self) -> None:
        await self.recover()
        self._stopping = False
        self._stopped.clear()
        for channel in self.senders:
            for _ in range(self.workers):
                self._tasks.append(asyncio.create_task(self._work(channel)))
        if self.hooks:
            self._tasks.append(asyncio.create_task(self._ticking()))

    async def stop(self) -> None:
        """Stop claiming; a request in flight finishes and is recorded."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for sender in self.senders.values():
            await sender.close()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def backlog(self) -> int:
        row = await self.store.fetchone("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
        return int(row[0]) if row else 0

    async def waiting(self) -> int:
        """Messages no channel could carry yet (WhatsApp outside its 24 hours, no template, no other channel)."""
        row = await self.store.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'waiting'")
        return int(row[0]) if row else 0

    async def tick(self) -> None:
        """Run every hook's periodic work once (the running outbox does it about every second)."""
        for hook in self.hooks:
            try:
                await hook.tick(self)
            except Exception as exc:
                if unwritable_reason(exc) is None:  # a full disk is said once by the store
                    log.exception("outbox hook %s failed", type(hook).__name__)

    async def _ticking(self) -> None:
        while not self._stopping:
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=TICK_SECONDS)

    def pause(self, channel: Channel, seconds: float) -> None:
        """The provider asked to wait (a 429 outside the queue): no request on ``channel`` before then."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until[channel] = max(self._paused_until.get(channel, 0), until)

    def _interval(self, channel: Channel) -> float:
        return self.senders[channel].per_address_interval * (1 + WINDOW_MARGIN)

    @contextlib.asynccontextmanager
    async def direct(self, channel: Channel, address: str) -> AsyncIterator[bool]:
        """A request outside the queue (editing a progress message) under the same limits as the queue.

        Yields False at once, without waiting, when the channel is paused or this address had a
        message too recently or has one in flight: the caller tries again later.
        """
        loop = asyncio.get_running_loop()
        key = (channel, address)
        if (
            channel not in self.senders
            or key in self._in_flight
            or loop.time() - self._last_sent.get(key, -1e9) < self._interval(channel)
            or self._paused_until.get(channel, 0) > loop.time()
        ):
            yield False
            return
        self._in_flight.add(key)
        try:
            async with self._limiters[channel]:
                self._last_sent[key] = loop.time()
                try:
                    yield True
                finally:
                    self._last_sent[key] = loop.time()
        finally:
            self._in_flight.discard(key)

    async def edit(
        self, channel: Channel, address: str, message_ref: str, text: str, choices: Sequence[Choice] = ()
    ) -> Edit:
        """Edit a message sent earlier (a progress message), under the queue's limits and pauses.

        Never waits for the limits (:meth:`direct`): a busy address or a paused channel is
        :attr:`Edit.BUSY` at once. A 429 pauses the channel for the queue too.
        """
        async with self.direct(channel, address) as allowed:
            if not allowed:
                return Edit.BUSY
            try:
                await self.senders[channel].edit(address, message_ref, text, choices)
            except Retry as retry:
                if retry.pause_channel and retry.after:
                    self.pause(channel, retry.after)
                else:
                    log.warning("an edit on %s failed (%s), tried again later", channel.value, retry.reason)
                return Edit.RETRY
            except Undeliverable as failure:
                log.warning("a message on %s cannot be edited (%s)", channel.value, failure.reason)
                return Edit.NEVER
        return Edit.DONE

    async def _work(self, channel: Channel) -> None:
        while not self._stopping:
            try:
                sent = await self.send_one(channel)
            except Exception as exc:
                if unwritable_reason(exc) is None:
                    log.exception("outbox worker error on %s", channel.value)
                # A full or read-only disk is said once by the store, not a traceback a second.
                sent = False
            if not sent and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)

    async def drain(self, channel: Channel | None = None) -> int:
        """Send everything due now (tests and the command line), waiting out per-chat spacing.

        Until a whole round sends nothing: a row one channel could not carry may have gone to another.
        """
        handled = 0
        while True:
            before = handled
            for each in [channel] if channel else list(self.senders):
                while True:
                    if await self.send_one(each):
                        handled += 1
                    elif self._waiting.get(each):
                        await asyncio.sleep(0.05)
                    else:
                        break
            if handled == before or channel is not None:
                return handled

    async def _claim(self, channel: Channel) -> Row | None:
        now = self.clock.now()
        loop_now = asyncio.get_running_loop().time()
        interval = self._interval(channel)
        async with self.store.transaction() as db:
            async with db.execute(
                "SELECT * FROM outbox WHERE channel = ? AND status = 'pending' AND due_at <= ?"
                " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY due_at, id LIMIT 64",
                (channel.value, iso(now), iso(now)),
            ) as cursor:
                candidates = await cursor.fetchall()
            self._waiting[channel] = False
            for candidate in candidates:
                key = (channel, candidate["address"])
                if key in self._in_flight or loop_now - self._last_sent.get(key, -1e9) < interval:
                    self._waiting[channel] = True
                    continue
                await db.execute(
                    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ?",
                    (iso(now), candidate["id"]),
                )
                self._in_flight.add(key)
                return Row.of(candidate)
        return None

    async def _reachable(self, row: Row) -> str | None:
        """Why this row must not be sent now (opted out, unreachable, person gone), or None."""
        found = await self.store.fetchone(
            "SELECT opted_out_at, unreachable_at, opted_in_at FROM identities WHERE channel = ? AND address = ?",
            (row.channel.value, row.address),
        )
        if found is None:
            return "no identity"
        if found["opted_out_at"] is not None:
            return "opted out"
        if found["unreachable_at"] is not None:
            return "unreachable"
        if row.channel is Channel.WHATSAPP and found["opted_in_at"] is None:
            return "not opted in"
        return None

    async def send_one(self, channel: Channel) -> bool:
        """Claim and send one due row of ``channel``; False when nothing is due."""
        loop = asyncio.get_running_loop()
        pause = self._paused_until.get(channel, 0) - loop.time()
        if pause > 0:
            await asyncio.sleep(min(pause, POLL_SECONDS))
            return True
        row = await self._claim(channel)
        if row is None:
            return False
        key = (channel, row.address)
        try:
            for hook in self.hooks:
                held = await hook.hold(row, self.clock.now())
                if held is not None:
                    await self._hold(row, held)
                    return True
            skip = await self._reachable(row)
            if skip is not None:
                await self._finish(row, "skipped", error=skip)
                return True
            sender = self.senders[channel]
            async with self._limiters[channel]:
                self._last_sent[key] = loop.time()
                try:
                    result = await sender.send(row)
                except Retry as retry:
                    await self._retry(row, retry)
                    return True
                except Undeliverable as failure:
                    await self._undeliverable(row, failure)
                    return True
                except Reroute as reroute:
                    await self._reroute(row, reroute.reason)
                    return True
                finally:
                    self._last_sent[key] = loop.time()  # spacing counts from the end: it arrived before
            await self._finish(row, "sent", provider_id=result.provider_id, segments=result.segments)
            if row.choices and row.person_id is not None:
                keys = [choice.key for choice in row.choices]
                await conversations.remember_menu(self.store, row.person_id, keys, self.clock.now())
            return True
        finally:
            self._in_flight.discard(key)

    async def _finish(
        self,
        row: Row,
        status: str,
        *,
        error: str | None = None,
        provider_id: str | None = None,
        segments: int | None = None,
    ) -> None:
        now = iso(self.clock.now())
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = ?, error = ?, provider_id = COALESCE(?, provider_id),"
                " segments = COALESCE(?, segments), next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                (status, error, provider_id, segments, now, row.id),
            )
            if provider_id is not None:
                async with db.execute(
                    "DELETE FROM delivery_early WHERE provider_id = ? RETURNING status, rank, error", (provider_id,)
                ) as cursor:
                    early = await cursor.fetchone()
                if early is not None:
                    await _advance(db, provider_id, early["status"], early["rank"], early["error"], now)

    async def _hold(self, row: Row, held: Hold) -> None:
        """A hook said not now (back to pending, the attempt not counted) or never (ended with its status)."""
        if held.until is not None:
            await self.store.execute(
                "UPDATE outbox SET status = 'pending', attempts = MAX(attempts - 1, 0), due_at = ?, updated_at = ?"
                " WHERE id = ?",
                (iso(held.until), iso(self.clock.now()), row.id),
            )
        else:
            await self._finish(row, held.status or "cancelled", error=held.reason)

    async def _retry(self, row: Row, retry: Retry) -> None:
        if retry.pause_channel and retry.after:
            loop = asyncio.get_running_loop()
            self._paused_until[row.channel] = max(self._paused_until.get(row.channel, 0), loop.time() + retry.after)
        due = await self.store.fetchone("SELECT due_at FROM outbox WHERE id = ?", (row.id,))
        overdue = due is None or self.clock.now() - datetime.fromisoformat(due[0]) >= RETRY_FOR
        if row.attempts >= MAX_ATTEMPTS and overdue:
            log.warning("outbox row %s failed after %s attempts: %s", row.id, row.attempts, retry.reason)
            await self._finish(row, "failed", error=retry.reason)
            return
        delay = timedelta(seconds=retry.after) if retry.after else min(BACKOFF_CAP, timedelta(seconds=2**row.attempts))
        await self.store.execute(
            "UPDATE outbox SET status = 'pending', error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
            (retry.reason, iso(self.clock.now() + delay), iso(self.clock.now()), row.id),
        )

    async def _reroute(self, row: Row, reason: str) -> None:
        """The same message by the person's next reachable channel; with none, it waits and staff are told.

        It waits as ``waiting`` until the person writes on this channel again (:meth:`reopen`); the
        staff notice names the person, never the text.
        """
        now = self.clock.now()
        async with self.store.transaction() as db:
            others = await db.execute_fetchall(
                f"SELECT channel, address FROM identities WHERE person_id = ? AND channel != ?"  # noqa: S608
                f" AND channel IN ('sms', 'telegram', 'whatsapp') AND {REACHABLE_SQL}",
                (row.person_id, row.channel.value),
            )
            ranked = sorted(others, key=lambda r: PREFERENCE.get(r[0], len(PREFERENCE)))
            if ranked and row.person_id is not None:
                channel, address = ranked[0]
                await db.execute(
                    "INSERT OR IGNORE INTO outbox (cause, channel, address, person_id, about_person_id, body, choices,"
                    " due_at, created_at, updated_at) SELECT cause, ?, ?, person_id, about_person_id, body, choices,"
                    " ?, ?, ? FROM outbox WHERE id = ?",
                    (channel, address, iso(now), iso(now), iso(now), row.id),
                )
                await db.execute(
                    "UPDATE outbox SET status = 'rerouted', error = ?, next_attempt_at = NULL, updated_at = ?"
                    " WHERE id = ?",
                    (f"{reason}: sent by {channel}", iso(now), row.id),
                )
                self.wake()
                return
            await db.execute(
                "UPDATE outbox SET status = 'waiting', attempts = MAX(attempts - 1, 0), error = ?,"
                " next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                (f"{reason}: waits for the person to write", iso(now), row.id),
            )
            # A notice about a waiting message that itself waits tells nobody more: no chain of notices.
            if self.i18n is not None and row.person_id is not None and not row.cause.startswith(WAITING_CAUSE):
                async with db.execute("SELECT name, member_code FROM persons WHERE id = ?", (row.person_id,)) as cur:
                    found = await cur.fetchone()
                name = (found[0] or found[1]) if found is not None else None
                for staff_id in await people.staff_ids(db):
                    if staff_id == row.person_id:
                        continue
                    await enqueue_for_person(
                        db,
                        now,
                        self.i18n,
                        staff_id,
                        cause=f"{WAITING_CAUSE}{row.id}",
                        key=f"core.{row.channel.value}_waiting",
                        params={"name": name or "?"},
                        about=row.person_id,
                    )
        self.wake()

    async def reopen(self, channel: Channel, address: str) -> int:
        """The person wrote on ``channel``: what waited for them there goes now."""
        now = iso(self.clock.now())
        changed = await self.store.execute(
            "UPDATE outbox SET status = 'pending', due_at = MIN(due_at, ?), updated_at = ?"
            " WHERE channel = ? AND address = ? AND status = 'waiting'",
            (now, now, channel.value, address),
        )
        if changed:
            self.wake()
        return changed

    async def _undeliverable(self, row: Row, failure: Undeliverable) -> None:
        now = iso(self.clock.now())
        async with self.store.transaction() as db:
            if failure.mark == "unreachable":
                await db.execute(
                    "UPDATE identities SET unreachable_at = ? WHERE channel = ? AND address = ?",
                    (now, row.channel.value, row.address),
                )
            elif failure.mark == "opted_out":
                await db.execute(
                    "UPDATE identities SET opted_out_at = COALESCE(opted_out_at, ?) WHERE channel = ? AND address = ?",
                    (now, row.channel.value, row.address),
                )
            await db.execute(
                "UPDATE outbox SET status = 'failed', error = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                (failure.reason, now, row.id),
            )

    async def delivery_status(self, provider_id: str, status: str, error_code: str | None) -> bool:
        """A delivery report (Twilio's status callback); an opted-out number is marked so.

        Reports arrive in any order (a late ``sent`` after ``delivered``) and two may arrive at
        once: the row moves only forward, by one UPDATE whose condition compares the ranks, and
        never leaves ``undelivered`` or ``failed``.
        """
        rank = DELIVERY_RANKS.get(status)
        if rank is None or rank < DELIVERY_RANKS["sent"]:
            return False  # what comes before the API's answer, or a status not known here
        now = iso(self.clock.now())
        error = f"twilio {error_code}" if error_code else None
        async with self.store.transaction() as db:
            if error_code == OUTSIDE_WINDOW_CODE and await _resend_as_template(db, provider_id, now):
                return True
            moved = await _advance(db, provider_id, status, rank, error, now)
            if not moved and not await _known(db, provider_id):
                # Before the API's answer was recorded: kept, and applied by _finish.
                await db.execute(
                    "DELETE FROM delivery_early WHERE received_at < ?", (iso(self.clock.now() - EARLY_KEPT),)
                )
                await db.execute(
                    "INSERT INTO delivery_early (provider_id, status, rank, error, received_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (provider_id) DO UPDATE SET status = excluded.status, rank = excluded.rank,"
                    " error = COALESCE(excluded.error, error) WHERE excluded.rank > delivery_early.rank",
                    (provider_id, status, rank, error, now),
                )
            if error_code == OPTED_OUT_CODE:
                await db.execute(
                    "UPDATE identities SET opted_out_at = COALESCE(opted_out_at, ?) WHERE (channel, address) IN"
                    " (SELECT channel, address FROM outbox WHERE provider_id = ? AND channel IN ('sms', 'whatsapp'))",
                    (now, provider_id),
                )
            elif error_code in NOT_ON_WHATSAPP_CODES:
                await db.execute(
                    "UPDATE identities SET unreachable_at = COALESCE(unreachable_at, ?) WHERE channel = 'whatsapp'"
                    " AND address = (SELECT address FROM outbox WHERE provider_id = ? AND channel = 'whatsapp')",
                    (now, provider_id),
                )
        return moved


async def _advance(
    db: aiosqlite.Connection, provider_id: str, status: str, rank: int, error: str | None, now: str
) -> bool:
    """Move the row forward to ``status``; True when it moved (never back, never out of a final state)."""
    cursor = await db.execute(
        "UPDATE outbox SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE provider_id = ?"
        " AND (CASE status WHEN 'sending' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3"
        " WHEN 'read' THEN 4 END) < ?",  # undelivered, failed (final) and rows never sent: NULL
        (status, error, now, provider_id, rank),
    )
    return cursor.rowcount > 0


async def _resend_as_template(db: aiosqlite.Connection, provider_id: str, now: str) -> bool:
    """WhatsApp refused free text outside the 24 hours after accepting it: the row goes again, as a template.

    The window is closed on the identity, so the next try takes the template (or the other channel).
    """
    async with db.execute(
        "UPDATE outbox SET status = 'pending', provider_id = NULL, next_attempt_at = NULL, error = ?, updated_at = ?"
        " WHERE provider_id = ? AND channel = 'whatsapp' AND status IN ('sending', 'sent') RETURNING address",
        ("whatsapp 63016: outside the 24-hour window, sent again as a template", now, provider_id),
    ) as cursor:
        found = await cursor.fetchone()
    if found is None:
        return False
    await db.execute(
        "UPDATE identities SET last_inbound_at = NULL WHERE channel = 'whatsapp' AND address = ?", (found[0],)
    )
    return True


async def _known(db: aiosqlite.Connection, provider_id: str) -> bool:
    async with db.execute("SELECT 1 FROM outbox WHERE provider_id = ?", (provider_id,)) as cursor:
        return await cursor.fetchone() is not None


WAITING_CAUSE = "outbox:waiting:"  # the staff notice of a message that waits for its reader
OPTED_OUT_CODE = "21610"
OUTSIDE_WINDOW_CODE = "63016"  # WhatsApp: free text outside the 24 hours
NOT_ON_WHATSAPP_CODES = ("63003", "63024")  # WhatsApp: no account behind the number
EARLY_KEPT = timedelta(days=1)  # an early report for a message this outbox never sent is dropped then
# Twilio's statuses in the order a message goes through them (STACK-NOTES); the CASE in
# delivery_status ranks the outbox's own the same way. queued, accepted, scheduled and sending
# all come before the API's answer, which the outbox records as "sent": they change nothing.
DELIVERY_RANKS = {
    "queued": 0,
    "accepted": 0,
    "scheduled": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}
