"""Running the ``voisins`` command as staff and deployments do: a real process, configured by its environment."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

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
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=120)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def start_bot(tmp_path: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """``voisins run`` as a deployment starts it, in ``tmp_path``; the process and its URL once /healthz answers."""
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
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(1200):  # a loaded machine (the whole suite in parallel) can take many seconds to start
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    if process.returncode is None:
        process.kill()
    await process.wait()
    assert process.stderr is not None
    raise AssertionError((await process.stderr.read()).decode())
