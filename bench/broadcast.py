"""Broadcast benchmark (not a test): a real ``voisins run`` sends one announcement through the fakes.

    .venv/bin/python bench/broadcast.py [--telegram 4000] [--sms 1000] [--telegram-rate 30] [--sms-rate 10]

1. ``--telegram`` people on Telegram and ``--sms`` on SMS (5,000 recipients by default); the
   fake Bot API and the fake Twilio enforce the rates (429 over them) and stamp every message's
   arrival. ``voisins broadcast send`` queues the announcement, ``voisins run`` sends it.
   Printed: achieved messages per second divided by the allowed rate for each channel (target at
   least 0.95), the busiest second, the 429s, duplicates, losses, and the peak memory (RSS) of
   both processes.
2. ``--big`` people (100,000): the peak memory of queuing them, and of the bot sending from that
   queue for ``--big-seconds``: it should be about the same as in 1 (memory flat with the audience).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import free_port, print_machine, start, wait_healthy

from bot.store import Store
from tests.commands import sending_env
from tests.fakes.telegram_api import FakeTelegram, busiest
from tests.fakes.twilio_api import FakeTwilio


async def seed(database: Path, telegram: int, sms: int) -> None:
    """People straight into the database (migrations first), in one transaction."""
    store = Store(database)
    await store.open()
    await store.close()
    now = "2026-01-01T00:00:00+00:00"
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO persons (id, name, status, created_at) VALUES (?, 'Voisin', 'active', ?)",
            ((i, now) for i in range(1, telegram + sms + 1)),
        )
        db.executemany(
            "INSERT INTO identities (channel, address, person_id, created_at) VALUES (?, ?, ?, ?)",
            (
                ("telegram", str(10_000_000 + i), i, now) if i <= telegram else ("sms", f"+336{i:08d}", i, now)
                for i in range(1, telegram + sms + 1)
            ),
        )


def statuses(database: Path) -> dict[str, int]:
    with sqlite3.connect(database, timeout=30) as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())


def rate(stamps: list[float]) -> float:
    """Messages a second while the channel was in use: from the first message to one second after the last.

    Conservative: a perfectly steady sender of r a second scores r * n / (n - 1 + r), a little under r.
    """
    return len(stamps) / (max(stamps) - min(stamps) + 1.0) if stamps else 0.0


async def phase(
    workdir: Path, telegram: int, sms: int, telegram_rate: float, sms_rate: float, seconds: float | None
) -> dict[str, object]:
    """One broadcast to ``telegram`` + ``sms`` people; sent to the end, or for ``seconds``."""
    database = workdir / "run.db"
    await seed(database, telegram, sms)
    async with FakeTelegram() as fake_telegram, FakeTwilio(max_per_second=int(sms_rate)) as fake_twilio:
        fake_telegram.limit_rate(per_second=int(telegram_rate), per_chat_interval=1.0)
        port = free_port()
        env = sending_env(
            workdir,
            fake_twilio,
            fake_telegram,
            sms_rate=sms_rate,
            TELEGRAM_MAX_PER_SECOND=str(telegram_rate),
            HTTP_PORT=str(port),
        )
        began = time.monotonic()
        queue = start(
            ["broadcast", "send", "--audience", "everyone", "--text", "Fête jeudi", "-y", "--no-wait"], env, workdir
        )
        queue_mb = await queue.finish()
        queued_in = time.monotonic() - began
        bot = start(["run"], env, workdir)
        await wait_healthy(port, bot)
        sending = time.monotonic()
        deadline = time.monotonic() + (seconds if seconds is not None else 3600)
        while time.monotonic() < deadline:
            found = await asyncio.to_thread(statuses, database)  # the fakes share this event loop
            if found.keys() <= {"sent", "failed", "skipped"}:
                break
            await asyncio.sleep(0.5)
        sent_in = time.monotonic() - sending
        bot_mb = await bot.finish(signal.SIGTERM)
        received = Counter([m["chat_id"] for m in fake_telegram.sent] + [m["To"] for m in fake_twilio.messages])
        telegram_times = fake_telegram.message_times("sendMessage")
        expected = telegram + sms
        return {
            "queue_mb": queue_mb,
            "queued_in": queued_in,
            "seconds": sent_in,
            "bot_mb": bot_mb,
            "telegram_ratio": rate(telegram_times) / telegram_rate,
            "sms_ratio": rate(fake_twilio.stamps) / sms_rate,
            "telegram_busiest": busiest(telegram_times),
            "sms_busiest": busiest(fake_twilio.stamps),
            "throttled": len(fake_telegram.throttled) + fake_twilio.throttled,
            "duplicates": sum(count - 1 for count in received.values()),
            "lost": expected - len(received) if seconds is None else None,
            "sent": len(received),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--telegram", type=int, default=4000, help="people on Telegram")
    parser.add_argument("--sms", type=int, default=1000, help="people on SMS")
    parser.add_argument("--telegram-rate", type=float, default=30, help="allowed Telegram messages a second")
    parser.add_argument("--sms-rate", type=float, default=10, help="allowed SMS a second")
    parser.add_argument("--big", type=int, default=100_000, help="people for the memory run (0: skip it)")
    parser.add_argument("--big-seconds", type=float, default=15, help="how long the bot sends in the memory run")
    args = parser.parse_args()
    print_machine("Broadcast: one announcement sent by a real voisins run through rate-limited fakes")
    with tempfile.TemporaryDirectory(prefix="voisins-bench-") as tmp:
        for name in ("one", "big"):
            Path(tmp, name).mkdir()
        print(
            f"  {args.telegram + args.sms:,} recipients: {args.telegram:,} on Telegram and {args.sms:,} by SMS,"
            f" {args.telegram_rate:g}/s and {args.sms_rate:g}/s allowed (the fakes answer 429 above that)..."
        )
        one = asyncio.run(phase(Path(tmp, "one"), args.telegram, args.sms, args.telegram_rate, args.sms_rate, None))
        print(f"  Telegram: achieved/allowed = {one['telegram_ratio']:.3f}   busiest second {one['telegram_busiest']}")
        print(f"  SMS:      achieved/allowed = {one['sms_ratio']:.3f}   busiest second {one['sms_busiest']}")
        print(f"  429 from the fakes: {one['throttled']}   duplicates: {one['duplicates']}   lost: {one['lost']}")
        print(
            f"  peak memory: voisins broadcast send {one['queue_mb']:.0f} MB (queued in {one['queued_in']:.1f} s),"
            f" voisins run {one['bot_mb']:.0f} MB; all sent in {one['seconds']:.0f} s"
        )
        if args.big:
            telegram = args.big * 4 // 5
            print(f"  memory with {args.big:,} recipients ({telegram:,} Telegram, {args.big - telegram:,} SMS)...")
            big = asyncio.run(phase(Path(tmp, "big"), telegram, args.big - telegram, 300, 100, args.big_seconds))
            print(
                f"    peak memory: voisins broadcast send {big['queue_mb']:.0f} MB"
                f" (queued in {big['queued_in']:.1f} s),"
                f" voisins run {big['bot_mb']:.0f} MB after sending {big['sent']:,} in {args.big_seconds:g} s"
                f" (duplicates {big['duplicates']}, 429 {big['throttled']})"
            )


if __name__ == "__main__":
    main()
