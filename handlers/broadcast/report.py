"""Where a broadcast stands: its counts from the outbox, as text, and the staff's progress message.

On Telegram the staff who confirmed get a message that the running bot edits in place through the
outbox (:meth:`bot.outbox.Outbox.edit`, under the channel's limits) until it shows the final report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import iso
from bot.i18n import I18n
from bot.messages import Channel, Choice
from bot.outbox import Edit, Outbox
from bot.store import Store
from handlers.broadcast.audience import CHANNELS, main_language, skip_reasons
from handlers.broadcast.queue import FINISHED, PROGRESS_CAUSE, Broadcast, get, mark_done
from handlers.broadcast.words import excerpt, local_time, number

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 3.0  # at most one edit of a progress message every 3 s (Telegram frowns on more)


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
        lines.append(f"« {excerpt(b.texts[main_language(b.texts)])} »")
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
    reasons = skip_reasons(i18n, language, report.skipped)
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
            i18n.plural(
                language,
                "broadcast.report_held",
                report.held,
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
                text=excerpt(b.texts[main_language(b.texts)], 40),
            )
        )
    return "\n".join(lines)


class ProgressMessages:
    """The staff's progress messages: edited at most every :data:`PROGRESS_SECONDS`; the last edit is the report."""

    def __init__(self, store: Store, i18n: I18n) -> None:
        self.store = store
        self.i18n = i18n  # the configured catalogs: the hook runs outside any conversation
        self._last_edit: dict[int, float] = {}

    def due(self, broadcast_id: int) -> bool:
        return asyncio.get_running_loop().time() - self._last_edit.get(broadcast_id, -1e9) >= PROGRESS_SECONDS

    async def show(self, outbox: Outbox, current: Report, now: datetime) -> None:
        """Edit the message to show ``current``; with a Stop button until the broadcast is finished."""
        b = current.broadcast
        if b.progress_chat is None or Channel.TELEGRAM not in outbox.senders:
            return
        sent = await self.store.fetchone(
            "SELECT status, provider_id FROM outbox WHERE cause = ? AND channel = 'telegram' AND address = ?",
            (f"{PROGRESS_CAUSE}{b.id}", b.progress_chat),
        )
        if sent is None or sent["status"] in ("failed", "skipped", "cancelled"):
            await self._done(b.id, b.progress_text)  # nowhere to show it
            return
        if sent["provider_id"] is None:
            return  # the progress message itself has not gone yet
        i18n = self.i18n
        language = b.progress_language or i18n.default_language
        final = current.finished
        text = i18n.t(
            language,
            "broadcast.progress_done" if final else "broadcast.progress_running",
            report=render_report(i18n, language, current, now, texts=False),
        )
        if text == b.progress_text and not final:
            return
        stop = () if final else (Choice(f"broadcast.cancel:{b.id}", i18n.t(language, "broadcast.stop")),)
        edited = await outbox.edit(Channel.TELEGRAM, b.progress_chat, str(sent["provider_id"]), text, stop)
        if edited is Edit.BUSY:
            return
        self._last_edit[b.id] = asyncio.get_running_loop().time()
        if edited is Edit.RETRY:
            return
        if edited is Edit.NEVER:
            log.warning("broadcast %s: the progress message cannot be edited any more", b.id)
        if final or edited is Edit.NEVER:
            await self._done(b.id, text)
        else:
            await self.store.execute("UPDATE broadcasts SET progress_text = ? WHERE id = ?", (text, b.id))

    async def _done(self, broadcast_id: int, text: str | None) -> None:
        await self.store.execute(
            "UPDATE broadcasts SET progress_text = ?, progress_final = 1 WHERE id = ?", (text, broadcast_id)
        )
        self._last_edit.pop(broadcast_id, None)
