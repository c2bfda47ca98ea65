"""The console's routes on the one Starlette app, and the guard every one of them passes.

The guard is here, once, around every page a feature registers: no session (or an ended one) goes
to the login page, a person whose roles do not allow the page gets 403, and any method other than
GET needs the session's CSRF token (the form's ``csrf`` field, or htmx's ``X-CSRF-Token`` header).
Every answer carries headers that keep it out of caches and frames, and scripts to our own files.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.core import Core
from bot.web import audit, auth
from bot.web.pages import ConsolePage, PageEndpoint
from bot.web.view import STATIC, View, templates_for

log = logging.getLogger(__name__)

PREFIX = "/console"
COOKIE = "gv_console"
LOGIN_COOKIE = "gv_login"  # the CSRF token of the login forms, before there is a session
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
}


def _secure(core: Core) -> bool:
    return (core.settings.public_url or "").startswith("https://")


def _limits(core: Core) -> tuple[timedelta, timedelta]:
    return timedelta(minutes=core.settings.console_idle_minutes), timedelta(hours=core.settings.console_session_hours)


def _client(request: Request) -> str:
    return auth.digest(request.client.host if request.client else "unknown")[:16]


def _language(core: Core, session: auth.Session | None, request: Request) -> str:
    chosen = session.language if session is not None else None
    if chosen in core.i18n.languages:
        return chosen
    hinted = core.i18n.normalise(request.headers.get("accept-language", "").split(",")[0].split(";")[0])
    return hinted or core.i18n.default_language


def _harden(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _safe_next(target: str | None) -> str:
    """Only a console path of ours: a login link never sends anyone elsewhere."""
    if not target:
        return f"{PREFIX}/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"{PREFIX}/") or "\\" in target:
        return f"{PREFIX}/"
    return target


async def _csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, expected)


def _menu(core: Core, session: auth.Session, language: str) -> list[tuple[str, str]]:
    pages = sorted(
        (p for r in core.routers for p in r.console_pages if p.label_key and p.roles & session.person.roles),
        key=lambda p: p.order,
    )
    entries = [(f"{PREFIX}/", core.i18n.t(language, "console.menu_today"))]
    entries += [(f"{PREFIX}/{p.path}", core.i18n.t(language, p.label_key or "")) for p in pages]
    if "admin" in session.person.roles:
        entries.append((f"{PREFIX}/audit", core.i18n.t(language, "console.menu_audit")))
    return entries


def guarded(endpoint: PageEndpoint, roles: frozenset[str]) -> Callable[[Request], Awaitable[Response]]:
    """The one check in front of every console page (see the module's docstring)."""

    async def checked(request: Request) -> Response:
        core: Core = request.app.state.core
        idle, absolute = _limits(core)
        session = await auth.session_of(core.store, core.clock.now(), request.cookies.get(COOKIE), idle, absolute)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = f"{PREFIX}/login?next={quote(target)}"
            if request.headers.get("hx-request"):
                return _harden(Response(status_code=401, headers={"HX-Redirect": login}))
            if request.method == "GET":
                return _harden(RedirectResponse(login, status_code=303))
            return _harden(Response(status_code=401))
        language = _language(core, session, request)
        view = View(request, core, session, language, _menu(core, session, language))
        if not roles & session.person.roles:
            log.info("console: refused a page to person %s (roles)", session.person.id)
            return _harden(view.render("error.html", status_code=403, message=view.t("console.forbidden")))
        if request.method != "GET" and not await _csrf_ok(request, session.csrf):
            log.info("console: refused a form without its CSRF token (person %s)", session.person.id)
            return _harden(view.render("error.html", status_code=403, message=view.t("console.csrf")))
        response: Response = await endpoint(view)
        return _harden(response)

    return checked


def _login_page(core: Core, request: Request, template: str, status: int = 200, **values: object) -> Response:
    language = _language(core, None, request)
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    templates = request.app.state.console_templates
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": lambda key, **p: core.i18n.t(language, key, **p),
            "csrf": token,
            "language": language,
            "next": _safe_next(request.query_params.get("next") or None),
            "menu": [],
            **values,
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, secure=_secure(core), samesite="strict", path=f"{PREFIX}/login"
    )
    return _harden(response)


async def _login_form_ok(request: Request) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE)
    form = await request.form()
    sent = form.get("csrf")
    return bool(cookie) and isinstance(sent, str) and hmac.compare_digest(sent, cookie or "")


async def login(request: Request) -> Response:
    """GET: who are you. POST: a code is sent if you are staff; the same answer for anyone."""
    core: Core = request.app.state.core
    if request.method == "GET":
        return _login_page(core, request, "login.html")
    if not await _login_form_ok(request):
        return _login_page(
            core, request, "login.html", status=403, error=core.i18n.t(_language(core, None, request), "console.csrf")
        )
    form = await request.form()
    typed = str(form.get("who") or "").strip()
    language = _language(core, None, request)
    if not typed:
        return _login_page(core, request, "login.html", status=400, error=core.i18n.t(language, "console.login_empty"))
    attempt = await auth.start_login(core.store, core.i18n, core.clock.now(), typed, _client(request))
    core.outbox.wake()
    if attempt.limited:
        return _login_page(
            core, request, "login.html", status=429, error=core.i18n.t(language, "console.login_limited")
        )
    nxt = _safe_next(str(form.get("next") or "") or None)
    return _login_page(core, request, "login_code.html", attempt=attempt.token, next=nxt)


