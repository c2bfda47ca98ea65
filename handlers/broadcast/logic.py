"""Staff broadcasts: the audience, the preview, queuing in batches, quiet hours, cancelling, the report.

Shared by the chat (``handlers/broadcast``) and the command line (``voisins broadcast``), so both
count, price and word things the same way. A broadcast's messages are ordinary outbox rows with
cause ``broadcast:<id>``, one per person: the outbox's unique (cause, channel, address) makes
every recipient get it once, and its senders keep each channel's rate limits.

Memory stays flat whatever the audience: the preview is one aggregate query, and recipients are
queued by ``INSERT ... SELECT`` in keyset batches of persons (a window function picks each
person's identity), each batch its own short transaction, so the bot keeps answering while a
large broadcast is queued and a crash resumes at the last batch.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiosqlite
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

from bot.clock import Clock, iso
from bot.i18n import I18n
from bot.messages import Channel, Choice, Reply
from bot.outbox import Hold, Row, cancel_cause, enqueue
from bot.sms_text import MAX_BODY, is_gsm, render_reply, segments
from bot.store import Store
from bot.text import fold

if TYPE_CHECKING:
    from bot.outbox import Outbox

log = logging.getLogger(__name__)

CAUSE = "broadcast:"
PROGRESS_CAUSE = "broadcast-progress:"
MAIN_LANGUAGE = "fr"  # the first text: the site's language, and what a person with no language gets
MAX_TEXT = MAX_BODY  # an SMS body above 1600 characters is refused by Twilio (21617)
EXPAND_BATCH = 2000  # persons per transaction: a few tens of milliseconds of the writer's lock
PROGRESS_SECONDS = 3.0  # at most one edit of a progress message every 3 s (Telegram frowns on more)
DRAFT_KEPT = timedelta(days=1)  # a preview nobody answered is forgotten after a day

GROUP_ROLES: dict[str, tuple[str, ...]] = {
    "residents": ("resident",),
    "workers": ("worker",),
    "volunteers": ("volunteer",),
    "staff": ("staff", "admin"),
}
CHANNELS = (Channel.TELEGRAM.value, Channel.SMS.value)
SKIP_REASONS = ("opted_out", "unreachable", "no_channel")
ACTIVE = ("confirmed", "sending")
FINISHED = ("done", "cancelled")

# What staff may type for an audience (folded): ``residents sms``, ``benevoles en``, ``tous``.
_WORDS: dict[str, tuple[str, str]] = {}
for _kind, _value, _synonyms in (
    ("group", "everyone", "everyone all tous tout toutes monde tlm everybody"),
    ("group", "residents", "residents resident residentes residente hebergees heberges"),
    ("group", "workers", "workers worker salaries salarie salariees conciergerie travailleurs travail"),
    ("group", "volunteers", "volunteers volunteer benevoles benevole"),
    ("group", "staff", "staff equipe team equipes"),
    ("language", "fr", "fr francais french francophones francophone"),
    ("language", "en", "en anglais english anglophones anglophone"),
    ("channel", "telegram", "telegram tg"),
    ("channel", "sms", "sms texto textos"),
):
    for _word in _synonyms.split():
        _WORDS[_word] = (_kind, _value)
_FILLER = frozenset({"le", "la", "les", "de", "des", "du", "par", "seulement", "only", "by", "via", "et", "and", "a"})


class BroadcastError(ValueError):
    """A text or an audience that cannot be used; ``key`` is a catalog message id (chat and CLI say the same)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# Audience --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who gets it: a group, optionally narrowed to one language and one channel."""

    group: str = "everyone"
    language: str | None = None
    channel: str | None = None

    @classmethod
    def parse(cls, text: str) -> Audience:
        """``residents,sms``, ``bénévoles en``, ``tout le monde``, ``telegram`` (everyone by Telegram)."""
        found: dict[str, str] = {}
        words = [word for word in fold(text.replace(",", " ").replace("+", " ")).split() if word not in _FILLER]
        # "en" is English, or the French "en" of "en anglais" / "par SMS en français".
        if "en" in words and any(_WORDS.get(w, ("", ""))[0] == "language" for w in words if w != "en"):
            words = [word for word in words if word != "en"]
        for word in words:
            meaning = _WORDS.get(word)
            if meaning is None:
                raise BroadcastError("broadcast.bad_audience", value=word[:20])
            kind, value = meaning
            if found.get(kind, value) != value:
                raise BroadcastError("broadcast.bad_audience", value=word[:20])
            found[kind] = value
        if not found:
            raise BroadcastError("broadcast.bad_audience", value=text.strip()[:20])
        return cls(found.get("group", "everyone"), found.get("language"), found.get("channel"))

    def __str__(self) -> str:
        return ",".join(part for part in (self.group, self.language, self.channel) if part)

    def describe(self, i18n: I18n, language: str) -> str:
        parts = [i18n.t(language, f"broadcast.group_{self.group}")]
        if self.language:
            parts.append(i18n.t(language, f"broadcast.only_language_{self.language}"))
        if self.channel:
            parts.append(i18n.t(language, f"broadcast.only_channel_{self.channel}"))
        return ", ".join(parts)


