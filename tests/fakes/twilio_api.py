"""A fake Twilio REST API on 127.0.0.1 for the real twilio client (``client.api.base_url``).

It records every message, checks Basic auth, answers like Twilio (201 with a Message resource),
and fails on demand: 429, 500, a Twilio error code such as 21610, or a slow answer. With
``max_per_second`` it enforces a sending rate like a Twilio number or Messaging Service: a message
over it gets 429 with code 20429 and is counted in ``throttled``; ``stamps`` keeps the arrival time
of every accepted message, so a test can prove the rate was never exceeded.
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
        self._sids = itertools.count(1)
        self._serving: AbstractAsyncContextManager[str] | None = None
        self.url = ""
        self.app = Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"])])

    async def __aenter__(self) -> FakeTwilio:
        self._serving = serve(self.app)
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
        form = {k: str(v) for k, v in (await request.form()).items()}
        if self.failures:
            failure = self.failures.pop(0)
            body: dict[str, Any] = {"code": failure.code, "message": failure.message, "status": failure.status}
            return JSONResponse(body, status_code=failure.status)
        if not form.get("To") or not form.get("Body") or not (form.get("From") or form.get("MessagingServiceSid")):
            return JSONResponse({"code": 21604, "message": "missing parameter", "status": 400}, status_code=400)
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
                "body": form["Body"],
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status_code=201,
        )


async def running() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake
