"""Running the ``voisins`` command as staff and deployments do: a real process, configured by its environment."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import PATIENCE

BOT_PREFIXES = ("TELEGRAM_", "TWILIO_", "SMS_", "PUBLIC_", "HTTP_", "DATABASE_", "DEMO_")


@dataclass
class Ran:
    code: int
    out: str
    err: str


def bot_env(tmp_path: Path, database: str = "run.db", **settings: str) -> dict[str, str]:
    """The machine's environment without any bot setting, a database in ``tmp_path``, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(BOT_PREFIXES)}
    env.update({"DATABASE_PATH": str(tmp_path / database), "HTTP_HOST": "127.0.0.1", "COLUMNS": "200", **settings})
    return env


async def voisins(tmp_path: Path, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Ran:
    """Run ``voisins ARGS`` in ``tmp_path`` (so no .env is read) until it exits."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=tmp_path,
        env=env if env is not None else bot_env(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout=PATIENCE)
    finally:
        if process.returncode is None:  # timed out: leave nothing running behind
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def healthy(process: asyncio.subprocess.Process, url: str, timeout: float = PATIENCE) -> bool:  # noqa: ASYNC109
    """Wait until ``url``/healthz answers 200 (True) or the process has exited (False), however loaded the machine.

    Bounded by time, not by a number of tries: on a busy machine one start-up took 50 s.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        while loop.time() < deadline:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                return False
            await asyncio.sleep(0.05)
    raise AssertionError(f"voisins run did not answer {url}/healthz within {timeout:.0f} s")


async def spawn_bot(tmp_path: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """``voisins run`` as a deployment starts it, in ``tmp_path``, not waited for; the process and its URL."""
    from tests.test_run import free_port

    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env={**env, "HTTP_PORT": str(port)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return process, f"http://127.0.0.1:{port}"


async def start_bot(tmp_path: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """``voisins run`` as a deployment starts it, in ``tmp_path``; the process and its URL once /healthz answers."""
    process, url = await spawn_bot(tmp_path, env)
    try:
        if await healthy(process, url):
            return process, url
    except BaseException:
        process.kill()  # leave nothing running behind
        await process.wait()
        raise
    await process.wait()
    assert process.stderr is not None
    raise AssertionError((await process.stderr.read()).decode())
