"""The one Starlette app that serves every HTTP route: webhooks and ``/healthz``.

Every request body is bounded by :class:`BodyLimit`, one middleware around the whole app, so a
route added later (a feature's ``Router.route``) is bounded too without doing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core import Core
from bot.messages import Inbound
from bot.web import app as console

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

# Seconds a client has to send the whole body once its headers are in: one byte a second is cut off.
BODY_TIMEOUT = 10.0
# Any route without a limit of its own (a feature's route): far more than a form or a query needs.
DEFAULT_MAX_BODY = 64 * 1024


class _BodyRefused(Exception):
    """Raised into the endpoint that reads a body over its limit or too slow; the middleware answers."""


class BodyLimit:
    """Bounds every request body while it is read, with or without Content-Length, and in time.

    A declared Content-Length over the route's limit is answered 413 before anything is read; a
    chunked body is counted as it arrives and cut at the limit (413); a body not in after
    ``timeout`` seconds gets 408. The endpoint reading it gets an exception, and whatever it
    answers then is replaced by that status. An answer sent before the body is all in (a wrong
    signature or secret) closes the connection, so the rest is never read.
    """

    def __init__(
        self, app: ASGIApp, limits: Mapping[str, int], default: int = DEFAULT_MAX_BODY, timeout: float | None = None
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default
        self.timeout = BODY_TIMEOUT if timeout is None else timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refusal(413)(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        received = 0
        complete = length == "0" or (length is None and "transfer-encoding" not in headers)
        verdict: int | None = None
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, complete, verdict
            if verdict is not None:
                raise _BodyRefused(verdict)
            if complete:
                return await receive()  # the body is in: only the disconnect is left to wait for
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                verdict = 408
                raise _BodyRefused(verdict) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    verdict = 413
                    raise _BodyRefused(verdict)
                complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if verdict is not None:
                return  # the endpoint's answer to a refused body: ours goes instead
            if message["type"] == "http.response.start":
                started = True
                if not complete:
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if verdict is None:
                raise
        if verdict is not None:
            log.info("refused a request body on %s: %s", scope["path"], verdict)
            if not started:
                await _refusal(verdict)(scope, receive, send)


def _refusal(status: int) -> PlainTextResponse:
    text = "Request too large" if status == 413 else "Request body too slow"
    return PlainTextResponse(text, status_code=status, headers={"Connection": "close"})


async def healthz(request: Request) -> JSONResponse:
    """For monitors: 200 when the database can be read and written and the scheduler runs, 503 otherwise."""
    core: Core = request.app.state.core
    try:
        database = "ok" if await core.store.ping() else "error"
    except Exception:
        database = "error"
    backlog = await core.outbox.backlog() if database == "ok" else None
    waiting = await core.outbox.waiting() if database == "ok" else None
    if database == "ok":
        database = await core.store.unwritable() or "ok"  # "full", "read-only"
    scheduler = "running" if core.scheduler.running else "stopped"
    healthy = database == "ok" and scheduler == "running"
    body = {"status": "ok" if healthy else "degraded", "database": database, "scheduler": scheduler}
    settings = core.settings
    channels = {
        "telegram": settings.telegram_enabled,
        "sms": settings.sms_enabled,
        "whatsapp": settings.whatsapp_enabled,
        "voice": settings.voice_on,
    }
    extra = {"outbox_waiting": waiting, "channels": {name: "on" if on else "off" for name, on in channels.items()}}
    return JSONResponse({**body, "outbox_backlog": backlog, **extra}, status_code=200 if healthy else 503)


async def unavailable_text(core: Core, inbound: Inbound) -> str:
    """The short "try again later, 115, 112" answer of every channel when the database cannot be written.

    In the person's language when it can still be read (a full disk still reads), else the hint
    their app gave, else the default.
    """
    language = None
    with contextlib.suppress(Exception):
        row = await core.store.fetchone(
            "SELECT p.language FROM identities i JOIN persons p ON p.id = i.person_id"
            " WHERE i.channel = ? AND i.address = ?",
            (inbound.channel.value, inbound.address),
        )
        language = row[0] if row is not None else None
    language = language or core.i18n.normalise(inbound.language_hint) or core.i18n.default_language
    return core.i18n.t(language, "core.unavailable")


def build_http_app(core: Core, telegram: TelegramChannel | None = None, body_timeout: float | None = None) -> Starlette:
    """The app with every route; ``body_timeout`` defaults to :data:`BODY_TIMEOUT`."""
    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    limits: dict[str, int] = {}
    if core.settings.sms_enabled:
        # Here, not at the top: sms imports this module's helpers, and twilio loads only when SMS is on.
        from bot.channels import sms

        routes.append(Route("/twilio/sms", sms.inbound_sms, methods=["POST"]))
        routes.append(Route("/twilio/status", sms.status_callback, methods=["POST"]))
        limits["/twilio/sms"] = limits["/twilio/status"] = sms.MAX_REQUEST_BYTES
    if core.settings.whatsapp_enabled:
        from bot.channels import whatsapp

        routes.append(Route("/twilio/whatsapp", whatsapp.inbound_whatsapp, methods=["POST"]))
        limits["/twilio/whatsapp"] = whatsapp.MAX_REQUEST_BYTES
    if core.settings.voice_on:
        from bot.channels import voice

        voice_routes = voice.routes(core)
        routes += voice_routes
        limits.update(dict.fromkeys((r.path for r in voice_routes), voice.MAX_REQUEST_BYTES))
    if telegram is not None and telegram.webhook:
        from bot.channels.telegram import MAX_UPDATE_BYTES

        routes.append(Route("/telegram", telegram.webhook_endpoint, methods=["POST"]))
        limits["/telegram"] = MAX_UPDATE_BYTES
    for router in core.routers:
        routes += [Route(r.path, r.endpoint, methods=list(r.methods)) for r in router.routes]
    routes += console.console_routes(core)
    limits.update(console.body_limits(core))
    app = Starlette(routes=routes, middleware=[Middleware(BodyLimit, limits=limits, timeout=body_timeout)])
    app.state.core = core
    console.install(app, core)
    return app
