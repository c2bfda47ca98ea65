"""Plain functions the tests share to set a scene: people, a shift, rows read back from another process's database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path

import aiosqlite
from hypothesis import HealthCheck, settings

from bot import people
from bot.clock import iso
from bot.i18n import I18n
from bot.messages import Channel
from handlers.shifts import model
from tests.conftest import PARIS, Talk

# Hypothesis for batches of hostile input sent to one bot that runs the whole test: many examples,
# no deadline (a loaded machine), nothing remembered between runs, the fixture shared on purpose.
hostile_batches = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def rows(database: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows read by a plain sqlite3 connection: how a test looks into the database of another process."""
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


async def register_on(
    db: aiosqlite.Connection,
    now: datetime,
    name: str,
    roles: Iterable[str],
    channel: Channel,
    address: str,
    *,
    language: str | None = "fr",
    code: str | None = None,
) -> int:
    """A registered person with one identity, inside the caller's transaction, as staff register them.

    On WhatsApp, as it happens there: staff register the phone, and the person has written from it on
    WhatsApp (their opt-in, and the 24 hours open).
    """
    person_id = await people.register(db, now, name, roles, language, member_code=code)
    if channel is Channel.WHATSAPP:
        await people.attach_identity(db, now, person_id, Channel.SMS, address)
    await people.attach_identity(db, now, person_id, channel, address)
    if channel is Channel.WHATSAPP:
        await db.execute(
            "UPDATE identities SET opted_in_at = ?, last_inbound_at = ? WHERE channel = ? AND address = ?",
            (iso(now), iso(now), channel.value, address),
        )
    return person_id


async def register_here(
    talk: Talk,
    who: str,
    roles: Iterable[str],
    name: str = "Staff",
    code: str | None = None,
    language: str | None = "fr",
) -> int:
    """A registered person bound to ``who``'s address on the talk's own channel."""
    now = talk.core.clock.now()
    async with talk.core.store.transaction() as db:
        return await register_on(
            db, now, name, roles, talk.identity_channel, talk.address(who), language=language, code=code
        )


async def conciergerie_shift(
    db: aiosqlite.Connection,
    now: datetime,
    i18n: I18n,
    day: date,
    start: str,
    end: str,
    *workers: int,
    capacity: int,
    coordinator_id: int | None = None,
    activity: str = "Nettoyage des locaux",
) -> model.Shift:
    """A shift at the Conciergerie (no demo shift there), inside the caller's transaction, ``workers`` told at once."""
    activity_id, _ = await model.ensure_activity(db, now, activity)
    place_id, _ = await model.ensure_place(db, now, "Conciergerie")
    shift, _ = await model.create_shift(
        db,
        now,
        PARIS,
        activity_id=activity_id,
        place_id=place_id,
        day=day,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        capacity=capacity,
        coordinator_id=coordinator_id,
    )
    for worker in workers:
        await model.assign(db, now, i18n, shift.id, worker)
    return shift
