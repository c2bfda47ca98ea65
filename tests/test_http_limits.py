"""Request bodies are bounded while they are read, in size and in time, on every route of the real server.

An attacker needs no signature to send a body: a chunked request (no Content-Length) of 150 MB to
``/twilio/sms`` with a junk ``X-Twilio-Signature`` used to be parsed whole into memory before the
signature was checked. Here it gets 413 after the route's limit, the server's memory stays flat
and other people's SMS are still answered; a body sent a byte at a time gets 408 within
``BODY_TIMEOUT``; ``/telegram`` in webhook mode and a feature's own route are bounded the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from bot.app import build_core, feature_routers
from bot.channels import http, sms
from bot.clock import FakeClock
from bot.core import Core
from bot.dispatch import Router
from tests.commands import bot_env, start_bot
from tests.conftest import make_settings
from tests.fakes import twilio_webhook as tw
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

SECRET = "limits-test-secret"
MB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


@dataclass
class Answer:
    """What a raw HTTP client saw: the status (None if the server closed without one)."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    sent: int = 0  # body bytes written before the answer came
    seconds: float = 0.0  # from the request's headers to the answer
    closed: bool = False  # the server closed the connection at once after answering


async def post_slowly(
    url: str,
    path: str,
    headers: dict[str, str],
    *,
    chunk: bytes,
    total: int,
    pause: float = 0.0,
    declared_length: int | None = None,
    timeout: float = 60,  # noqa: ASYNC109
) -> Answer:
    """POST ``total`` bytes in pieces of ``chunk``, chunked unless ``declared_length``, while reading the answer.

    A socket of our own: httpx would insist on sending the whole body before reading anything.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    framing = (
        {"Content-Length": str(declared_length)} if declared_length is not None else {"Transfer-Encoding": "chunked"}
    )
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in {**framing, **headers}.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = Answer(status=None)

    async def pump() -> None:
        with contextlib.suppress(ConnectionError):
            while answer.sent < total:
                piece = chunk if declared_length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                writer.write(piece)
                await writer.drain()
                answer.sent += len(chunk)
                if pause:
                    await asyncio.sleep(pause)  # the slow client's own pace, not a wait for the server
            if declared_length is None:
                writer.write(b"0\r\n\r\n")
                await writer.drain()

    pumping = asyncio.create_task(pump())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (asyncio.IncompleteReadError, ConnectionError):
        head = b""
    answer.seconds = loop.time() - started
    pumping.cancel()
    await asyncio.gather(pumping, return_exceptions=True)
    if head:
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        answer.status = int(status_line.split()[1])
        answer.headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
    try:
        # Until the server closes: sooner than uvicorn's 5 s keep-alive, so it closed because it answered.
        await asyncio.wait_for(reader.read(), timeout=4)
        answer.closed = True
    except ConnectionError:
        answer.closed = True
    except TimeoutError:
        answer.closed = False
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return answer


def sms_settings() -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": tw.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": tw.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": tw.BOT_NUMBER,
        "PUBLIC_URL": tw.PUBLIC_URL,
    }


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[tuple[psutil.Process, str]]:
    """``voisins run`` with SMS and Telegram in webhook mode; its process (for its memory) and URL."""
    settings = {
        **sms_settings(),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.url,
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    process, url = await start_bot(tmp_path, bot_env(tmp_path, **settings))
    try:
        yield psutil.Process(process.pid), url
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)


async def answered_sms(url: str, phone: str) -> str:
    """A real person's signed SMS: its TwiML answer's text (asserting it was answered)."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await tw.post_sms(client, url, tw.sms_params(phone, "aide"))
    assert response.status_code == 200, response.text
    return tw.messages(response.text)[0]


async def test_a_huge_chunked_body_with_a_junk_signature_is_cut_at_the_limit(tmp_path: Path) -> None:
    """150 MB chunked to /twilio/sms and /twilio/status with a junk signature: 413 early, memory flat, SMS answered."""
    async with FakeTelegram() as fake, running_bot(tmp_path, fake) as (bot, url):
        await answered_sms(url, "+33639981201")  # warmed up: the first answer loads what it needs
        before = bot.memory_info().rss
        headers = {"Content-Type": FORM, "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
        attacks = [  # 150 fields of 1 MB each
            post_slowly(url, path, headers, chunk=b"f=" + b"a" * (MB - 3) + b"&", total=150 * MB)
            for path in ("/twilio/sms", "/twilio/status")
        ]
        meanwhile = answered_sms(url, "+33639981202")
        *answers, text = await asyncio.gather(*attacks, meanwhile)
        grown = bot.memory_info().rss - before
        # A client that stops once past the limit reads the 413 itself.
        just_over = await post_slowly(
            url, "/twilio/sms", headers, chunk=b"a" * 1024, total=sms.MAX_REQUEST_BYTES + 1024
        )
    assert "crivez votre question" in text
    for answer in answers:
        # 413, or the connection cut under the client's feet: the server closes rather than read on,
        # and a client still sending loses the answer to the reset.
        assert answer.status in (413, None) and answer.closed
        assert answer.sent < 40 * MB  # what the sockets' buffers took, not the 150 MB
    assert grown < 30 * MB, f"the server grew by {grown / MB:.0f} MB"
    assert just_over.status == 413 and just_over.headers["connection"] == "close" and just_over.closed


async def test_telegram_webhook_bodies_are_bounded_before_and_after_the_secret(tmp_path: Path) -> None:
    """/telegram: a wrong secret is refused before the body is read; with the secret, 150 MB gets 413; memory flat."""
    async with FakeTelegram() as fake, running_bot(tmp_path, fake) as (bot, url):
        await answered_sms(url, "+33639981203")
        before = bot.memory_info().rss
        wrong, right = await asyncio.gather(
            *(
                post_slowly(
                    url, "/telegram", {"X-Telegram-Bot-Api-Secret-Token": secret}, chunk=b" " * MB, total=150 * MB
                )
                for secret in ("wrong", SECRET)
            )
        )
        grown = bot.memory_info().rss - before
        assert "crivez votre question" in await answered_sms(url, "+33639981204")
    assert wrong.status in (403, None) and wrong.closed  # None: cut before the client read it, as above
    assert right.status in (413, None) and right.closed
    assert wrong.sent < 40 * MB and right.sent < 40 * MB
    assert grown < 30 * MB, f"the server grew by {grown / MB:.0f} MB"


async def test_a_body_sent_a_byte_at_a_time_gets_408_within_the_bound(tmp_path: Path) -> None:
    """A byte every half second, chunked or with Content-Length, on /twilio/sms and /telegram: 408 by BODY_TIMEOUT."""
    async with FakeTelegram() as fake, running_bot(tmp_path, fake) as (_, url):
        twilio = {"Content-Type": FORM, "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
        telegram = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        answers = await asyncio.gather(
            post_slowly(url, "/twilio/sms", twilio, chunk=b"a", total=2000, pause=0.5),
            post_slowly(url, "/twilio/status", twilio, chunk=b"a", total=2000, pause=0.5, declared_length=2000),
            post_slowly(url, "/telegram", telegram, chunk=b" ", total=2000, pause=0.5),
            answered_sms(url, "+33639981205"),
        )
    *refused, text = answers
    assert "crivez votre question" in text  # the slow ones hold nobody else up
    for answer in refused:
        assert answer.status == 408 and answer.closed
        assert http.BODY_TIMEOUT - 1 <= answer.seconds <= http.BODY_TIMEOUT + 15


@pytest.fixture
async def feature_core(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Core, list[int]]]:
    """A core with one more feature serving ``POST /feature/upload``, which records what it read."""
    read: list[int] = []

    async def upload(request: Request) -> PlainTextResponse:
        read.append(len(await request.body()))
        return PlainTextResponse("ok")

    router = Router("upload")
    router.route("/feature/upload", upload, methods=("POST",))
    core = await build_core(make_settings(tmp_path), clock, routers=[*feature_routers(), router])
    try:
        yield core, read
    finally:
        await core.close()


async def test_a_feature_route_is_bounded_too(feature_core: tuple[Core, list[int]]) -> None:
    """A route a feature adds gets the default limit and the time bound with nothing of its own."""
    core, read = feature_core
    async with serve(http.build_http_app(core, body_timeout=1.0)) as url:
        big = await post_slowly(url, "/feature/upload", {}, chunk=b"x" * 1024, total=http.DEFAULT_MAX_BODY + 1024)
        slow = await post_slowly(url, "/feature/upload", {}, chunk=b"x", total=1000, pause=0.2)
        small = await post_slowly(url, "/feature/upload", {}, chunk=b"x" * 1000, total=3000)
    assert big.status == 413 and big.closed
    assert slow.status == 408 and slow.closed and slow.seconds < 10
    assert small.status == 200 and "connection" not in small.headers  # within bounds: kept alive
    assert read == [3000]  # the refused bodies never reached the endpoint whole
