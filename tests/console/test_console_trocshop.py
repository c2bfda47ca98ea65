"""The Trocshop page of the staff console: balances, a ledger, credit, debit, notes, corrections, check, export.

Over real HTTP, as a staff member logged in with the code the bot sent. Demo data: Karim GV-K7P2 has
2 h, Sam GV-TAY3 1 h 30, Lucie GV-MRT4 1 h; la Lingerie, la Ressourcerie Créative, la boutique du Trocshop.
"""

from __future__ import annotations

import json
import re
from html import unescape

import httpx

from bot import people
from bot.core import Core
from handlers.trocshop import ledger
from tests.console_kit import Browser, csrf_of

HIDDEN = re.compile(r'<input type="hidden" name="([a-z0-9_]+)" value="([^"]*)">')


async def person_id(core: Core, code: str) -> int:
    async with core.store.transaction() as db:
        found = await people.find_person_id(db, member_code=code)
    assert found is not None
    return found


async def balance(core: Core, code: str) -> int:
    row = await core.store.fetchone(
        "SELECT a.balance FROM troc_accounts a JOIN persons p ON p.id = a.person_id WHERE p.member_code = ?", (code,)
    )
    return int(row[0]) if row else 0


async def count(core: Core, table: str) -> int:
    row = await core.store.fetchone(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


async def audit_lines(core: Core, action: str) -> list[dict[str, object]]:
    rows = await core.store.fetchall(
        "SELECT person_id, target, before, after FROM console_audit WHERE action = ? ORDER BY id", (action,)
    )
    return [
        {
            "person_id": r["person_id"],
            "target": r["target"],
            "before": json.loads(r["before"]) if r["before"] else None,
            "after": json.loads(r["after"]),
        }
        for r in rows
    ]


def text(response: httpx.Response) -> str:
    return unescape(response.text)


async def post(browser: Browser, path: str, **fields: str) -> httpx.Response:
    """A form of the page at ``path``'s person or entry, with the session's CSRF token."""
    return await browser.client.post(path, data={"csrf": await browser.csrf(), **fields})


async def confirm(browser: Browser, preview: httpx.Response) -> httpx.Response:
    """Press the preview's Confirm button: its hidden fields, as the browser sends them."""
    section = preview.text.split('id="preview"', 1)[1].split("</form>", 1)[0]
    action = re.search(r'action="([^"]+)"', section)
    assert action is not None, section
    fields = {name: unescape(value) for name, value in HIDDEN.findall(section)}
    assert fields["confirm"] == "1" and fields["token"]
    return await browser.client.post(action.group(1), data=fields)


def written(done: httpx.Response) -> int:
    """The entry a confirmation wrote, from the page it sends back to (``?done=12``)."""
    assert done.status_code == 303, done.text[:300]
    return int(done.headers["location"].rsplit("=", 1)[1])


async def test_balances_are_searched_by_name_code_or_phone(core: Core, staff: Browser) -> None:
    """Everyone with an account is listed; a part of the name, a member code or a phone finds one person."""
    everyone = await staff.client.get("/console/trocshop")
    assert everyone.status_code == 200
    assert "Karim" in everyone.text and "Sam" in everyone.text and "2 h" in everyone.text
    assert "la Lingerie" in everyone.text and "Billets en circulation : 0 de 15 min" in text(everyone)
    for query in ("kar", "GV-K7P2", "k7p2", "06 39 98 00 02"):
        found = await staff.client.get("/console/trocshop", params={"q": query})
        assert "GV-K7P2" in found.text and "GV-TAY3" not in found.text, query
    nobody = await staff.client.get("/console/trocshop", params={"q": "zzz"})
    assert "Personne ne correspond" in text(nobody)


async def test_a_credit_is_previewed_then_written_with_its_audit_line_and_the_person_told(
    core: Core, staff: Browser
) -> None:
    """The preview writes nothing and shows the balances and the very message; Confirm writes once."""
    karim = await person_id(core, "GV-K7P2")
    entries, queued = await count(core, "troc_entries"), await count(core, "outbox")
    path = f"/console/trocshop/person/{karim}/credit"
    preview = await post(staff, path, amount="1h30", category="activity", reason="atelier jardin")
    assert preview.status_code == 200
    page = text(preview)
    assert "Créditer 1 h 30 à Karim (GV-K7P2) (activité) ?" in page
    assert "<td>2 h</td><td>3 h 30</td>" in page
    assert "l'équipe vous a crédité 1 h 30. Merci ! Votre solde : 3 h 30." in page
    assert (await count(core, "troc_entries"), await count(core, "outbox")) == (entries, queued)
    assert await balance(core, "GV-K7P2") == 120 and await audit_lines(core, "trocshop.credit") == []

    done = await confirm(staff, preview)
    assert done.status_code == 303
    entry = written(done)
    assert done.headers["location"] == f"/console/trocshop/person/{karim}?done={entry}"
    assert await balance(core, "GV-K7P2") == 210
    told = await core.store.fetchall("SELECT person_id, body FROM outbox WHERE cause = ?", (f"troc:{entry}:{karim}",))
    assert [(r["person_id"], r["body"]) for r in told] == [
        (karim, "Trocshop : l'équipe vous a crédité 1 h 30. Merci ! Votre solde : 3 h 30.")
    ]
    [line] = await audit_lines(core, "trocshop.credit")
    assert line["target"] == f"person:{karim}" and line["before"] == {"balances": {str(karim): 120}}
    assert line["after"] == {
        "entry": entry,
        "balances": {str(karim): 210},
        "minutes": 90,
        "category": "activity",
        "memo": "atelier jardin",
    }
    ledger_page = await staff.client.get(done.headers["location"])
    assert f"C'est enregistré (op. {entry})" in text(ledger_page)
    assert "Solde : 3 h 30." in text(ledger_page) and "atelier jardin" in ledger_page.text

    again = await confirm(staff, preview)  # a second click, a reload of the form: nothing more
    assert again.headers["location"] == f"/console/trocshop/person/{karim}?again={entry}"
    assert await balance(core, "GV-K7P2") == 210 and len(await audit_lines(core, "trocshop.credit")) == 1


async def test_the_books_refuse_in_the_console_what_they_refuse_in_chat(core: Core, staff: Browser) -> None:
    """Over the cap, not an amount, no reason, below the floor: 400, the reason shown, nothing written."""
    karim = await person_id(core, "GV-K7P2")
    entries = await count(core, "troc_entries")
    cases = [
        ("credit", {"amount": "25h", "category": "activity", "reason": "x"}, "24 h"),
        ("credit", {"amount": "beaucoup", "category": "activity", "reason": "x"}, "Ce n'est pas une durée"),
        ("credit", {"amount": "1h", "category": "activity", "reason": ""}, "Il faut une raison"),
        ("credit", {"amount": "1h", "category": "correction", "reason": "x"}, ""),
        ("debit", {"amount": "3h", "place": "1", "reason": "pull"}, "Pas assez de temps sur le compte de Karim"),
    ]
    for kind, fields, said in cases:
        refused = await post(staff, f"/console/trocshop/person/{karim}/{kind}", **fields)
        assert refused.status_code == 400, fields
        assert said in text(refused) and 'role="alert"' in refused.text, fields
        assert 'id="preview"' not in refused.text
    # A confirmation forged past the preview meets the same rules.
    forged = await post(
        staff, f"/console/trocshop/person/{karim}/debit", amount="3h", place="1", reason="pull", token="t1", confirm="1"
    )
    assert forged.status_code == 400
    assert await count(core, "troc_entries") == entries and await balance(core, "GV-K7P2") == 120
    assert await count(core, "console_audit") == 1  # the login only


async def test_a_debit_pays_a_place_and_tells_the_person(core: Core, staff: Browser) -> None:
    """Thirty minutes from Karim to la Lingerie: the place receives them, Karim is told, the audit keeps it."""
    karim = await person_id(core, "GV-K7P2")
    places = dict((name, account) for account, name in await _places(core))
    lingerie = places["la Lingerie"]
    path = f"/console/trocshop/person/{karim}/debit"
    preview = await post(staff, path, amount="30", place=str(lingerie), reason="un pull")
    assert "Débiter 30 min du compte de Karim (GV-K7P2), payé à la Lingerie ?" in text(preview)
    done = await confirm(staff, preview)
    entry = written(done)
    assert await balance(core, "GV-K7P2") == 90
    place = await core.store.fetchone("SELECT balance FROM troc_accounts WHERE id = ?", (lingerie,))
    assert place is not None and place[0] == 30
    told = await core.store.fetchone("SELECT body FROM outbox WHERE cause = ?", (f"troc:{entry}:{karim}",))
    assert told is not None
    assert (
        told["body"] == "Trocshop : l'équipe a débité 30 min de votre compte, payé à la Lingerie. Votre solde : 1 h 30."
    )
    [line] = await audit_lines(core, "trocshop.debit")
    assert line["after"]["memo"] == "un pull" and line["after"]["place"] == lingerie  # type: ignore[index]


async def _places(core: Core) -> list[tuple[int, str]]:
    async with core.store.transaction() as db:
        return await ledger.places(db)


async def test_a_correction_reverses_an_entry_once(core: Core, staff: Browser) -> None:
    """From the entry's page: preview, confirm, the balance back, the person told; a second one is refused."""
    sam = await person_id(core, "GV-TAY3")
    preview = await post(
        staff, f"/console/trocshop/person/{sam}/credit", amount="45min", category="activity", reason="x"
    )
    entry = written(await confirm(staff, preview))
    assert await balance(core, "GV-TAY3") == 135
    page = await staff.client.get(f"/console/trocshop/entry/{entry}")
    assert page.status_code == 200 and "Corriger cette opération" in text(page) and "Claire Dubois" in page.text
    preview = await post(staff, f"/console/trocshop/entry/{entry}/reverse", reason="mauvaise personne")
    assert f"Annuler l'opération op. {entry} par une correction (raison : mauvaise personne) ?" in text(preview)
    assert "<td>2 h 15</td><td>1 h 30</td>" in preview.text
    done = await confirm(staff, preview)
    correction = written(done)
    assert done.headers["location"] == f"/console/trocshop/entry/{entry}?done={correction}"
    assert await balance(core, "GV-TAY3") == 90
    told = await core.store.fetchone("SELECT body FROM outbox WHERE cause = ?", (f"troc:{correction}:{sam}",))
    assert told is not None and "a mistake was corrected on your account (-45 min)" in told["body"]  # Sam's language
    [line] = await audit_lines(core, "trocshop.reverse")
    assert line["target"] == f"entry:{entry}" and line["after"]["reason"] == "mauvaise personne"  # type: ignore[index]
    after = await staff.client.get(f"/console/trocshop/entry/{entry}")
    assert "Corriger cette opération" not in text(after) and f"op. {correction}" in after.text
    twice = await post(staff, f"/console/trocshop/entry/{entry}/reverse", reason="encore")
    assert twice.status_code == 400 and "a déjà été corrigée" in text(twice)
    ledger_page = await staff.client.get(f"/console/trocshop/person/{sam}")
    assert f"corrigée par op. {correction}" in text(ledger_page)


async def test_paper_notes_go_out_and_come_back(core: Core, staff: Browser) -> None:
    """A withdrawal of 2 x 30 min puts notes out; a deposit of a note that is not out is refused."""
    lucie = await person_id(core, "GV-MRT4")
    path = f"/console/trocshop/person/{lucie}/notes"
    refused = await post(staff, path, op="deposit", n60="1")
    assert refused.status_code == 400 and "pas assez de billets en circulation" in text(refused)
    preview = await post(staff, path, op="withdraw", n30="2")
    assert "Retrait pour Lucie (GV-MRT4) : 2 x 30 min, soit 1 h. Enregistrer ?" in text(preview)
    await confirm(staff, preview)
    assert await balance(core, "GV-MRT4") == 0
    notes = await staff.client.get("/console/trocshop/notes")
    page = text(notes)
    assert '<th scope="row">30 min</th><td>2</td><td>0</td><td>2</td>' in page
    assert "2 × 30 min sortis" in page and "Lucie" in page
    assert len(await audit_lines(core, "trocshop.withdraw")) == 1
    too_many = await post(staff, path, op="withdraw", n15="1")
    assert too_many.status_code == 400 and "Pas assez de temps sur le compte de Lucie" in text(too_many)


async def test_the_books_check_and_a_panel_on_today_when_they_are_wrong(core: Core, staff: Browser) -> None:
    """Right books: the check says so and Today shows nothing of the Trocshop; wrong books: both say so."""
    right = await staff.client.get("/console/trocshop/check")
    assert "Les comptes sont justes : 3 opérations vérifiées." in text(right)
    today = await staff.client.get("/console/")
    assert "/console/trocshop/check" not in today.text
    await core.store.execute("UPDATE troc_accounts SET balance = balance + 5 WHERE kind = 'place'")
    wrong = await staff.client.get("/console/trocshop/check")
    assert (
        "ne sont pas justes : 3 problèmes trouvés." in text(wrong)
        and "compte 3 (lieu) : solde 5 min, mais ses mouvements font 0 min" in wrong.text
    )
    today = await staff.client.get("/console/")
    assert "ne sont pas justes" in text(today) and "/console/trocshop/check" in today.text


async def test_the_export_is_the_command_lines_csv(core: Core, staff: Browser) -> None:
    """The journal as `voisins troc export` writes it: ';' and a BOM, one row per posting; ',' when asked."""
    exported = await staff.client.get("/console/trocshop/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.content.startswith(b"\xef\xbb\xbf")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "entry;created_at;category;memo;reverses;idem_key;actor;account;kind;account_label;minutes;notes"
    assert len(lines) == 1 + 6  # three demo credits, two postings each
    comma = await staff.client.get("/console/trocshop/export.csv", params={"separator": ","})
    assert comma.content.decode("utf-8-sig").splitlines()[0].startswith("entry,created_at,")
    assert len(await audit_lines(core, "trocshop.export")) == 2


async def test_a_form_without_the_token_changes_nothing(core: Core, staff: Browser) -> None:
    """The console's guard stands in front of the Trocshop's forms too."""
    karim = await person_id(core, "GV-K7P2")
    fields = {"amount": "1h", "category": "activity", "reason": "x", "token": "abc", "confirm": "1"}
    refused = await staff.client.post(f"/console/trocshop/person/{karim}/credit", data=fields)
    assert refused.status_code == 403 and await balance(core, "GV-K7P2") == 120
    assert csrf_of((await staff.client.get("/console/trocshop")).text)
