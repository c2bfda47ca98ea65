"""A real ``voisins run`` killed with SIGKILL half-way through a broadcast, then started again, finishes it.

Nothing is lost: every recipient gets the announcement. A recipient can get it twice only if the
kill fell inside their request (the HTTP call and the write that records it): the rows left
``sending`` at the kill are exactly those, so duplicates are bounded by that count, read from the
database between the two runs.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from bot.clock import SystemClock, iso
from tests.commands import sending_env, spawn_bot, start_bot, terminate, voisins
from tests.conftest import eventually, opened_store
from tests.fakes.telegram_api import FakeTelegram, busiest
from tests.fakes.twilio_api import FakeTwilio

TELEGRAM_PEOPLE = 150
SMS_PEOPLE = 40
TELEGRAM_RATE = 30
SMS_RATE = 10


async def seed(database: Path) -> tuple[list[int], list[str]]:
    """Registered people, each reachable on one channel, written before the bot starts."""
    now = iso(SystemClock().now())
    chats = [8_000_000 + i for i in range(TELEGRAM_PEOPLE)]
    numbers = [f"+3363996{i:04d}" for i in range(SMS_PEOPLE)]
    identities = [("telegram", str(chat)) for chat in chats] + [("sms", number) for number in numbers]
    async with opened_store(database) as store, store.transaction() as db:
        for number, (channel, address) in enumerate(identities, start=1):
            await db.execute(
                "INSERT INTO persons (id, name, status, created_at) VALUES (?, 'Voisin', 'active', ?)",
                (number, now),
            )
            await db.execute("INSERT INTO person_roles (person_id, role) VALUES (?, 'resident')", (number,))
            await db.execute(
                "INSERT INTO identities (channel, address, person_id, created_at) VALUES (?, ?, ?, ?)",
                (channel, address, number, now),
            )
    return chats, numbers


async def cli(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    """``voisins broadcast ARGS``, which must succeed; what it printed."""
    ran = await voisins(tmp_path, "broadcast", *args, env=env)
    assert ran.code == 0, ran.err
    return ran.out


def rows_by_status(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())


async def test_a_killed_bot_finishes_the_broadcast_after_a_restart(tmp_path: Path) -> None:
    """SIGKILL half-way, start again: every recipient gets it, duplicates only from requests in flight at the kill."""
    database = tmp_path / "run.db"
    chats, numbers = await seed(database)
    async with FakeTelegram() as telegram, FakeTwilio(max_per_second=SMS_RATE) as twilio:
        telegram.limit_rate(per_second=TELEGRAM_RATE, per_chat_interval=1.0)
        env = sending_env(tmp_path, twilio, telegram, sms_rate=SMS_RATE, TELEGRAM_MAX_PER_SECOND=str(TELEGRAM_RATE))
        queued = await cli(
            tmp_path, env, "send", "--audience", "residents", "--text", "Fête jeudi", "--yes", "--no-wait"
        )
        assert f"Encore à envoyer : {TELEGRAM_PEOPLE + SMS_PEOPLE}" in queued

        first, _ = await spawn_bot(tmp_path, env)  # watched from its first message, not from /healthz
        try:
            await eventually(
                lambda: len(telegram.sent) >= TELEGRAM_PEOPLE // 2 or first.returncode is not None,
                what="half the Telegram sent",
            )
            assert first.returncode is None, "voisins run stopped by itself"
        finally:
            first.kill()
            await first.wait()
        in_flight = rows_by_status(database).get("sending", 0)
        half = len(telegram.sent) + len(twilio.messages)
        assert 0 < half < TELEGRAM_PEOPLE + SMS_PEOPLE, "not killed half-way"

        second, _ = await start_bot(tmp_path, env)
        try:
            await eventually(lambda: rows_by_status(database).keys() <= {"sent"}, what="every row sent")
            status = await cli(tmp_path, env, "status", "1")
        finally:
            await terminate(second)
        assert second.returncode == 0

    assert rows_by_status(database) == {"sent": TELEGRAM_PEOPLE + SMS_PEOPLE}
    assert "terminée" in status and f"Envoyés : {TELEGRAM_PEOPLE + SMS_PEOPLE} sur" in status
    received = Counter([m["chat_id"] for m in telegram.sent] + [m["To"] for m in twilio.messages])
    assert set(received) == set(chats) | set(numbers)  # nobody lost
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= in_flight  # only the requests in flight at the kill can be repeated
    assert telegram.throttled == [] and twilio.throttled == 0  # neither run broke a limit
    assert busiest(telegram.message_times()) <= TELEGRAM_RATE and busiest(twilio.stamps) <= SMS_RATE
