"""A fake Twilio REST API on 127.0.0.1 for the real twilio client (``client.api.base_url``).

It records every message, checks Basic auth, answers like Twilio (201 with a Message resource),
and fails on demand: 429, 500, a Twilio error code such as 21610, or a slow answer; a request
that hangs until the client gives up (``hang_next``), a connection cut before the answer
(``drop_next``), or every request refused until :meth:`FakeTwilio.up` (``down``). A message is
recorded only when it was accepted, so a test can count what reached people. With
``max_per_second`` it enforces a sending rate like a Twilio number or Messaging Service: a message
over it gets 429 with code 20429 and is counted in ``throttled``; ``stamps`` keeps the arrival time
of every accepted message, so a test can prove the rate was never exceeded. WhatsApp messages
(``whatsapp:`` addresses) may carry a template (``ContentSid`` and ``ContentVariables``) instead of
a ``Body``; free text to a number in ``window_closed`` fails with 63016, as Meta refuses it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import serve
from tests.fakes.twilio_webhook import ACCOUNT_SID, AUTH_TOKEN


@dataclass
class Failure:
    status: int
    code: int | None
    message: str
    delay: float = 0.0


class FakeTwilio:
    def __init__(
        self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, max_per_second: float | None = None
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []
        self.requests = 0
        self.failures: list[Failure] = []
        self.delay = 0.0
        self.max_per_second = max_per_second
        self.stamps: list[float] = []
        self.throttled = 0
        self._recent: deque[float] = deque()
        self._slow: list[float] = []
        self._hangs: list[float] = []
        self._drops = 0
        self.outage: Failure | None = None
        self.dropped = 0
        self.hung = 0
        self.refused: list[tuple[float, int]] = []  # (arrival, status) of every failure answered
        self._sids = itertools.count(1)
        # WhatsApp numbers whose 24 hours are over as Meta sees them: free text to them fails with 63016.
        self.window_closed: set[str] = set()
        self._serving: AbstractAsyncContextManager[str] | None = None
        self.url = ""
        self.app = Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"])])

    async def __aenter__(self) -> FakeTwilio:
        self._serving = serve(_Dropping(self))
        self.url = await self._serving.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._serving is not None
        await self._serving.__aexit__(None, None, None)

    def fail_next(self, status: int, code: int | None = None, message: str = "error", times: int = 1) -> None:
        self.failures.extend(Failure(status, code, message) for _ in range(times))

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` accepted messages ``seconds`` late (the message is recorded first)."""
        self._slow.extend([seconds] * times)

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` requests get no answer for ``seconds`` (longer than the client waits), then 504.

        Nothing is recorded: the client gave up before Twilio accepted anything.
        """
        self._hangs.extend([seconds] * times)

    def drop_next(self, times: int = 1) -> None:
        """Cut the next ``times`` connections after the status line, before any body: nothing is recorded."""
        self._drops += times

    def down(self, status: int = 500, code: int | None = None, message: str = "Service unavailable") -> None:
        """Every request gets this error until :meth:`up`."""
        self.outage = Failure(status, code, message)

    def up(self) -> None:
        self.outage = None

    def _over_rate(self) -> bool:
        """True when one more message would exceed ``max_per_second`` in the last second; else it is stamped."""
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if self.max_per_second is not None and len(self._recent) >= self.max_per_second:
            self.throttled += 1
            return True
        self._recent.append(now)
        self.stamps.append(now)
        return False

    def sent_to(self, number: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["To"] == number]

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    async def _create(self, request: Request) -> Response:
        self.requests += 1
        if not self._authorised(request) or request.path_params["sid"] != self.account_sid:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._hangs:
            self.hung += 1
            await asyncio.sleep(self._hangs.pop(0))
            return JSONResponse({"code": 20504, "message": "Gateway timeout", "status": 504}, status_code=504)
        form = {k: str(v) for k, v in (await request.form()).items()}
        if self.failures or self.outage is not None:
            failure = self.failures.pop(0) if self.failures else self.outage
            assert failure is not None
            self.refused.append((time.monotonic(), failure.status))
            body: dict[str, Any] = {"code": failure.code, "message": failure.message, "status": failure.status}
            return JSONResponse(body, status_code=failure.status)
        content = form.get("ContentSid")
        if (
            not form.get("To")
            or not (form.get("Body") or content)
            or not (form.get("From") or form.get("MessagingServiceSid"))
        ):
            return JSONResponse({"code": 21604, "message": "missing parameter", "status": 400}, status_code=400)
        whatsapp = form["To"].startswith("whatsapp:")
        if whatsapp != form.get("From", "whatsapp:").startswith("whatsapp:"):
            return JSONResponse({"code": 63007, "message": "channel mismatch", "status": 400}, status_code=400)
        if content and not whatsapp:
            return JSONResponse({"code": 21619, "message": "A text message body is required", "status": 400}, 400)
        if whatsapp and form.get("Body") and form["To"][len("whatsapp:") :] in self.window_closed:
            body = {"code": 63016, "message": "Failed to send freeform message outside the window", "status": 400}
            return JSONResponse(body, status_code=400)
        if self._over_rate():
            body = {"code": 20429, "message": "Too Many Requests", "status": 429}
            return JSONResponse(body, status_code=429)
        sid = f"SM{next(self._sids):032x}"
        self.messages.append({**form, "Sid": sid})
        if self._slow:
            await asyncio.sleep(self._slow.pop(0))
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": form["To"],
                "from": form.get("From"),
                "body": form.get("Body", ""),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status_code=201,
        )


class _Dropping:
    """The REST app behind a switch that cuts a connection half-way through the answer (``drop_next``)."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        fake = self.fake
        if scope["type"] == "http" and fake._drops:
            fake._drops -= 1
            fake.dropped += 1
            await send({"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"512")]})
            raise ConnectionAbortedError("connection dropped by the fake Twilio")  # uvicorn closes the socket
        await fake.app(scope, receive, send)


async def running() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake
