"""Staff run the shifts from the console over real HTTP: the week, assign within the 16 h, cancel, attendance, hours."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import httpx

from bot.core import Core
from handlers.shifts import model, reports
from tests.console_kit import Browser, add_person, console, staff_in
from tests.helpers import conciergerie_shift

SAMIR_PHONE = "+33639980111"
SAMIR = "GV-HAD2"


async def worker(core: Core, name: str, phone: str, code: str, hours: int = 16) -> int:
    """A Premières Heures worker with ``hours`` a week from the demo's week on."""
    person_id = await add_person(core, name, ("worker",), phone, code)
    async with core.store.transaction() as db:
        await model.set_contract(db, core.clock.now(), person_id, hours * 60, date(2026, 11, 23))
    return person_id


async def shift_on(core: Core, day: date, start: str, end: str, *workers: int, capacity: int = 2) -> model.Shift:
    async with core.store.transaction() as db:
        return await conciergerie_shift(db, core.clock.now(), core.i18n, day, start, end, *workers, capacity=capacity)


async def post(browser: Browser, path: str, page: str, **data: str) -> httpx.Response:
    """A form of ``page`` posted as a browser does, with the session's CSRF token."""
    return await browser.client.post(path, data={"csrf": await browser.csrf(page), **data})


async def confirm(browser: Browser, preview: httpx.Response) -> httpx.Response:
    """The preview's own confirmation form, posted back as it stands."""
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', preview.text, re.S)
    assert form is not None, preview.text[:2000]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    assert fields["confirm"] == "1"
    return await browser.client.post(unescape(form.group(1)), data={k: unescape(v) for k, v in fields.items()})


async def rows(core: Core, sql: str, *params: object) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await core.store.fetchall(sql, params)]


async def audit_lines(core: Core, action: str) -> list[tuple[object, ...]]:
    return await rows(core, "SELECT person_id, target, before, after FROM console_audit WHERE action = ?", action)


def text(response: httpx.Response) -> str:
    return unescape(response.text)


async def test_the_week_grid_shows_the_shifts_by_activity_and_day(core: Core) -> None:
    """This week by default, another by a date in it, with links to the weeks around; each shift and who is on it."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    shift = await shift_on(core, date(2026, 12, 8), "09:00", "12:00", samir)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire")
        this_week = await browser.client.get("/console/shifts")
        assert this_week.status_code == 200
        assert "Semaine du 23 novembre 2026" in text(this_week) and "Service cantine" in text(this_week)
        page = await browser.client.get("/console/shifts", params={"week": "09/12/2026"})
    shown = text(page)
    assert page.status_code == 200
    assert "Semaine du 7 décembre 2026" in shown and "2026-W50" in shown
    assert "mar. 8 déc." in shown and "Nettoyage des locaux" in shown
    assert f'href="/console/shifts/shift/{shift.id}">09:00-12:00' in shown
    assert "Places : 1/2" in shown and "Samir Haddad : pas de réponse" in shown
    assert "?week=2026-11-30" in shown and "?week=2026-12-14" in shown


async def test_a_new_shift_needs_a_known_activity(core: Core) -> None:
    """A slip in the activity is refused with the close names and nothing is made; the right name creates it."""
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire")
        typed = {"day": "2026-12-10", "start": "09:00", "end": "12:00", "place": "Lingerie", "capacity": "2"}
        refused = await post(
            browser, "/console/shifts/create", "/console/shifts", activity="Netoyage des locos", **typed
        )
        assert refused.status_code == 400
        assert "Activité inconnue" in text(refused) and "Vouliez-vous dire : Nettoyage des locaux" in text(refused)
        assert await rows(core, "SELECT id FROM shifts WHERE local_date = '2026-12-10'") == []
        made = await post(
            browser, "/console/shifts/create", "/console/shifts", activity="nettoyage des locaux", **typed
        )
        assert made.status_code == 303
        page = await browser.client.get(made.headers["location"])
    assert "Créneau créé." in text(page) and "Nettoyage des locaux, Lingerie" in text(page)
    [(shift_id,)] = await rows(core, "SELECT id FROM shifts WHERE local_date = '2026-12-10'")
    [line] = await audit_lines(core, "shifts.create")
    assert line[:3] == (staff, f"shift:{shift_id}", None) and "Nettoyage des locaux" in str(line[3])


async def test_assigning_within_the_cap_is_previewed_then_tells_the_worker(core: Core) -> None:
    """The week's hours against the contract and the 16 h, the message shown first; confirmed, the worker is told."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    shift = await shift_on(core, date(2026, 12, 10), "09:00", "12:00")
    page_path = f"/console/shifts/shift/{shift.id}"
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire")
        page = await browser.client.get(page_path)
        assert "Samir Haddad (GV-HAD2)" in text(page) and "16 h" in text(page)
        preview = await post(browser, f"{page_path}/assign", page_path, person=str(samir))
        assert preview.status_code == 200
        assert "Affecter à ce créneau ?" in text(preview)
        assert "Cette semaine : 0 min prévues + 3 h = 3 h (contrat 16 h, plafond 16 h)." in text(preview)
        assert "Premières Heures : vous travaillez le jeu. 10 déc. 09:00-12:00" in text(preview)
        assert await rows(core, "SELECT id FROM shift_assignments WHERE shift_id = ?", shift.id) == []
        assert await rows(core, "SELECT id FROM outbox WHERE person_id = ?", samir) == []
        done = await confirm(browser, preview)
        assert done.status_code == 303
        after = await browser.client.get(done.headers["location"])
    assert "Affectation faite" in text(after)
    assert await rows(core, "SELECT person_id FROM shift_assignments WHERE shift_id = ?", shift.id) == [(samir,)]
    told = await rows(core, "SELECT cause, channel FROM outbox WHERE person_id = ?", samir)
    assert len(told) == 1 and str(told[0][0]).startswith(f"shift:{shift.id}:assigned:") and told[0][1] == "sms"
    [line] = await audit_lines(core, "shifts.assign")
    assert line[:2] == (staff, f"shift:{shift.id}") and SAMIR in str(line[3])


async def test_an_assignment_over_16_hours_is_refused_with_the_figures(core: Core) -> None:
    """12 h planned, a 6-hour shift: refused at the preview and on a forced confirm, with the sum; nothing written."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    await shift_on(core, date(2026, 12, 7), "08:00", "14:00", samir)
    await shift_on(core, date(2026, 12, 8), "08:00", "14:00", samir)
    extra = await shift_on(core, date(2026, 12, 9), "08:00", "14:00")
    told_before = await rows(core, "SELECT id FROM outbox WHERE person_id = ?", samir)
    page_path = f"/console/shifts/shift/{extra.id}"
    async with console(core) as browser:
        await staff_in(core, browser, "Claire")
        page = await browser.client.get(page_path)
        assert re.search(r"Samir Haddad \(GV-HAD2\)</th>\s*<td>12 h</td>\s*<td>18 h</td>\s*<td>16 h</td>", page.text)
        for forced in ({}, {"confirm": "1"}):
            refused = await post(browser, f"{page_path}/assign", page_path, person=str(samir), **forced)
            assert refused.status_code == 400
            assert "12 h prévues + 6 h = 18 h > 16 h" in text(refused)
            assert "plus de 16 h dans la semaine du 7 décembre 2026" in text(refused)
            assert "Rien n'a été modifié." in text(refused)
    assert await rows(core, "SELECT id FROM shift_assignments WHERE shift_id = ?", extra.id) == []
    assert await rows(core, "SELECT id FROM outbox WHERE person_id = ?", samir) == told_before
    assert await audit_lines(core, "shifts.assign") == []


async def test_cancelling_is_confirmed_then_tells_the_assigned_worker(core: Core) -> None:
    """A reason first; the preview shows the worker's message; confirmed, the shift is cancelled and they are told."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    shift = await shift_on(core, date(2026, 12, 10), "09:00", "12:00", samir)
    page_path = f"/console/shifts/shift/{shift.id}"
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire")
        no_reason = await post(browser, f"{page_path}/cancel", page_path, reason=" ")
        assert no_reason.status_code == 400 and "Donnez la raison" in text(no_reason)
        preview = await post(browser, f"{page_path}/cancel", page_path, reason="fuite d'eau")
        assert preview.status_code == 200 and "Annuler ce créneau ?" in text(preview)
        assert "Samir Haddad (GV-HAD2)" in text(preview) and "est annulé. fuite d'eau" in text(preview)
        assert await rows(core, "SELECT status FROM shifts WHERE id = ?", shift.id) == [("planned",)]
        done = await confirm(browser, preview)
        assert done.status_code == 303
        after = await browser.client.get(done.headers["location"])
    assert "Créneau annulé" in text(after) and "(fuite d'eau)" in text(after)
    assert await rows(core, "SELECT status, reason FROM shifts WHERE id = ?", shift.id) == [
        ("cancelled", "fuite d'eau")
    ]
    told = await rows(
        core, "SELECT body FROM outbox WHERE person_id = ? AND cause = ?", samir, f"shift:{shift.id}:cancelled"
    )
    assert len(told) == 1 and "fuite d'eau" in str(told[0][0])
    [line] = await audit_lines(core, "shifts.cancel")
    assert line[:2] == (staff, f"shift:{shift.id}") and '"planned"' in str(line[2]) and '"cancelled"' in str(line[3])


async def test_changing_a_shift_shows_before_and_after_and_tells_the_worker(core: Core) -> None:
    """A new time is shown with the message first; confirmed, the shift moves and its worker is told."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    shift = await shift_on(core, date(2026, 12, 10), "09:00", "12:00", samir)
    page_path = f"/console/shifts/shift/{shift.id}"
    typed = {"day": "2026-12-10", "start": "10:00", "end": "13:00", "place": "Conciergerie", "capacity": "2"}
    async with console(core) as browser:
        await staff_in(core, browser, "Claire")
        preview = await post(browser, f"{page_path}/change", page_path, **typed)
        assert preview.status_code == 200
        assert "Avant : jeu. 10 déc. 09:00-12:00" in text(preview) and "Après : jeu. 10 déc. 10:00-13:00" in text(
            preview
        )
        assert await rows(core, "SELECT start_local FROM shifts WHERE id = ?", shift.id) == [("09:00",)]
        assert (await confirm(browser, preview)).status_code == 303
    assert await rows(core, "SELECT start_local FROM shifts WHERE id = ?", shift.id) == [("10:00",)]
    assert len(await rows(core, "SELECT id FROM outbox WHERE cause = ?", f"shift:{shift.id}:changed:v2")) == 1
    assert len(await audit_lines(core, "shifts.change")) == 1


async def test_attendance_is_recorded_and_the_hours_file_downloads(core: Core) -> None:
    """After the shift started: present is recorded (audited); the month's CSV is the command line's file."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    shift = await shift_on(core, date(2026, 11, 25), "07:00", "09:00", samir)
    [(assignment,)] = await rows(core, "SELECT id FROM shift_assignments WHERE shift_id = ?", shift.id)
    page_path = f"/console/shifts/shift/{shift.id}"
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire")
        page = await browser.client.get(page_path)
        assert "Présences (comptent pour la paie)" in text(page)
        marked = await post(browser, f"{page_path}/attendance", page_path, **{f"mark_{assignment}": "present"})
        assert marked.status_code == 303
        after = await browser.client.get(marked.headers["location"])
        assert "Présences enregistrées." in text(after)
        hours = await browser.client.get("/console/shifts/hours", params={"month": "2026-11"})
        assert "Samir Haddad (GV-HAD2)" in text(hours) and "2026-W48 : 2 h" in text(hours)
        download = await browser.client.get("/console/shifts/hours.csv", params={"month": "2026-11"})
    assert await rows(core, "SELECT attendance FROM shift_assignments WHERE id = ?", assignment) == [("present",)]
    [line] = await audit_lines(core, "shifts.attendance")
    assert line[:2] == (staff, f"shift:{shift.id}") and '"present"' in str(line[3])
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="shifts-hours-2026-11.csv"' in download.headers["content-disposition"]
    async with core.store.transaction() as db:
        expected = reports.hours_csv(await reports.month_hours(db, date(2026, 11, 1)), date(2026, 11, 1))
    assert download.content == expected and SAMIR.encode() in download.content
    assert len(await audit_lines(core, "shifts.hours_export")) == 1


