"""One ``voisins run`` per database: a second one stops at once, before its outbox recovers anything.

Two bots on one database sent SMS twice (the second one's recovery put the first one's ``sending``
rows back to ``pending``) and at twice ``SMS_MAX_PER_SECOND``. The lock is ``flock`` on
``<database>.lock``: the kernel drops it when the holder dies, even by SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.startup import StartupError, instance_lock, lock_path
from tests.commands import bot_env, free_port, start_bot, voisins
from tests.fakes import twilio_webhook as tw


def sms_env(tmp_path: Path) -> dict[str, str]:
    """A deployment on SMS; Twilio's API at a closed loopback port, so nothing leaves the machine."""
    return bot_env(
        tmp_path,
        TWILIO_ACCOUNT_SID=tw.ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=tw.AUTH_TOKEN,
        TWILIO_FROM_NUMBER=tw.BOT_NUMBER,
        TWILIO_API_URL=f"http://127.0.0.1:{free_port()}",
        PUBLIC_URL=tw.PUBLIC_URL,
    )


def in_flight_sms(database: Path) -> int:
    """An SMS the running bot is sending right now (status ``sending``), as its outbox leaves it mid-request."""
    now = "2026-11-25T09:00:00+00:00"
    with sqlite3.connect(database, timeout=30) as db:
        cursor = db.execute(
            "INSERT INTO outbox (cause, channel, address, body, due_at, status, attempts, created_at, updated_at)"
            " VALUES ('test:in-flight', 'sms', '+33639980777', 'Rappel', ?, 'sending', 1, ?, ?)",
            (now, now, now),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def status(database: Path, row_id: int) -> str:
    with sqlite3.connect(database, timeout=30) as db:
        (found,) = db.execute("SELECT status FROM outbox WHERE id = ?", (row_id,)).fetchone()
    return str(found)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=60)


def test_a_second_holder_is_refused_with_the_file_and_the_pid(tmp_path: Path) -> None:
    """While the lock is held, taking it again fails naming the database and the holder's PID; then it is free."""
    database = tmp_path / "var" / "voisins.db"
    with instance_lock(database) as held:
        assert held == lock_path(database)
        assert held.read_text().strip() == str(os.getpid())
        with pytest.raises(StartupError) as refused, instance_lock(database):
            pass
        message = str(refused.value)
        assert str(database.resolve()) in message
        assert f"PID {os.getpid()}" in message
        assert "DATABASE_PATH" in message
    with instance_lock(tmp_path / "var" / ".." / "var" / "voisins.db"):  # the same file by another path
        pass


async def test_a_second_run_stops_at_once_and_the_other_commands_work_beside(tmp_path: Path) -> None:
    """A second ``voisins run`` exits 1 naming the database and the first one's PID, and leaves its SMS alone."""
    env = sms_env(tmp_path)
    database = tmp_path / "run.db"
    first, _ = await start_bot(tmp_path, env)
    try:
        row = in_flight_sms(database)

        second = await voisins(tmp_path, "run", env={**env, "HTTP_PORT": str(free_port())})

        assert second.code == 1
        lines = [line for line in second.err.splitlines() if line.strip()]
        assert len(lines) == 1, second.err
        assert str(database.resolve()) in lines[0]
        assert f"PID {first.pid}" in lines[0]
        assert status(database, row) == "sending"  # no recovery: the SMS is not sent a second time

        chat = await voisins(tmp_path, "chat", stdin=b"aide\n/quit\n", env=env)
        assert chat.code == 0, chat.err
        assert "crivez votre question" in chat.out
        listed = await voisins(tmp_path, "people", "list", env=env)
        assert listed.code == 0, listed.err
        assert status(database, row) == "sending"  # neither recovers the running bot's rows
        assert first.returncode is None
    finally:
        await stop(first)
    assert first.returncode == 0


async def test_after_a_kill_the_next_run_starts(tmp_path: Path) -> None:
    """SIGKILL leaves no stale lock: the next ``voisins run`` starts and holds the lock with its own PID."""
    env = sms_env(tmp_path)
    first, _ = await start_bot(tmp_path, env)
    first.kill()
    await asyncio.wait_for(first.wait(), timeout=60)

    again, _ = await start_bot(tmp_path, env)
    try:
        assert lock_path(tmp_path / "run.db").read_text().strip() == str(again.pid)
    finally:
        await stop(again)
    assert again.returncode == 0
