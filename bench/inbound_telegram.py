"""Inbound Telegram benchmark (not a test): updates a second a polling bot answers, bot vs echo bot.

    .venv/bin/python bench/inbound_telegram.py [--people 1000]

A fake Bot API server (tests/fakes/telegram_api.py) queues updates for ``getUpdates``; the bot
polls it as it polls Telegram. ``--people`` people first each say "bonjour" (their first contact:
not measured), then each asks one real question (tests/test_orientation_phrasings.py), all queued
at once. An update counts as processed when its answer reaches the fake. Printed: updates a second
from the queuing to the last answer, the CPU the bot used per update, for ``voisins run`` and for
a bare python-telegram-bot echo bot (bench/_echo_bot.py) against the same fake, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, Run, bot_env, free_port, print_machine, start, tail, wait_healthy

from tests.fakes.telegram_api import FakeTelegram
from tests.test_orientation_phrasings import PHRASINGS

QUESTIONS = [text for text, _ in PHRASINGS]
FIRST_USER = 7_000_000


class CountingTelegram(FakeTelegram):
    """The fake, noting when the first answer to each chat arrives once counting is switched on."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: dict[int, float] = {}
        self.counting = False
        self.wanted = 0
        self.all_answered = asyncio.Event()

    def count(self, wanted: int) -> None:
        self.answered, self.counting, self.wanted = {}, True, wanted
        self.all_answered = asyncio.Event()

    def _record(self, method: str, chat_id: int | None, message: Any, params: Any) -> None:
        super()._record(method, chat_id, message, params)
        if self.counting and chat_id is not None and chat_id not in self.answered:
            self.answered[chat_id] = time.monotonic()
            if len(self.answered) >= self.wanted:
                self.all_answered.set()


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    cpu_ms: float
    fake_cpu: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def line(self) -> str:
        return (
            f"  {self.name:<5} {self.rate:8.1f} updates/s   ({self.updates:,} updates in {self.seconds:.2f} s;"
            f" bot CPU {self.cpu_ms:.2f} ms/update; the fake's process was busy {self.fake_cpu:.2f} of a core)"
        )


async def wave(fake: CountingTelegram, people: int, texts: list[str], within: float) -> float:
    """Queue one message from each person at once; seconds until each got an answer."""
    fake.count(people)
    began = time.monotonic()
    for i in range(people):
        fake.push_message(FIRST_USER + i, texts[i % len(texts)], language_code="fr" if i % 4 else "en")
    async with asyncio.timeout(within):
        await fake.all_answered.wait()
    fake.counting = False
    return max(fake.answered.values()) - began


async def measure(name: str, people: int, workdir: Path) -> Result:
    async with CountingTelegram() as fake:
        port = free_port()
        env = bot_env(workdir, HTTP_PORT=str(port), TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url)
        log = workdir / f"{name}.log"
        if name == "bot":
            run = start(["run"], env, workdir, stderr=log)
            await wait_healthy(port, run)
        else:
            run = start([str(ROOT / "bench" / "_echo_bot.py"), fake.token, fake.url], env, workdir, stderr=log)
        try:
            await fake.wait_calls("getUpdates", timeout=30)
            await wave(fake, people, ["bonjour"], within=300)  # first contact and warm-up: not counted
            cpu, own = run.cpu_seconds(), time.process_time()
            seconds = await wave(fake, people, QUESTIONS, within=300)
            cpu_ms = 1000 * (run.cpu_seconds() - cpu) / people
            fake_cpu = (time.process_time() - own) / seconds
        except BaseException:
            print(tail(log))
            raise
        finally:
            await finish(run)
    return Result(name, people, seconds, cpu_ms, fake_cpu)


async def finish(run: Run) -> None:
    await run.finish(signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000, help="people, each sending one measured update")
    args = parser.parse_args()
    print_machine("Inbound Telegram: updates a second in polling mode, voisins run vs a bare PTB echo bot")
    results = []
    with tempfile.TemporaryDirectory(prefix="voisins-bench-") as tmp:
        for name in ("echo", "bot"):
            Path(tmp, name).mkdir()
            result = asyncio.run(measure(name, args.people, Path(tmp, name)))
            print(result.line(), flush=True)
            results.append(result)
    echo, bot = results
    print(f"  ratio bot/echo (updates a second): {bot.rate / echo.rate:.2f}")


if __name__ == "__main__":
    main()