# Each person of the audience with their identities on the allowed channels (found by person,
# through identities_person), ranked by a window function: reachable first, Telegram before SMS,
# and the first of them kept. A person with no such identity keeps one row of NULLs. Only the
# fixed fragments below are put into the text; every value is a parameter.
_AUDIENCE_SQL = """
SELECT person_id, lang, channel, address,
       CASE WHEN identity_id IS NULL THEN 'no_channel' WHEN reachable THEN NULL
            WHEN any_opted_out THEN 'opted_out' ELSE 'unreachable' END AS skip
FROM (
    SELECT p.id AS person_id, COALESCE(p.language, :fallback) AS lang,
           i.id AS identity_id, i.channel AS channel, i.address AS address,
           (i.opted_out_at IS NULL AND i.unreachable_at IS NULL) AS reachable,
           MAX(i.opted_out_at IS NOT NULL) OVER (PARTITION BY p.id) AS any_opted_out,
           ROW_NUMBER() OVER (
               PARTITION BY p.id
               ORDER BY (i.opted_out_at IS NULL AND i.unreachable_at IS NULL) DESC,
                        CASE i.channel WHEN 'telegram' THEN 0 ELSE 1 END, i.id
           ) AS rank
    FROM persons p
    LEFT JOIN identities i ON i.person_id = p.id AND i.channel IN ({channels})
    WHERE p.status = 'active' AND p.id > :after AND p.id <= :upto {filters}
)
WHERE rank = 1 {required}"""
_ROLE_FILTER = "AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.role IN ({roles}))"
_LANGUAGE_FILTER = "AND COALESCE(p.language, :fallback) = :only_language"
_INSERT_SQL = """
INSERT OR IGNORE INTO outbox (cause, channel, address, person_id, body, choices, due_at, created_at, updated_at)
SELECT :cause, a.channel, a.address, a.person_id, CASE a.lang {cases} ELSE :main_text END, '[]',
       CASE WHEN a.channel = 'sms' THEN :sms_due ELSE :now END, :now, :now
FROM ({query}) AS a WHERE a.skip IS NULL ORDER BY a.person_id"""


def _audience_query(audience: Audience, params: dict[str, Any]) -> str:
    """(person_id, lang, channel, address, skip) for each person of the audience with ids in (:after, :upto].

    ``skip`` is NULL for a person reached on ``channel``/``address`` (their best reachable identity:
    Telegram before SMS), else why not: opted_out, unreachable, no_channel. Only fixed fragments
    and placeholders are put into the text; every value is a parameter.
    """
    filters = []
    if audience.group != "everyone":
        roles = GROUP_ROLES[audience.group]
        params.update({f"role{i}": role for i, role in enumerate(roles)})
        filters.append(_ROLE_FILTER.format(roles=", ".join(f":role{i}" for i in range(len(roles)))))
    if audience.language:
        params["only_language"] = audience.language
        filters.append(_LANGUAGE_FILTER)
    channels = [audience.channel] if audience.channel else list(CHANNELS)
    params.update({f"channel{i}": channel for i, channel in enumerate(channels)})
    params.setdefault("fallback", MAIN_LANGUAGE)
    return _AUDIENCE_SQL.format(
        filters=" ".join(filters),
        channels=", ".join(f":channel{i}" for i in range(len(channels))),
        # With a channel named, people who have no identity on it are not in the audience at all.
        required="AND identity_id IS NOT NULL" if audience.channel else "",
    )


