"""The staff console lets in only staff who received a code, and only with the session's CSRF token."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from starlette.routing import Route

from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from bot.web import auth
from tests.conftest import make_settings, opened_core
from tests.console_kit import Browser, add_person, console, csrf_of, last_code

STAFF_PHONE = "+33639980101"
RESIDENT_PHONE = "+33639980102"
ADMIN_PHONE = "+33639980103"


def console_routes(core: Core) -> list[tuple[str, list[str]]]:
    """Every guarded console route, with a sample value for its path parameters."""
    app = build_http_app(core)
    found = []
    for route in app.routes:
        if (
            isinstance(route, Route)
            and route.path.startswith("/console/")
            and not route.path.startswith("/console/login")
        ):
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            found.append((path, sorted(route.methods or ())))
    return found


async def test_every_console_route_refuses_a_visitor_without_a_session(core: Core) -> None:
    """No cookie: a page sends to the login page, a form is refused, and nothing runs."""
    routes = console_routes(core)
    assert ("/console/", ["GET", "HEAD"]) in routes and len(routes) >= 4
    async with console(core) as browser:
        for path, methods in routes:
            for method in methods:
                if method == "HEAD":
                    continue
                response = await browser.client.request(method, path, data={"csrf": "x"})
                if method == "GET":
                    assert response.status_code == 303, path
                    assert response.headers["location"].startswith("/console/login?next="), path
                else:
                    assert response.status_code == 401, (method, path)


async def test_a_resident_gets_no_code_and_no_session(core: Core) -> None:
    """A resident asking for a code gets the same neutral page as staff, and no code is queued."""
    resident = await add_person(core, "Awa", ("resident",), RESIDENT_PHONE, "GV-RA2C")
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    async with console(core) as browser:
        for_resident = await browser.ask_code("GV-RA2C")
        for_staff = await browser.ask_code("GV-KP72")
        for_nobody = await browser.ask_code("06 00 00 00 00")
    neutral = [re.sub(r'value="[^"]+"', "", r.text) for r in (for_resident, for_staff, for_nobody)]
    assert neutral[0] == neutral[1] == neutral[2]
    assert {r.status_code for r in (for_resident, for_staff, for_nobody)} == {200}
    assert "un code à 6 chiffres vient de lui être envoyé" in for_staff.text
    queued = await core.store.fetchall("SELECT person_id FROM outbox WHERE cause LIKE 'console:login:%'")
    assert [row["person_id"] for row in queued] == [staff]
    assert resident not in [row["person_id"] for row in queued]


async def test_a_non_staff_session_is_refused_everywhere(core: Core) -> None:
    """Even a session row for a resident (or for staff whose role was taken away) opens no page."""
    resident = await add_person(core, "Awa", ("resident",), RESIDENT_PHONE, "GV-RA2C")
    async with core.store.transaction() as db:
        person = await _person(db, resident)
    token, _ = await auth.open_session(core.store, core.clock.now(), person)
    async with console(core) as browser:
        browser.client.cookies.set("gv_console", token)
        for path, methods in console_routes(core):
            if "GET" in methods:
                response = await browser.client.get(path)
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/console/login"), path


async def _person(db, person_id):  # type: ignore[no-untyped-def]
    from bot import people

    return await people.get_person(db, person_id)


async def test_staff_log_in_with_the_code_the_bot_sent_and_log_out(core: Core) -> None:
    """The code from the bot opens a session (HttpOnly cookie); logging out ends it, the old cookie opens nothing."""
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    async with console(core) as browser:
        response = await browser.log_in("06 39 98 01 01", staff)
        assert response.status_code == 303 and response.headers["location"] == "/console/"
        cookie = response.headers["set-cookie"]
        assert "gv_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        today = await browser.client.get("/console/")
        assert today.status_code == 200 and "Aujourd'hui" in unescape(today.text) and "Claire" in today.text
        old = browser.client.cookies.get("gv_console")
        out = await browser.client.post("/console/logout", data={"csrf": csrf_of(today.text)})
        assert out.status_code == 303
        browser.client.cookies.set("gv_console", old or "")
        again = await browser.client.get("/console/")
        assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    lines = await core.store.fetchall("SELECT action, person_id FROM console_audit")
    assert [(r["action"], r["person_id"]) for r in lines] == [("console.login", staff)]


async def test_forms_without_the_csrf_token_are_refused(core: Core) -> None:
    """A form posted without the session's token (or with another) changes nothing: logout is refused."""
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    async with console(core) as browser:
        await browser.log_in("GV-KP72", staff)
        for data in ({}, {"csrf": "forged"}):
            refused = await browser.client.post("/console/logout", data=data)
            assert refused.status_code == 403
            assert "rien n'a été modifié" in unescape(refused.text)
        assert (await browser.client.get("/console/")).status_code == 200
        login_page = await browser.client.get("/console/login")
        forged = await browser.client.post("/console/login", data={"who": "GV-KP72", "csrf": "forged"})
        assert forged.status_code == 403 and login_page.status_code == 200


