"""The console's People pages: find someone, register, change roles and phone, import the roster, erase."""

from __future__ import annotations

from html import unescape

from bot.core import Core
from tests.console_kit import add_person, console, staff_in

ADMIN = "+33639980202"
RESIDENT = "+33639980203"


async def roles_of(core: Core, person_id: int) -> list[str]:
    rows = await core.store.fetchall("SELECT role FROM person_roles WHERE person_id = ? ORDER BY role", (person_id,))
    return [r["role"] for r in rows]


async def test_staff_find_a_person_by_name_code_or_phone(core: Core) -> None:
    """A search by a first name, a member code typed loosely, or a phone as people write it finds the person."""
    await add_person(core, "Fatou Sow", ("resident",), RESIDENT, "GV-RA2C")
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        for query in ("fatou", "ra2c", "06 39 98 02 03", "SOW"):
            page = await browser.client.get("/console/people", params={"q": query})
            assert page.status_code == 200
            assert "Fatou Sow" in page.text, query
        nobody = await browser.client.get("/console/people", params={"q": "zorglub"})
        assert "Personne ne correspond" in nobody.text


async def test_register_is_shown_then_confirmed_and_audited(core: Core) -> None:
    """The form is checked and shown first; only the confirmation registers, with an audit line."""
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf("/console/people/new")
        form = {"csrf": csrf, "name": "Ibrahim Keita", "phone": "06 39 98 02 44", "roles": "resident", "language": "fr"}
        shown = await browser.client.post("/console/people/new", data=form)
        assert shown.status_code == 200 and "Inscrire Ibrahim Keita, téléphone 06 39 98 02 44" in unescape(shown.text)
        assert await core.store.fetchone("SELECT 1 FROM persons WHERE name = 'Ibrahim Keita'") is None
        done = await browser.client.post("/console/people/new", data={**form, "confirm": "1"})
        assert done.status_code == 303
        page = await browser.client.get(done.headers["location"])
        assert "Personne inscrite" in page.text and "Ibrahim Keita" in page.text
        refused = await browser.client.post("/console/people/new", data={**form, "name": "X", "roles": "staff"})
        assert refused.status_code == 400 and "Seul un administrateur" in unescape(refused.text)
    row = await core.store.fetchone("SELECT id FROM persons WHERE name = 'Ibrahim Keita'")
    assert row is not None and await roles_of(core, row["id"]) == ["resident"]
    line = await core.store.fetchone("SELECT person_id, target FROM console_audit WHERE action = 'people.register'")
    assert line is not None and line["person_id"] == staff and line["target"] == f"person:{row['id']}"


async def test_only_admins_change_roles_and_see_before_and_after(core: Core) -> None:
    """Staff get 403 on the roles form; an admin sees the change, confirms, and the audit keeps both."""
    resident = await add_person(core, "Fatou Sow", ("resident",), RESIDENT, "GV-RA2C")
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(f"/console/people/{resident}")
        refused = await browser.client.post(
            f"/console/people/{resident}/roles", data={"csrf": csrf, "roles": ["resident", "worker"], "confirm": "1"}
        )
        assert refused.status_code == 403
    assert await roles_of(core, resident) == ["resident"]
    async with console(core) as browser:
        await staff_in(core, browser, "Malik Admin", ("admin",), ADMIN, "GV-AD34")
        csrf = await browser.csrf(f"/console/people/{resident}")
        form = {"csrf": csrf, "roles": ["resident", "worker"]}
        shown = await browser.client.post(f"/console/people/{resident}/roles", data=form)
        assert "Nouveaux rôles : resident, worker" in unescape(shown.text)
        assert await roles_of(core, resident) == ["resident"]
        done = await browser.client.post(f"/console/people/{resident}/roles", data={**form, "confirm": "1"})
        assert done.status_code == 303
    assert await roles_of(core, resident) == ["resident", "worker"]
    line = await core.store.fetchone("SELECT before, after FROM console_audit WHERE action = 'people.roles'")
    assert line is not None and line["before"] == '["resident"]' and line["after"] == '["resident", "worker"]'


