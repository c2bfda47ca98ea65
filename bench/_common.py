"""What the benchmarks share: the machine they ran on, starting ``voisins run``, percentiles.

The benchmarks are scripts, not tests: each prints its figures and the machine, so a figure is
never read without knowing where it came from. They start the bot as a deployment does (a real
process configured by its environment) and talk to it over loopback.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

# httpcore 1.0.9 imports sniffio at every connection-pool lock, and anyio >= 4.11 no longer brings
# it: each failed import searches sys.path again (about 2 ms a request, encode/httpcore#1103). In
# the benchmark's own process (load clients, fakes) a failed import is remembered instead, so the
# load generator measures the servers, not itself. The bot and the echo bot are left as installed.
try:
    import sniffio  # noqa: F401

    SNIFFIO = "installed"
except ImportError:
    sys.modules["sniffio"] = None  # type: ignore[assignment]
    SNIFFIO = "not installed: httpcore in the bot retries importing it for each request (encode/httpcore#1103)"

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.commands import bot_env, free_port  # noqa: E402
from tests.fakes import twilio_webhook as tw  # noqa: E402

__all__ = ["ROOT", "Run", "bot_env", "free_port", "machine", "percentile", "print_machine", "sms_settings", "start"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> list[str]:
    """The machine, as lines: CPU, cores, RAM, Python, OS, and the load when the script started."""
    memory = psutil.virtual_memory()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    physical = psutil.cpu_count(logical=False)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"CPU: {cpu_model()}",
        f"cores: {usable} usable ({os.cpu_count()} logical, {physical or '?'} physical)",
        f"RAM: {memory.total / 2**30:.1f} GiB ({memory.available / 2**30:.1f} GiB available)",
        f"Python: {platform.python_implementation()} {platform.python_version()}",
        f"OS: {platform.platform()}",
        f"load average (1, 5, 15 min): {load}",
        f"sniffio: {SNIFFIO}",
        "byte-code cache: "
        + (
            "off (PYTHONDONTWRITEBYTECODE set: the bot's own modules are compiled at each start)"
            if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else "on"
        ),
    ]


def print_machine(title: str) -> None:
    print(f"== {title}  ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    for line in machine():
        print(f"   {line}")
    sys.stdout.flush()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest rank: a latency that ``q`` % of requests did not exceed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def sms_settings(**more: str) -> dict[str, str]:
    """The settings that switch SMS on, with the signing secret the benchmark's webhooks use."""
    return {
        "TWILIO_ACCOUNT_SID": tw.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": tw.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": tw.BOT_NUMBER,
        "PUBLIC_URL": tw.PUBLIC_URL,
        "SMS_QUIET_HOURS": "",
        **more,
    }


@dataclass
class Run:
    """A process the benchmark started, stopped by its own id."""

    process: subprocess.Popen[bytes]
    started: float

    @property
    def pid(self) -> int:
        return self.process.pid

    async def finish(self, sig: int | None = None) -> float:
        """Stop (or wait for) the process; its peak resident memory in MiB (from the kernel)."""
        if sig is not None and self.process.poll() is None:
            self.process.send_signal(sig)
        _, status, usage = await asyncio.to_thread(os.wait4, self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_maxrss / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far, every thread included."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(psutil.Process(self.process.pid).memory_info().rss) / 2**20


def start(args: list[str], env: dict[str, str], cwd: Path, stderr: Path | None = None) -> Run:
    """``python -m bot.cli ARGS`` (what the ``voisins`` script runs); ``python ARGS`` when they start
    with a script (``x.py``) or an option (``-m cProfile ...``)."""
    direct = args[0].endswith(".py") or args[0].startswith("-")
    command = [sys.executable, *args] if direct else [sys.executable, "-m", "bot.cli", *args]
    err = stderr.open("wb") if stderr is not None else subprocess.DEVNULL
    began = time.monotonic()
    process = subprocess.Popen(  # noqa: S603  (our own command, fixed arguments)
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
    )
    if stderr is not None:
        err.close()  # type: ignore[union-attr]
    return Run(process, began)


async def wait_healthy(port: int, run: Run, interval: float = 0.05, path: str = "/healthz") -> float:
    """Wait until ``GET path`` answers 200; the seconds since the process was started."""
    import httpx

    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}{path}")).status_code == 200:
                    return time.monotonic() - run.started
            except httpx.TransportError:
                pass
            if run.process.poll() is not None:
                raise RuntimeError(f"{run.process.args} stopped at start (exit {run.process.returncode})")
            await asyncio.sleep(interval)
    raise RuntimeError(f"{run.process.args} did not answer {path}")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