async def test_the_login_code_cannot_be_guessed_within_the_limits(core: Core) -> None:
    """Five wrong codes end the attempt (the right one then fails too); a fourth code in 15 minutes is not sent."""
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    async with console(core) as browser:
        sent = await browser.ask_code("GV-KP72")
        code = await last_code(core, staff)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(auth.CODE_TRIES):
            refused = await browser.give_code(sent, wrong)
            assert refused.status_code == 400 and "Code incorrect ou expiré" in refused.text
        late = await browser.give_code(sent, code)
        assert late.status_code == 400 and "gv_console" not in browser.client.cookies
        for _ in range(auth.CODES_PER_PERSON - 1):
            await browser.ask_code("GV-KP72")
        limited = await browser.ask_code("GV-KP72")
        assert limited.status_code == 200  # the page does not tell staff from others...
    codes = await core.store.fetchone(
        "SELECT COUNT(*) AS n FROM outbox WHERE person_id = ? AND cause LIKE 'console:login:%'", (staff,)
    )
    assert codes is not None and codes["n"] == auth.CODES_PER_PERSON  # ...but no fourth code left


async def test_a_code_expires_and_a_session_ends_when_idle_or_when_the_role_goes(core: Core, clock: FakeClock) -> None:
    """After its minutes a code fails; an idle session ends; taking away the staff role ends it at the next page."""
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    async with console(core) as browser:
        sent = await browser.ask_code("GV-KP72")
        code = await last_code(core, staff)
        clock.advance(minutes=auth.CODE_MINUTES + 1)
        expired = await browser.give_code(sent, code)
        assert expired.status_code == 400
        assert (await browser.log_in("GV-KP72", staff)).status_code == 303
        clock.advance(minutes=core.settings.console_idle_minutes + 1)
        assert (await browser.client.get("/console/")).status_code == 303
        assert (await browser.log_in("GV-KP72", staff)).status_code == 303
        await core.store.execute("DELETE FROM person_roles WHERE person_id = ? AND role = 'staff'", (staff,))
        assert (await browser.client.get("/console/")).status_code == 303


async def test_only_admins_read_the_audit_log(core: Core) -> None:
    """Staff get 403 on the audit page and no menu entry; an admin reads who logged in."""
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    admin = await add_person(core, "Malik", ("admin",), ADMIN_PHONE, "GV-AD34")
    async with console(core) as staff_browser:
        await staff_browser.log_in("GV-KP72", staff)
        page = await staff_browser.client.get("/console/")
        assert "/console/audit" not in page.text
        assert (await staff_browser.client.get("/console/audit")).status_code == 403
    async with console(core) as admin_browser:
        await admin_browser.log_in("GV-AD34", admin)
        audit = await admin_browser.client.get("/console/audit")
        assert audit.status_code == 200 and "console.login" in audit.text and "Claire" in audit.text


async def test_cookies_are_secure_when_the_public_url_is_https(tmp_path: Path, clock: FakeClock) -> None:
    """Behind TLS (PUBLIC_URL https), the login and session cookies are sent over https only."""
    async with opened_core(make_settings(tmp_path / "tls"), clock) as tls_core, console(tls_core) as browser:
        page = await browser.client.get("/console/login")
    assert "Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]


async def test_pages_carry_headers_that_keep_them_out_of_caches_and_frames(core: Core) -> None:
    """Every console answer: no-store, no framing, scripts only from the site itself."""
    async with console(core) as browser:
        page = await browser.client.get("/console/login")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_a_login_link_never_sends_anyone_elsewhere(core: Core) -> None:
    """``next`` pointing outside the console is replaced by the Today page."""
    staff = await add_person(core, "Claire", ("staff",), STAFF_PHONE, "GV-KP72")
    async with console(core) as browser:
        sent = await browser.ask_code("GV-KP72")
        response = await browser.give_code(sent, await last_code(core, staff), "https://evil.example/")
    assert response.headers["location"] == "/console/"


__all__ = ["Browser"]