# Texts, SMS segments, quiet hours ----------------------------------------------------------------


def check_text(text: str) -> str:
    """The text as it will be sent (trimmed), or :class:`BroadcastError` saying what is wrong with it."""
    text = text.strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise BroadcastError("broadcast.empty_text")
    if text.startswith("/"):
        raise BroadcastError("broadcast.command_text")
    if len(text) > MAX_TEXT:
        raise BroadcastError("broadcast.long_text", max=MAX_TEXT, length=len(text))
    return text


def texts_of(french: str, english: str | None = None) -> dict[str, str]:
    texts = {MAIN_LANGUAGE: check_text(french)}
    if english is not None and english.strip():
        texts["en"] = check_text(english)
    return texts


@dataclass(frozen=True)
class SmsText:
    """One text as an SMS: what is typed, what leaves (GSM-7, like every SMS answer) and what it costs."""

    language: str
    typed: str
    sent: str
    segments: int
    typed_segments: int  # the typed text kept as it is: UCS-2 when one character is outside GSM-7
    outside: str  # the typed characters GSM-7 lacks, e.g. "ê ’"
    lost: bool  # some became "?" (emoji, symbols): the wording should change

    @classmethod
    def of(cls, language: str, typed: str) -> SmsText:
        sent = render_reply(Reply(typed))[:MAX_BODY]
        outside: list[str] = []
        for ch in typed:
            if not ch.isspace() and not is_gsm(ch) and ch not in outside:
                outside.append(ch)
        return cls(
            language=language,
            typed=typed,
            sent=sent,
            segments=segments(sent).count,
            typed_segments=segments(typed).count,
            outside=" ".join(outside[:12]),
            lost="?" in sent and sent.count("?") > typed.count("?"),
        )

    @property
    def would_be_ucs2(self) -> bool:
        return bool(self.outside)


@dataclass(frozen=True)
class QuietHours:
    """Local hours when broadcast SMS wait (default 21:00-08:00): across midnight when start > end."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        if not text or not text.strip():
            return None
        start, _, end = text.strip().partition("-")
        hours = cls(time.fromisoformat(start), time.fromisoformat(end))
        return None if hours.start == hours.end else hours

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def until(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The end of the quiet hours ``now`` is in (UTC), or None outside them; DST-proof."""
        local = now.astimezone(tz)
        moment = local.time().replace(tzinfo=None)
        if self.start > self.end:
            inside = moment >= self.start or moment < self.end
        else:
            inside = self.start <= moment < self.end
        if not inside:
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        return end.astimezone(UTC)