async def test_a_new_phone_replaces_the_old_one_once_confirmed(core: Core) -> None:
    """The old number stops receiving anything; a number that is someone else's is refused."""
    resident = await add_person(core, "Fatou Sow", ("resident",), RESIDENT, "GV-RA2C")
    await add_person(core, "Autre", ("resident",), "+33639980299", "GV-AU7R")
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(f"/console/people/{resident}")
        taken = await browser.client.post(
            f"/console/people/{resident}/phone", data={"csrf": csrf, "phone": "06 39 98 02 99", "confirm": "1"}
        )
        assert taken.status_code == 400
        bad = await browser.client.post(f"/console/people/{resident}/phone", data={"csrf": csrf, "phone": "12"})
        assert bad.status_code == 400
        shown = await browser.client.post(
            f"/console/people/{resident}/phone", data={"csrf": csrf, "phone": "0639980250"}
        )
        assert "06 39 98 02 50 remplacera l'ancien" in unescape(shown.text)
        done = await browser.client.post(
            f"/console/people/{resident}/phone", data={"csrf": csrf, "phone": "0639980250", "confirm": "1"}
        )
        assert done.status_code == 303
    numbers = await core.store.fetchall("SELECT address FROM identities WHERE person_id = ?", (resident,))
    assert [r["address"] for r in numbers] == ["+33639980250"]


ROSTER = (
    "\ufeffname;phone;telegram_id;roles;language;member_code\r\n"
    "Aminata Traoré;06 39 98 02 61;;resident;fr;\r\n"
    "Sans Rôle;06 39 98 02 62;;sorcier;fr;\r\n"
)


async def test_a_roster_file_is_tried_then_imported_with_its_report_as_a_table(core: Core) -> None:
    """The trial shows each refused line by number and saves nothing; confirmed, the new codes are shown."""
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf("/console/people/import")
        trial = await browser.client.post(
            "/console/people/import",
            data={"csrf": csrf},
            files={"file": ("liste.csv", ROSTER.encode(), "text/csv")},
        )
        text = unescape(trial.text)
        assert trial.status_code == 200 and "Créées : 1" in text and "Refusées : 1" in text
        assert "<td>3</td>" in text and "rien n'a encore été enregistré" in text
        assert await core.store.fetchone("SELECT 1 FROM persons WHERE name = 'Aminata Traoré'") is None
        data = trial.text.split('name="data" value="')[1].split('"')[0]
        real = await browser.client.post("/console/people/import", data={"csrf": csrf, "data": data, "confirm": "1"})
        assert "Nouveaux codes membres" in unescape(real.text) and "Aminata Traoré" in unescape(real.text)
    row = await core.store.fetchone("SELECT member_code FROM persons WHERE name = 'Aminata Traoré'")
    assert row is not None and row["member_code"] in real.text


async def test_the_roster_export_is_the_file_the_import_reads(core: Core) -> None:
    """CSV with a BOM and semicolons, the command line's columns, every registered person."""
    await add_person(core, "Fatou Sow", ("resident",), RESIDENT, "GV-RA2C")
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        exported = await browser.client.get("/console/people/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeffname;phone;telegram_id;roles;language;member_code")
    assert "Fatou Sow;06 39 98 02 03;;resident;fr;GV-RA2C" in text


async def test_erasure_needs_the_member_code_typed_again(core: Core) -> None:
    """A wrong code erases nothing; the right one forgets the person, and they leave the list."""
    resident = await add_person(core, "Fatou Sow", ("resident",), RESIDENT, "GV-RA2C")
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        data = await browser.client.get(f"/console/people/{resident}/data")
        assert "Seront effacés" in unescape(data.text) and "Fatou Sow" in data.text
        csrf = await browser.csrf(f"/console/people/{resident}/data")
        wrong = await browser.client.post(f"/console/people/{resident}/forget", data={"csrf": csrf, "code": "GV-KP72"})
        assert wrong.status_code == 400 and "rien n'a été effacé" in unescape(wrong.text)
        assert (await browser.client.get(f"/console/people/{resident}")).status_code == 200
        done = await browser.client.post(f"/console/people/{resident}/forget", data={"csrf": csrf, "code": "gv ra2c"})
        assert done.status_code == 303
        listed = await browser.client.get("/console/people")
        assert "Fatou Sow" not in listed.text
        assert (await browser.client.get(f"/console/people/{resident}")).status_code == 404
    row = await core.store.fetchone("SELECT status, name FROM persons WHERE id = ?", (resident,))
    assert row is not None and row["status"] == "forgotten" and row["name"] is None