async def login_code(request: Request) -> Response:
    """The code typed: a session and the page asked for, or the same refusal whatever was wrong."""
    core: Core = request.app.state.core
    language = _language(core, None, request)
    form = await request.form()
    token = str(form.get("attempt") or "")
    nxt = _safe_next(str(form.get("next") or "") or None)
    if not await _login_form_ok(request):
        return _login_page(core, request, "login.html", status=403, error=core.i18n.t(language, "console.csrf"))
    person = await auth.check_code(core.store, core.clock.now(), token, str(form.get("code") or ""))
    if person is None:
        return _login_page(
            core,
            request,
            "login_code.html",
            status=400,
            attempt=token,
            next=nxt,
            error=core.i18n.t(language, "console.code_wrong"),
        )
    cookie, _ = await auth.open_session(core.store, core.clock.now(), person)
    async with core.store.transaction() as db:
        await audit.record(db, core.clock.now(), person.id, "console.login")
    response = RedirectResponse(nxt, status_code=303)
    _, absolute = _limits(core)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(absolute.total_seconds()),
        httponly=True,
        secure=_secure(core),
        samesite="lax",
        path=PREFIX,
    )
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return _harden(response)


async def logout(view: View) -> Response:
    await auth.close_session(view.core.store, view.session)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


async def choose_language(view: View) -> Response:
    form = await view.form()
    language = str(form.get("language") or "")
    if language in view.core.i18n.languages:
        await auth.set_language(view.core.store, view.session, language)
    return view.redirect(_safe_next(str(form.get("next") or "") or None))


async def today(view: View) -> Response:
    """What needs staff now: the outbox, then each feature's panel in its order."""
    panels = sorted(((o, p) for r in view.core.routers for o, p in r.today_panels), key=lambda item: item[0])
    parts: list[str | None] = [await outbox_panel(view)]
    for _, panel in panels:
        parts.append(await panel(view))
    shown = [part for part in parts if part is not None and part.strip()]
    if view.request.headers.get("hx-request"):
        return HTMLResponse("".join(shown))
    return view.render("today.html", panels=shown)


async def outbox_panel(view: View) -> str:
    """The engine's own panel: messages waiting to leave, and those that could not, over the last day."""
    store = view.core.store
    since = view.now() - timedelta(days=1)
    waiting = await store.fetchall(
        "SELECT channel, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')"
        " GROUP BY channel ORDER BY channel"
    )
    failed = await store.fetchall(
        "SELECT o.id, o.channel, o.cause, o.error, o.updated_at, p.name FROM outbox o"
        " LEFT JOIN persons p ON p.id = o.person_id"
        " WHERE o.status IN ('failed', 'undelivered') AND o.updated_at >= ? ORDER BY o.id DESC LIMIT 20",
        (since.isoformat(timespec="seconds"),),
    )
    # What no channel could carry (WhatsApp outside its 24 hours, no template, no other channel): it
    # leaves when the person writes, and staff may want to reach them another way meanwhile.
    held = await store.fetchall(
        "SELECT o.id, o.channel, o.error, o.updated_at, p.name, p.member_code FROM outbox o"
        " LEFT JOIN persons p ON p.id = o.person_id WHERE o.status = 'waiting' ORDER BY o.id DESC LIMIT 20"
    )
    # In demo mode (no provider), what the outbox "delivered" is shown as the recipient read it.
    demo = await store.fetchall(
        "SELECT o.channel, o.body, o.updated_at, p.name FROM outbox o LEFT JOIN persons p ON p.id = o.person_id"
        " WHERE o.provider_id LIKE 'demo-%' AND o.updated_at >= ? ORDER BY o.id DESC LIMIT 10",
        (since.isoformat(timespec="seconds"),),
    )
    return view.fragment(
        "outbox_panel.html", waiting=[(r["channel"], r["n"]) for r in waiting], failed=failed, held=held, demo=demo
    )


async def audit_page(view: View) -> Response:
    return view.render("audit.html", lines=await audit.latest(view.core.store))


ENGINE_PAGES = (
    ConsolePage("", today, ("GET",), auth.CONSOLE_ROLES),
    ConsolePage("logout", logout, ("POST",), auth.CONSOLE_ROLES),
    ConsolePage("language", choose_language, ("POST",), auth.CONSOLE_ROLES),
    ConsolePage("audit", audit_page, ("GET",), frozenset({"admin"})),
)


def console_routes(core: Core) -> list[BaseRoute]:
    """Every route of the console: login, the engine's pages, each feature's, and the static files."""
    routes: list[BaseRoute] = [
        Route(f"{PREFIX}", lambda request: RedirectResponse(f"{PREFIX}/", status_code=308), methods=["GET"]),
        Route(f"{PREFIX}/login", login, methods=["GET", "POST"]),
        Route(f"{PREFIX}/login/code", login_code, methods=["POST"]),
    ]
    pages = [*ENGINE_PAGES, *(p for r in core.routers for p in r.console_pages)]
    for page in pages:
        routes.append(Route(f"{PREFIX}/{page.path}", guarded(page.endpoint, page.roles), methods=list(page.methods)))
    routes.append(Mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static"))
    return routes


def body_limits(core: Core) -> dict[str, int]:
    """The pages that take more than a form (a roster file), by path, for the app's body limit."""
    return {f"{PREFIX}/{p.path}": p.max_body for r in core.routers for p in r.console_pages if p.max_body}


def install(app: object, core: Core) -> None:
    """The templates the routes render with, kept on the app's state."""
    app.state.console_templates = templates_for(core)  # type: ignore[attr-defined]
