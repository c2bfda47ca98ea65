"""The one Starlette app that serves every HTTP route: webhooks and ``/healthz``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import Core
from bot.channels import sms

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """For monitors: 200 when the database answers and the scheduler runs, 503 otherwise."""
    core: Core = request.app.state.core
    try:
        database = "ok" if await core.store.ping() else "error"
    except Exception:
        database = "error"
    scheduler = "running" if core.scheduler.running else "stopped"
    backlog = await core.outbox.backlog() if database == "ok" else None
    healthy = database == "ok" and scheduler == "running"
    body = {"status": "ok" if healthy else "degraded", "database": database, "scheduler": scheduler}
    return JSONResponse({**body, "outbox_backlog": backlog}, status_code=200 if healthy else 503)


def build_http_app(core: Core, telegram: TelegramChannel | None = None) -> Starlette:
    routes = [Route("/healthz", healthz, methods=["GET"])]
    if core.settings.sms_enabled:
        routes.append(Route("/twilio/sms", sms.inbound_sms, methods=["POST"]))
        routes.append(Route("/twilio/status", sms.status_callback, methods=["POST"]))
    if telegram is not None and telegram.webhook:
        routes.append(Route("/telegram", telegram.webhook_endpoint, methods=["POST"]))
    for router in core.routers:
        routes += [Route(r.path, r.endpoint, methods=list(r.methods)) for r in router.routes]
    app = Starlette(routes=routes)
    app.state.core = core
    return app
