"""Start-up benchmark (not a test): how fast ``voisins run`` answers, and its memory with nothing to do.

    .venv/bin/python bench/startup.py [--runs 5] [--settle 3]

``voisins run`` with SMS switched on (and nothing queued, no Telegram) is started ``--runs`` times
on a new database (migrations applied at start) and ``--runs`` times again on that database
(a restart). From the moment the process is started: when ``GET /healthz`` first answers 200, and
when a signed SMS (sent again every 10 ms until the server listens) is first answered. Then the
bot is left idle ``--settle`` seconds: its resident memory then (settled), and its peak (from the
kernel at exit). Medians of the runs, with the range; the bare interpreter's start for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from _common import bot_env, free_port, print_machine, sms_settings, start, tail

from tests.fakes import twilio_webhook as tw


@dataclass
class Boot:
    healthy: float
    first_sms: float
    settled_mb: float
    peak_mb: float


async def until_answered(
    call: Callable[[], Awaitable[httpx.Response]], began: float, alive: Callable[[], bool]
) -> float:
    """Seconds from ``began`` until ``call()`` gets a 200 (retried every 10 ms while nothing listens)."""
    while True:
        try:
            if (await call()).status_code == 200:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        if not alive():
            raise RuntimeError("voisins run stopped at start")
        await asyncio.sleep(0.01)


async def boot(workdir: Path, settle: float) -> Boot:
    port = free_port()
    env = bot_env(workdir, HTTP_PORT=str(port), TWILIO_API_URL="http://127.0.0.1:9", **sms_settings())
    log = workdir / "bot.log"
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as health, httpx.AsyncClient(base_url=base) as sms:
        run = start(["run"], env, workdir, stderr=log)
        params = tw.sms_params("+33612300001", "ou dormir ce soir")

        def alive() -> bool:
            return run.process.poll() is None

        sampled = 0.0

        async def sample() -> None:
            nonlocal sampled
            while alive():
                with contextlib.suppress(psutil.Error):
                    sampled = max(sampled, run.rss_mb())
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        try:
            healthy, first_sms = await asyncio.gather(
                until_answered(lambda: health.get("/healthz"), run.started, alive),
                until_answered(lambda: tw.post_sms(sms, base, params), run.started, alive),
            )
            await asyncio.sleep(settle)
            settled = run.rss_mb()
            sampled = max(sampled, settled)
        except BaseException:
            print(tail(log))
            raise
        finally:
            peak = max(await run.finish(signal.SIGTERM), sampled)  # the kernel's mark can lag: both
            sampler.cancel()
    return Boot(healthy, first_sms, settled, peak)


def python_start(runs: int) -> float:
    """The bare interpreter's start and exit, for scale."""
    times = []
    for _ in range(runs):
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.monotonic() - began)
    return statistics.median(times)


def report(label: str, boots: list[Boot]) -> None:
    def cell(values: list[float], unit: str, scale: float = 1.0, digits: int = 2) -> str:
        values = [v * scale for v in values]
        return f"{statistics.median(values):.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    print(f"  {label} ({len(boots)} runs; median (min-max)):")
    print(f"    to GET /healthz 200:        {cell([b.healthy for b in boots], 's')}")
    print(f"    to the first answered SMS:  {cell([b.first_sms for b in boots], 's')}")
    print(f"    RSS settled:                {cell([b.settled_mb for b in boots], 'MB', digits=1)}")
    print(f"    RSS peak:                   {cell([b.peak_mb for b in boots], 'MB', digits=1)}")


async def main_async(workdirs: list[Path], settle: float) -> None:
    fresh = [await boot(workdir, settle) for workdir in workdirs]
    report("new database (migrations at start)", fresh)
    again = [await boot(workdirs[0], settle) for _ in workdirs]
    report("restart on that database", again)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="starts of each kind")
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds before reading the settled memory")
    args = parser.parse_args()
    print_machine("Start-up: voisins run (SMS on, nothing to do) to /healthz and to the first answered SMS")
    print(f"  the bare interpreter starts and exits in {python_start(args.runs):.3f} s (median)")
    with tempfile.TemporaryDirectory(prefix="voisins-bench-") as tmp:
        workdirs = [Path(tmp, f"run{i}") for i in range(args.runs)]
        for workdir in workdirs:
            workdir.mkdir()
        asyncio.run(main_async(workdirs, args.settle))


if __name__ == "__main__":
    main()
