"""``voisins run`` at start: what is wrong is one or two lines on stderr that say what to fix, never a secret.

A wrong token printed a 210-line traceback holding it, no network 434 lines; a busy port only warned;
``.env.example`` copied as is failed at once; under a service manager (stdin at /dev/null) the demo
bot crashed and hung; a read-only database or a full disk ended in a traceback naming no file.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from tests.commands import BOT_PREFIXES, Ran, bot_env, free_port, start_bot, voisins
from tests.conftest import opened_store
from tests.fakes import twilio_webhook as tw
from tests.fakes.telegram_api import FakeTelegram

REPO = Path(__file__).resolve().parent.parent
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")
WRONG_TOKEN = "424242:WRONG-never-printed-secret"


def said(ran: Ran) -> list[str]:
    """What the operator reads on stderr, without the ordinary log lines (migrations applied...)."""
    return [line for line in ran.err.splitlines() if line.strip() and not LOG_LINE.match(line)]


def assert_short_and_clean(ran: Ran, secret: str | None = None) -> str:
    """Exit 1, at most two lines, no traceback, the secret nowhere; returns the message."""
    lines = said(ran)
    assert ran.code == 1, ran.err
    assert 1 <= len(lines) <= 2, ran.err
    assert "Traceback" not in ran.err
    if secret is not None:
        for part in (secret, *secret.split(":")):
            assert part not in ran.out + ran.err
    return " ".join(lines)


@pytest.mark.parametrize("empty_key", sorted(Settings.model_fields))
def test_an_empty_value_means_not_set(empty_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``KEY=`` in the environment or .env gives the key's default (no quiet hours for SMS_QUIET_HOURS)."""
    for key in Settings.model_fields:
        monkeypatch.delenv(key.upper(), raising=False)
    monkeypatch.setenv(empty_key.upper(), "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    expected = None if empty_key == "sms_quiet_hours" else Settings.model_fields[empty_key].default
    assert getattr(settings, empty_key) == expected


async def test_env_example_copied_as_is_runs_without_a_terminal(tmp_path: Path) -> None:
    """The README's ``cp .env.example .env``, stdin at /dev/null: HTTP and /healthz up until SIGTERM, said once."""
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    env = {k: v for k, v in os.environ.items() if not k.startswith(BOT_PREFIXES)}  # only .env configures it
    process, url = await start_bot(tmp_path, env)  # HTTP_PORT from the environment: 8080 may be taken here
    try:
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{url}/healthz")
        assert health.status_code == 200
        assert process.returncode is None
        assert (tmp_path / "var" / "voisins.db").exists()  # DATABASE_PATH=var/voisins.db, relative to it
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=60)
    assert process.returncode == 0
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert err.count("without the terminal conversation") == 1, err
    assert "Traceback" not in err and "PermissionError" not in err, err


async def test_a_wrong_telegram_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    """The Bot API answers 401: one line naming TELEGRAM_BOT_TOKEN and @BotFather; the token is never printed."""
    async with FakeTelegram() as fake:
        env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=WRONG_TOKEN, TELEGRAM_API_URL=fake.url, HTTP_PORT=str(free_port()))
        ran = await voisins(tmp_path, "run", env=env)
    message = assert_short_and_clean(ran, WRONG_TOKEN)
    assert "TELEGRAM_BOT_TOKEN" in message
    assert "BotFather" in message


async def test_no_network_is_one_line_naming_the_api_url(tmp_path: Path) -> None:
    """Telegram and Twilio at closed loopback ports: one line naming the Bot API URL to check; no secret."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=WRONG_TOKEN,
        TELEGRAM_API_URL=closed,
        TWILIO_ACCOUNT_SID=tw.ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=tw.AUTH_TOKEN,
        TWILIO_FROM_NUMBER=tw.BOT_NUMBER,
        TWILIO_API_URL=f"http://127.0.0.1:{free_port()}",
        PUBLIC_URL=tw.PUBLIC_URL,
        HTTP_PORT=str(free_port()),
    )
    ran = await voisins(tmp_path, "run", env=env)
    message = assert_short_and_clean(ran, WRONG_TOKEN)
    assert tw.AUTH_TOKEN not in ran.out + ran.err
    assert closed in message
    assert "TELEGRAM_API_URL" in message


async def test_a_busy_port_stops_the_bot_naming_the_port(tmp_path: Path) -> None:
    """Another program on HTTP_PORT: the bot stops before opening anything, naming the port and HTTP_PORT."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = await voisins(tmp_path, "run", stdin=b"aide\n", env=bot_env(tmp_path, HTTP_PORT=str(port)))
    message = assert_short_and_clean(ran)
    assert str(port) in message
    assert "HTTP_PORT" in message
    assert not (tmp_path / "run.db").exists()


def _can_mount() -> bool:
    """A user and mount namespace of our own (root or not) where a tmpfs and read-only binds can be made."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


async def _seed_database(database: Path) -> None:
    async with opened_store(database):
        pass


READ_ONLY_FOLDER = 'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D"'
READ_ONLY_FILE = 'mount --bind "$D/voisins.db" "$D/voisins.db" && mount -o remount,bind,ro "$D/voisins.db"'
FULL_DISK = 'mount -t tmpfs -o size=256k tmpfs "$D" && (dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null || true)'


@pytest.mark.skipif(not _can_mount(), reason="needs unshare with user and mount namespaces")
@pytest.mark.parametrize(
    ("setup", "seeded", "advice"),
    [
        (READ_ONLY_FOLDER, False, "read-only"),
        (READ_ONLY_FILE, True, "read-only"),
        (FULL_DISK, False, "full"),
    ],
    ids=["read-only-folder", "read-only-file", "full-disk"],
)
async def test_an_unusable_database_is_one_line_naming_the_file(
    tmp_path: Path, setup: str, seeded: bool, advice: str
) -> None:
    """A read-only folder or file, or a full disk: one line naming the database file and what to do."""
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "voisins.db"
    if seeded:
        await _seed_database(database)
    env = bot_env(tmp_path, HTTP_PORT=str(free_port()), DATABASE_PATH=str(database), D=str(folder))
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "--map-root-user",
        "--mount",
        "sh",
        "-euc",
        f'{setup}\nexec "$@"',
        "sh",
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(b"aide\n"), timeout=120)
    except TimeoutError:
        process.kill()  # it started on an unusable database: never leave it behind
        await process.wait()
        raise
    assert process.returncode is not None
    message = assert_short_and_clean(Ran(process.returncode, out.decode(), err.decode()))
    assert str(database.resolve()) in message
    assert advice in message
