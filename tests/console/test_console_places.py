"""The console's Places page: staff see what the answers say, mark a place checked, edit it, import and export."""

from __future__ import annotations

from html import unescape

from bot.clock import FakeClock
from bot.core import Core
from bot.messages import Channel, Inbound
from tests.console_kit import console, staff_in

PLACE = "esi_bichat"


async def test_a_place_marked_checked_today_is_said_so_by_the_answers(core: Core, clock: FakeClock) -> None:
    """ "Vérifié aujourd'hui" sets the day; the place leaves the places to check again; the audit keeps it."""
    clock.advance(days=400)  # every seed place is then over six months old
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire Equipe")
        today = await browser.client.get("/console/")
        assert "Lieux à revérifier" in unescape(today.text)
        listed = await browser.client.get("/console/places", params={"stale": "1"})
        assert PLACE in listed.text
        csrf = await browser.csrf("/console/places")
        done = await browser.client.post(f"/console/places/{PLACE}/check", data={"csrf": csrf})
        assert done.status_code == 303
        after = await browser.client.get("/console/places", params={"stale": "1"})
        assert f'id="{PLACE}"' not in after.text
        unknown = await browser.client.post("/console/places/esi_nowhere/check", data={"csrf": csrf})
        assert unknown.status_code == 404
    row = await core.store.fetchone("SELECT verified_on, origin FROM places WHERE key = ?", (PLACE,))
    assert row is not None and row["origin"] == "staff"
    assert row["verified_on"] == clock.now().astimezone(core.settings.tz).date().isoformat()
    line = await core.store.fetchone("SELECT person_id, target FROM console_audit WHERE action = 'places.check'")
    assert line is not None and line["person_id"] == staff and line["target"] == f"place:{PLACE}"


async def test_an_edit_is_checked_like_an_imported_row_and_the_answers_follow(core: Core) -> None:
    """Wrong hours are refused with the reason and change nothing; a new phone is saved and answered at once."""
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        page = await browser.client.get(f"/console/places/{PLACE}")
        assert page.status_code == 200
        fields = dict(
            (name, unescape(value))
            for name, value in __import__("re").findall(r'name="([a-z_]+)" value="([^"]*)"', page.text)
            if name != "csrf"
        )
        csrf = await browser.csrf(f"/console/places/{PLACE}")
        bad = await browser.client.post(f"/console/places/{PLACE}", data={**fields, "csrf": csrf, "mon": "25h-32h"})
        assert bad.status_code == 400
        good = await browser.client.post(
            f"/console/places/{PLACE}", data={**fields, "csrf": csrf, "phone": "01 40 25 80 80"}
        )
        assert good.status_code == 303
    row = await core.store.fetchone("SELECT entry FROM places WHERE key = ?", (PLACE,))
    assert row is not None and "01 40 25 80 80" in row["entry"]
    audit = await core.store.fetchone("SELECT before, after FROM console_audit WHERE action = 'places.edit'")
    assert audit is not None and "01 40 25 80 80" in audit["after"] and "01 40 18 04 41" in audit["before"]


async def test_the_places_export_imports_back_unchanged_after_a_trial(core: Core) -> None:
    """The exported file, tried then imported, changes nothing; a refused line is shown by its number."""
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        exported = await browser.client.get("/console/places/export")
        assert exported.status_code == 200 and exported.content.startswith("\ufeffkey;".encode())
        csrf = await browser.csrf("/console/places/import")
        trial = await browser.client.post(
            "/console/places/import", data={"csrf": csrf}, files={"file": ("lieux.csv", exported.content, "text/csv")}
        )
        assert "Refusés : 0" in unescape(trial.text) and "Mis à jour : 0" in unescape(trial.text)
        columns = exported.content.decode("utf-8-sig").splitlines()[0].count(";") + 1
        broken = exported.content + ("x_sans_nom" + ";" * (columns - 1) + "\r\n").encode()
        refused = await browser.client.post(
            "/console/places/import", data={"csrf": csrf}, files={"file": ("lieux.csv", broken, "text/csv")}
        )
        assert "Refusés : 1" in unescape(refused.text) and "<td>" in refused.text


async def test_a_resident_asking_then_gets_the_place_as_staff_left_it(core: Core) -> None:
    """After an edit in the console, the bot's next answer names the new phone, without a restart."""
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        page = await browser.client.get(f"/console/places/{PLACE}")
        fields = dict(
            (name, unescape(value))
            for name, value in __import__("re").findall(r'name="([a-z_]+)" value="([^"]*)"', page.text)
            if name != "csrf"
        )
        csrf = await browser.csrf(f"/console/places/{PLACE}")
        await browser.client.post(f"/console/places/{PLACE}", data={**fields, "csrf": csrf, "phone": "01 40 25 80 80"})
    replies = await core.dispatcher.handle(Inbound(Channel.CONSOLE, "terminal-x", "accueil de jour 10e"))
    text = " ".join(r.text for r in replies)
    assert "ESI Bichat, 35 rue Bichat 75010, 0140258080" in text and "0140180441" not in text
