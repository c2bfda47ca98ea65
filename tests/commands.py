"""Running the ``voisins`` command as staff and deployments do: a real process, configured by its environment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import PATIENCE
from tests.fakes import twilio_webhook as tw
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

BOT_PREFIXES = ("TELEGRAM_", "TWILIO_", "SMS_", "PUBLIC_", "HTTP_", "DATABASE_", "DEMO_")


@dataclass
class Ran:
    code: int
    out: str
    err: str


def free_port() -> int:
    """A TCP port free on loopback right now, for a process's HTTP server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(tmp_path: Path, database: str = "run.db", **settings: str) -> dict[str, str]:
    """The machine's environment without any bot setting, a database in ``tmp_path``, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(BOT_PREFIXES)}
    env.update({"DATABASE_PATH": str(tmp_path / database), "HTTP_HOST": "127.0.0.1", "COLUMNS": "200", **settings})
    return env


def sending_env(
    tmp_path: Path, twilio: FakeTwilio, telegram: FakeTelegram | None = None, *, sms_rate: float, **settings: str
) -> dict[str, str]:
    """:func:`bot_env` for ``voisins run`` sending through the fakes, ``sms_rate`` SMS a second, at any hour."""
    chat = {"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.url} if telegram else {}
    return bot_env(
        tmp_path,
        **chat,
        TWILIO_ACCOUNT_SID=tw.ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=tw.AUTH_TOKEN,
        TWILIO_FROM_NUMBER=tw.BOT_NUMBER,
        TWILIO_API_URL=twilio.url,
        PUBLIC_URL=tw.PUBLIC_URL,
        SMS_MAX_PER_SECOND=str(sms_rate),
        SMS_QUIET_HOURS="",
        LOG_LEVEL="WARNING",
        **settings,
    )


async def voisins(
    tmp_path: Path, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None, terminal: bool = False
) -> Ran:
    """Run ``voisins ARGS`` in ``tmp_path`` (so no .env is read) until it exits.

    ``terminal``: its input is a pseudo-terminal where ``stdin`` is typed, then Ctrl-D, for the
    questions a command asks only when someone is there to answer.
    """
    controller, typing_end = os.openpty() if terminal else (-1, -1)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            cwd=tmp_path,
            env=env if env is not None else bot_env(tmp_path),
            stdin=typing_end if terminal else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        if terminal:
            os.write(controller, stdin + b"\x04")
        try:
            out, err = await asyncio.wait_for(process.communicate(None if terminal else stdin), timeout=PATIENCE)
        finally:
            if process.returncode is None:  # timed out: leave nothing running behind
                process.kill()
                await process.wait()
    finally:
        if terminal:
            os.close(typing_end)
            os.close(controller)
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


async def terminate(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, as a deployment stops the bot, and wait for it to exit (the test reads the code)."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=PATIENCE)


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[str]:
    """``voisins run`` started as :func:`start_bot` does; its URL; stopped by SIGTERM after, which must exit 0."""
    process, url = await start_bot(tmp_path, env)
    try:
        yield url
    finally:
        await terminate(process)
        assert process.returncode == 0