# Preview ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    audience: Audience
    by_channel: dict[str, int]
    skipped: dict[str, int]
    sms: list[tuple[SmsText, int]]  # per text actually sent by SMS: the text and how many get it
    price: float
    sms_wait_until: datetime | None  # quiet hours now: SMS leave then (not urgent)

    @property
    def people(self) -> int:
        return sum(self.by_channel.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def segments(self) -> int:
        return sum(text.segments * count for text, count in self.sms)

    @property
    def cost(self) -> float:
        return self.segments * self.price


def _text_language(language: str, texts: dict[str, str]) -> str:
    return language if language in texts else MAIN_LANGUAGE


async def preview(
    store: Store,
    now: datetime,
    texts: dict[str, str],
    audience: Audience,
    *,
    price: float,
    quiet: QuietHours | None,
    tz: ZoneInfo,
    urgent: bool = False,
) -> Preview:
    """Who would get it now, on which channel, who would not and why, and what the SMS cost."""
    params: dict[str, Any] = {"after": 0, "upto": 2**63 - 1}
    sql = f"SELECT channel, lang, skip, COUNT(*) AS n FROM ({_audience_query(audience, params)}) GROUP BY 1, 2, 3"  # noqa: S608
    by_channel = {channel: 0 for channel in ([audience.channel] if audience.channel else CHANNELS)}
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    sms_people: dict[str, int] = {}
    for row in await store.fetchall(sql, params):
        if row["skip"] is not None:
            skipped[row["skip"]] += row["n"]
            continue
        by_channel[row["channel"]] = by_channel.get(row["channel"], 0) + row["n"]
        if row["channel"] == Channel.SMS.value:
            language = _text_language(row["lang"], texts)
            sms_people[language] = sms_people.get(language, 0) + row["n"]
    sms = [(SmsText.of(language, texts[language]), count) for language, count in sorted(sms_people.items())]
    wait = quiet.until(now, tz) if quiet is not None and not urgent and sms_people else None
    return Preview(audience, by_channel, skipped, sms, price, wait)


# The broadcast row -----------------------------------------------------------------------------


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
            audience=Audience.parse(row["audience"]),
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
) -> int:
    """A broadcast nobody has confirmed yet: the preview shows its number, its buttons carry it."""
    async with store.transaction() as db:
        if created_by is not None:  # the same staff member's unanswered previews are abandoned
            await db.execute("DELETE FROM broadcasts WHERE status = 'draft' AND created_by = ?", (created_by,))
        cursor = await db.execute(
            "INSERT INTO broadcasts (texts, audience, urgent, timezone, status, created_by, created_at)"
            " VALUES (?, ?, ?, ?, 'draft', ?, ?)",
            (json.dumps(texts, ensure_ascii=False), str(audience), int(urgent), timezone, created_by, iso(now)),
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


async def confirm(
    store: Store,
    now: datetime,
    broadcast_id: int,
    *,
    quiet: QuietHours | None,
    progress: ProgressMessage | None = None,
) -> bool:
    """Draft to confirmed, once (a second OUI changes nothing); False when it was not a draft.

    ``progress`` queues the staff's progress message in the same transaction: the outbox sends it
    before the broadcast's rows, then the running bot edits it in place.
    """
    async with store.transaction() as db:
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
    """
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
    query = _audience_query(broadcast.audience, params)
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
        main_text=broadcast.texts[MAIN_LANGUAGE],
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
    """Stop a broadcast: what is not sent yet is not sent; a request in flight finishes.

    One transaction marks the broadcast and every pending row, so the outbox (in this process or
    in ``voisins run``) claims none of them afterwards, and queuing stops before its next batch.
    """
    async with store.transaction() as db:
        async with db.execute("SELECT status FROM broadcasts WHERE id = ?", (broadcast_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None or row["status"] == "draft":
            return Cancelled(None, 0, False)
        if row["status"] in FINISHED:
            stopped, already = 0, True
        else:
            stopped, already = await cancel_cause(db, now, f"{CAUSE}{broadcast_id}"), False
            await db.execute(
                "UPDATE broadcasts SET status = 'cancelled', cancelled_at = ?, cancelled_by = ? WHERE id = ?",
                (iso(now), by, broadcast_id),
            )
    if not already:
        log.info("broadcast %s cancelled (%d messages not sent)", broadcast_id, stopped)
    return Cancelled(await get(store, broadcast_id), stopped, already)


# Report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """Where a broadcast stands; every queued row is in exactly one of sent, failed, skipped, cancelled, waiting."""

    broadcast: Broadcast
    by_channel: dict[str, int] = field(default_factory=dict)  # rows queued per channel
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    sent: int = 0  # accepted by Telegram or Twilio (delivered included)
    delivered: int = 0  # SMS the network confirmed (Twilio's status callback)
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # not queued, or not sent when their turn came
    cancelled: int = 0
    waiting: int = 0  # not sent yet (retries and quiet hours included)
    held: int = 0  # waiting for the end of the quiet hours
    held_until: datetime | None = None

    @property
    def queued(self) -> int:
        return sum(self.by_channel.values())

    @property
    def handled(self) -> int:
        return self.queued - self.waiting

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def finished(self) -> bool:
        return self.broadcast.status in FINISHED and self.waiting == 0


_SEND_SKIPS = {"opted out": "opted_out", "unreachable": "unreachable", "no identity": "no_channel"}


async def report(store: Store, now: datetime, broadcast_id: int) -> Report | None:
    """The counts of a broadcast from its outbox rows; a sending broadcast with nothing left is marked done."""
    broadcast = await get(store, broadcast_id)
    if broadcast is None:
        return None
    if broadcast.status == "sending" and await mark_done(store, now, broadcast_id):
        broadcast = await get(store, broadcast_id)
        assert broadcast is not None
    rows = await store.fetchall(
        "SELECT channel, status, CASE WHEN status = 'skipped' THEN error END AS why, COUNT(*) AS n,"
        " SUM(status = 'pending' AND due_at > :now) AS later,"
        " MIN(CASE WHEN status = 'pending' AND due_at > :now THEN due_at END) AS next_due"
        " FROM outbox WHERE cause = :cause GROUP BY 1, 2, 3",
        {"cause": broadcast.cause, "now": iso(now)},
    )
    by_channel: dict[str, int] = {}
    sent_by_channel: dict[str, int] = {}
    skipped = dict(broadcast.skipped)
    sent = delivered = failed = cancelled = waiting = held = 0
    held_until: datetime | None = None
    for row in rows:
        channel, status, n = row["channel"], row["status"], row["n"]
        by_channel[channel] = by_channel.get(channel, 0) + n
        if status in ("sent", "delivered", "read"):
            sent += n
            sent_by_channel[channel] = sent_by_channel.get(channel, 0) + n
            delivered += n if status in ("delivered", "read") else 0
        elif status in ("failed", "undelivered"):
            failed += n
        elif status == "skipped":
            reason = _SEND_SKIPS.get(row["why"] or "", "unreachable")
            skipped[reason] = skipped.get(reason, 0) + n
        elif status == "cancelled":
            cancelled += n
        else:  # pending, sending
            waiting += n
            held += row["later"] or 0
            if row["next_due"]:
                due = datetime.fromisoformat(row["next_due"])
                held_until = due if held_until is None else min(held_until, due)
    return Report(
        broadcast=broadcast,
        by_channel=by_channel,
        sent_by_channel=sent_by_channel,
        sent=sent,
        delivered=delivered,
        failed=failed,
        skipped=skipped,
        cancelled=cancelled,
        waiting=waiting,
        held=held,
        held_until=held_until,
    )


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


# Words -----------------------------------------------------------------------------------------


@functools.cache
def catalogs() -> I18n:
    """The catalogs for the outbox's hook, which runs outside any conversation; read once."""
    return I18n(MAIN_LANGUAGE)


def number(value: float, language: str) -> str:
    return format_decimal(value, locale=language)


def money(value: float, language: str) -> str:
    return format_currency(value, "EUR", locale=language)


def local_time(when: datetime, tz: ZoneInfo, language: str, now: datetime | None = None) -> str:
    """``08:00``, or ``26/11 08:00`` when it is not today."""
    local = when.astimezone(tz)
    if now is not None and local.date() == now.astimezone(tz).date():
        return f"{local:%H:%M}"
    return format_datetime(local, "dd/MM HH:mm", tzinfo=tz, locale=language)


def excerpt(text: str, size: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1].rstrip() + "…"


def render_preview(
    i18n: I18n, language: str, broadcast_id: int, preview: Preview, *, urgent: bool, tz: ZoneInfo
) -> str:
    """The preview staff confirm: how many per channel, who is left out and why, SMS segments, cost, quiet hours."""

    def t(key: str, **params: object) -> str:
        return i18n.t(language, key, **params)

    lines = [t("broadcast.preview_title", id=broadcast_id, audience=preview.audience.describe(i18n, language))]
    lines.append(t("broadcast.preview_people", count=number(preview.people, language)))
    for channel, count in preview.by_channel.items():
        if count or preview.audience.channel:
            lines.append(t(f"broadcast.preview_{channel}", count=number(count, language)))
    for text, count in preview.sms:
        lines.append(
            t(
                "broadcast.preview_sms_text",
                language_name=t(f"broadcast.language_{text.language}"),
                count=number(count, language),
                segments=text.segments,
            )
        )
    if preview.sms:
        lines.append(
            t(
                "broadcast.preview_cost",
                segments=number(preview.segments, language),
                cost=money(preview.cost, language),
                price=money(preview.price, language),
            )
        )
    if preview.skipped_total:
        reasons = ", ".join(
            t(f"broadcast.skip_{reason}", count=number(count, language))
            for reason, count in preview.skipped.items()
            if count
        )
        lines.append(t("broadcast.preview_skipped", count=number(preview.skipped_total, language), reasons=reasons))
    for text, _ in preview.sms:
        if text.would_be_ucs2:
            lines.append(
                t(
                    "broadcast.preview_ucs2",
                    language_name=t(f"broadcast.language_{text.language}"),
                    chars=text.outside,
                    typed_segments=text.typed_segments,
                    segments=text.segments,
                    sent=text.sent,
                )
            )
        if text.lost:
            lines.append(t("broadcast.preview_lost"))
    if preview.sms_wait_until is not None:
        lines.append(t("broadcast.preview_quiet", at=local_time(preview.sms_wait_until, tz, language)))
    elif urgent and preview.sms:
        lines.append(t("broadcast.preview_urgent"))
    return "\n".join(lines)


def render_report(i18n: I18n, language: str, report: Report, now: datetime, *, texts: bool = True) -> str:
    """Status, sent (delivered), failed, skipped and why, cancelled, still waiting (and until when)."""

    def t(key: str, **params: object) -> str:
        return i18n.t(language, key, **params)

    b = report.broadcast
    tz = b.timezone
    lines = [
        t(
            "broadcast.report_title",
            id=b.id,
            status=t(f"broadcast.status_{b.status}"),
            audience=b.audience.describe(i18n, language),
            when=local_time(b.confirmed_at or b.created_at, tz, language),
        )
    ]
    if texts:
        lines.append(f"« {excerpt(b.texts[MAIN_LANGUAGE])} »")
    per_channel = ", ".join(
        f"{t(f'broadcast.channel_{channel}')} {number(report.sent_by_channel.get(channel, 0), language)}"
        f"/{number(count, language)}"
        for channel, count in sorted(report.by_channel.items(), key=lambda item: CHANNELS.index(item[0]))
    )
    lines.append(
        t(
            "broadcast.report_sent",
            sent=number(report.sent, language),
            queued=number(report.queued, language),
            channels=per_channel or "-",
        )
    )
    if report.delivered:
        lines.append(t("broadcast.report_delivered", count=number(report.delivered, language)))
    lines.append(t("broadcast.report_failed", count=number(report.failed, language)))
    reasons = ", ".join(
        t(f"broadcast.skip_{reason}", count=number(count, language))
        for reason, count in report.skipped.items()
        if count
    )
    lines.append(
        t("broadcast.report_skipped", count=number(report.skipped_total, language), reasons=reasons or "-")
        if report.skipped_total
        else t("broadcast.report_none_skipped")
    )
    if report.cancelled:
        lines.append(t("broadcast.report_cancelled", count=number(report.cancelled, language)))
    if b.status == "confirmed":
        lines.append(t("broadcast.report_queuing"))
    if report.waiting:
        lines.append(t("broadcast.report_waiting", count=number(report.waiting, language)))
    if report.held and report.held_until is not None:
        lines.append(
            t(
                "broadcast.report_held",
                count=number(report.held, language),
                at=local_time(report.held_until, tz, language, now),
            )
        )
    return "\n".join(lines)


def render_list(i18n: I18n, language: str, reports: Iterable[Report]) -> str:
    lines = []
    for r in reports:
        b = r.broadcast
        lines.append(
            i18n.t(
                language,
                "broadcast.list_line",
                id=b.id,
                when=local_time(b.confirmed_at or b.created_at, b.timezone, language),
                status=i18n.t(language, f"broadcast.status_{b.status}"),
                sent=number(r.sent, language),
                queued=number(r.queued, language),
                text=excerpt(b.texts[MAIN_LANGUAGE], 40),
            )
        )
    return "\n".join(lines)


# The running outbox's hook -----------------------------------------------------------------------


class BroadcastDriver:
    """What the running bot does for broadcasts, as an outbox hook (registered with ``router.outbox_hook``).

    ``hold``: a broadcast SMS claimed inside quiet hours waits for their end (its siblings with it),
    unless the broadcast is urgent; a row of a cancelled broadcast (a retry that came back after the
    cancel) is never sent. ``tick``: queue what a crash or the command line left unqueued, mark
    finished broadcasts done, and edit each Telegram progress message in place.
    """

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._last_edit: dict[int, float] = {}
        self._last_cleanup = 0.0

    async def hold(self, row: Row, now: datetime) -> Hold | None:
        broadcast_id = cause_id(row.cause)
        if broadcast_id is None:
            return None
        found = await self.store.fetchone(
            "SELECT status, urgent, quiet_hours, timezone FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        if found is None or found["status"] == "cancelled":
            return Hold(status="cancelled", reason="broadcast cancelled")
        if row.channel is not Channel.SMS or found["urgent"]:
            return None
        quiet = QuietHours.parse(found["quiet_hours"])
        until = quiet.until(now, ZoneInfo(found["timezone"])) if quiet else None
        if until is None:
            return None
        moved = await self.store.execute(
            "UPDATE outbox SET due_at = ?, updated_at = ? WHERE cause = ? AND channel = 'sms' AND status = 'pending'"
            " AND due_at < ?",
            (iso(until), iso(now), row.cause, iso(until)),
        )
        log.info("broadcast %s: quiet hours, %d SMS wait until %s", broadcast_id, moved + 1, iso(until))
        return Hold(until=until)

    async def tick(self, outbox: Outbox) -> None:
        now = self.clock.now()
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_cleanup > 3600:
            self._last_cleanup = loop.time()
            await self.store.execute(
                "DELETE FROM broadcasts WHERE status = 'draft' AND created_at < ?", (iso(now - DRAFT_KEPT),)
            )
        rows = await self.store.fetchall(
            "SELECT id, status, progress_chat IS NOT NULL AND progress_final = 0 AS progress FROM broadcasts"
            " WHERE status IN ('confirmed', 'sending') OR (progress_chat IS NOT NULL AND progress_final = 0"
            " AND status IN ('done', 'cancelled'))"
        )
        for row in rows:
            broadcast_id, status = row["id"], row["status"]
            if status == "confirmed":
                await expand(self.store, self.clock, broadcast_id, budget=0.5)
                outbox.wake()
            elif status == "sending" and await mark_done(self.store, now, broadcast_id):
                status = "done"
            if not row["progress"]:
                continue
            due = loop.time() - self._last_edit.get(broadcast_id, -1e9) >= PROGRESS_SECONDS
            if due or status in FINISHED:
                current = await report(self.store, now, broadcast_id)
                if current is not None:
                    await self._edit_progress(outbox, current, now)

    async def _edit_progress(self, outbox: Outbox, current: Report, now: datetime) -> None:
        """Edit the staff's progress message under the outbox's limits; the last edit is the report."""
        from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
        from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

        b = current.broadcast
        bot = getattr(outbox.senders.get(Channel.TELEGRAM), "bot", None)
        if not isinstance(bot, Bot) or b.progress_chat is None:
            return
        sent = await self.store.fetchone(
            "SELECT status, provider_id FROM outbox WHERE cause = ? AND channel = 'telegram' AND address = ?",
            (f"{PROGRESS_CAUSE}{b.id}", b.progress_chat),
        )
        if sent is None or sent["status"] in ("failed", "skipped", "cancelled"):
            await self._progress_done(b.id, b.progress_text)  # nowhere to show it
            return
        if sent["provider_id"] is None:
            return  # the progress message itself has not gone yet
        language = b.progress_language or MAIN_LANGUAGE
        i18n = catalogs()
        final = current.finished
        text = i18n.t(
            language,
            "broadcast.progress_done" if final else "broadcast.progress_running",
            report=render_report(i18n, language, current, now, texts=False),
        )
        if text == b.progress_text and not final:
            return
        markup = None
        if not final:
            button = InlineKeyboardButton(i18n.t(language, "broadcast.stop"), callback_data=f"broadcast.cancel:{b.id}")
            markup = InlineKeyboardMarkup([[button]])
        async with outbox.direct(Channel.TELEGRAM, b.progress_chat) as allowed:
            if not allowed:
                return
            self._last_edit[b.id] = asyncio.get_running_loop().time()
            try:
                await bot.edit_message_text(
                    text=text, chat_id=int(b.progress_chat), message_id=int(sent["provider_id"]), reply_markup=markup
                )
            except RetryAfter as exc:
                wait = exc.retry_after
                outbox.pause(Channel.TELEGRAM, wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
                return
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    log.warning("broadcast %s: the progress message cannot be edited (%s)", b.id, type(exc).__name__)
                    final = True
            except Forbidden:
                final = True
            except TelegramError as exc:
                log.warning("broadcast %s: progress edit failed (%s), tried again", b.id, type(exc).__name__)
                return
        if final:
            await self._progress_done(b.id, text)
        else:
            await self.store.execute("UPDATE broadcasts SET progress_text = ? WHERE id = ?", (text, b.id))

    async def _progress_done(self, broadcast_id: int, text: str | None) -> None:
        await self.store.execute(
            "UPDATE broadcasts SET progress_text = ?, progress_final = 1 WHERE id = ?", (text, broadcast_id)
        )
        self._last_edit.pop(broadcast_id, None)