async def test_the_today_panel_shows_who_said_oui_non_or_nothing(core: Core) -> None:
    """Today's shift with each worker's answer to the reminder, and those who have not answered before the cut-off."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    nara = await worker(core, "Nara Diallo", "+33639980112", "GV-NAR4")
    omar = await worker(core, "Omar Benali", "+33639980113", "GV-MAR3")
    shift = await shift_on(core, date(2026, 11, 25), "14:00", "17:00", samir, nara, omar, capacity=3)
    async with core.store.transaction() as db:
        seats = {a.person_id: a.id for a in await model.assignments_of(db, shift.id)}
        await model.answer(db, core.clock.now(), seats[samir], "yes")
        await model.release(db, core.clock.now(), core.i18n, seats[nara], "declined")
    async with console(core) as browser:
        await staff_in(core, browser, "Claire")
        today = await browser.client.get("/console/")
    shown = text(today)
    assert "Créneaux d'aujourd'hui" in shown and "14:00-17:00" in shown
    assert "Samir Haddad (GV-HAD2) : OUI" in shown
    assert "Nara Diallo (GV-NAR4) : NON" in shown
    assert "Omar Benali (GV-MAR3) : pas de réponse" in shown
    assert "Pas de réponse au rappel" in shown and "réponse attendue avant le 25/11/2026 11:00" in shown


async def test_contracts_are_for_workers_only(core: Core) -> None:
    """Hours are set for a worker from a date (audited); a resident is refused with how to give the role."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR, hours=8)
    resident = await add_person(core, "Awa", ("resident",), "+33639980120", "GV-RAC4")
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire")
        page = await browser.client.get("/console/shifts/contracts")
        assert "Samir Haddad (GV-HAD2)" in text(page) and "Awa" not in text(page)
        form = {"hours": "12h30", "valid_from": "07/12/2026"}
        refused = await post(
            browser, "/console/shifts/contracts/set", "/console/shifts/contracts", person=str(resident), **form
        )
        assert refused.status_code == 400 and "il faut le rôle salarié" in text(refused)
        saved = await post(
            browser, "/console/shifts/contracts/set", "/console/shifts/contracts", person=str(samir), **form
        )
        assert saved.status_code == 303
    async with core.store.transaction() as db:
        assert await model.contract_minutes_on(db, samir, date(2026, 12, 7)) == 12 * 60 + 30
        assert await model.contract_minutes_on(db, resident, date(2026, 12, 7)) is None
    [line] = await audit_lines(core, "shifts.contract")
    assert line[:2] == (staff, f"person:{samir}") and '"weekly_minutes": 480' in str(line[2])


async def test_a_template_makes_a_week_after_a_preview(core: Core) -> None:
    """A weekly pattern from the form; generating a week is shown first, then made, and audited."""
    async with console(core) as browser:
        await staff_in(core, browser, "Claire")
        added = await browser.client.post(
            "/console/shifts/templates/add",
            data={
                "csrf": await browser.csrf("/console/shifts/templates"),
                "weekdays": ["1", "2"],
                "start": "10:00",
                "end": "12:00",
                "activity": "Poulailler",
                "place": "Poulailler",
                "capacity": "2",
            },
        )
        assert added.status_code == 303
        listed = await browser.client.get("/console/shifts/templates")
        assert "Poulailler" in text(listed) and "10:00-12:00" in text(listed)
        preview = await post(browser, "/console/shifts/generate", "/console/shifts/templates", week="2026-12-16")
        assert preview.status_code == 200 and "Générer cette semaine ?" in text(preview) and "à créer" in text(preview)
        assert (
            await rows(core, "SELECT id FROM shifts WHERE local_date >= '2026-12-14' AND local_date < '2026-12-21'")
            == []
        )
        assert (await confirm(browser, preview)).status_code == 303
    made = await rows(
        core,
        "SELECT s.local_date FROM shifts s JOIN shift_templates t ON t.id = s.template_id"
        " JOIN shift_activities a ON a.id = t.activity_id WHERE a.name = 'Poulailler' ORDER BY s.local_date",
    )
    assert made == [("2026-12-14",), ("2026-12-15",)]
    assert len(await audit_lines(core, "shifts.template_add")) == 1
    assert len(await audit_lines(core, "shifts.generate")) == 1


async def test_every_page_reads_in_english_and_a_missing_shift_is_404(core: Core) -> None:
    """A staff member who chose English reads every shift page in English; an unknown shift number is a 404."""
    samir = await worker(core, "Samir Haddad", SAMIR_PHONE, SAMIR)
    shift = await shift_on(core, date(2026, 11, 25), "07:00", "09:00", samir)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire")
        assert (await post(browser, "/console/language", "/console/", language="en")).status_code == 303
        pages = ["/console/", "/console/shifts", f"/console/shifts/shift/{shift.id}", "/console/shifts/contracts"]
        pages += ["/console/shifts/templates", "/console/shifts/hours"]
        for path in pages:
            page = await browser.client.get(path)
            assert page.status_code == 200, path
            assert "Créneau" not in text(page) and "Semaine" not in text(page), path
        week = text(await browser.client.get("/console/shifts"))
        assert "Week of November 23, 2026" in week and "Shifts" in week
        missing = await browser.client.get("/console/shifts/shift/999999")
    assert missing.status_code == 404 and "No shift no. 999999." in text(missing)
