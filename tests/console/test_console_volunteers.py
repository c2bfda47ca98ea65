"""The console's Volunteers page: sign-ups, the meeting calendar's changes shown with who is told, then told."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

from bot.core import Core
from handlers.volunteers import signups
from tests.console_kit import add_person, console, staff_in

NORA = "+33639980302"
OMAR = "+33639980303"
PAGE = "/console/volunteers"
CHANGE = "/console/volunteers/calendar"
ROW = re.compile(r'<tr id="m(\d{4}-\d{2}-\d{2})">(.*?)</tr>', re.S)


async def volunteers(core: Core) -> tuple[int, int, int]:
    """Lucie (demo) and Nora get reminders; Omar signed up ten days ago and does not want to be contacted."""
    nora = await add_person(core, "Nora Haddad", ("volunteer",), NORA, "GV-NH34")
    omar = await add_person(core, "Omar Diallo", ("volunteer",), OMAR, "GV-OD56")
    now = core.clock.now()
    async with core.store.transaction() as db:
        await signups.save(
            db, now, nora, name="Nora H.", activities=("music",), availability="le mardi soir", consent=True
        )
        await signups.save(
            db,
            now - timedelta(days=10),
            omar,
            name="Omar",
            activities=("kitchen",),
            availability="week-end",
            consent=False,
        )
    lucie = await core.store.fetchone("SELECT id FROM persons WHERE member_code = 'GV-MRT4'")
    assert lucie is not None
    return lucie["id"], nora, omar


def calendar_rows(html: str) -> list[tuple[str, str]]:
    """(date, the row's text) of each meeting listed, in order."""
    return [(day, " ".join(unescape(re.sub(r"<[^>]+>", " ", cells)).split())) for day, cells in ROW.findall(html)]


async def notices(core: Core) -> list[tuple[str, int]]:
    """(cause without its instant, person) of each meeting notice queued."""
    rows = await core.store.fetchall(
        "SELECT cause, person_id FROM outbox WHERE cause LIKE 'permanence:%' ORDER BY person_id"
    )
    return [(r["cause"].rsplit(":", 1)[0], r["person_id"]) for r in rows]


async def test_sign_ups_are_listed_with_their_activities_and_a_link_to_the_person(core: Core) -> None:
    """Each sign-up: name linked to the person's page, activities, availability, date, channel, reminders."""
    lucie, nora, _ = await volunteers(core)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        page = await browser.client.get(PAGE)
    assert page.status_code == 200
    text = unescape(page.text)
    assert "3 inscriptions bénévoles" in text
    assert f'<a href="/console/people/{nora}">Nora H.</a>' in text
    assert f'<a href="/console/people/{lucie}">Lucie Martin</a>' in text
    assert "Cours de musique" in text and "le mardi soir" in text and "Jardinage, Cuisine" in text
    assert "25/11/2026" in text and "15/11/2026" in text and "SMS" in text
    assert "ne veut pas être contacté" in text
    assert "2 bénévoles reçoivent les rappels" in text
    assert [day for day, _ in calendar_rows(page.text)][:3] == ["2026-12-02", "2026-12-16", "2026-12-30"]


async def test_a_cancellation_shows_who_will_be_told_then_tells_them(core: Core) -> None:
    """The preview names the volunteers reached and writes nothing; confirmed, they get a notice and it is audited."""
    lucie, nora, omar = await volunteers(core)
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(PAGE)
        form = {"csrf": csrf, "op": "cancel", "day": "2026-12-16", "reason": "travaux au Magasin"}
        shown = await browser.client.post(CHANGE, data=form)
        assert shown.status_code == 200
        text = unescape(shown.text)
        assert (
            "Annuler la permanence du mercredi 16 décembre : travaux au Magasin ? 2 bénévoles seront prévenus." in text
        )
        assert "Seront informés : les 2 bénévoles qui reçoivent les rappels" in text
        assert f'<a href="/console/people/{lucie}">Lucie Martin</a>' in text
        assert f'<a href="/console/people/{nora}">Nora H.</a>' in text
        assert f'/console/people/{omar}">Omar</a></li>' not in text
        assert await notices(core) == []
        assert await core.store.fetchone("SELECT 1 FROM meeting_cancellations") is None

        done = await browser.client.post(CHANGE, data={**form, "confirm": "1"})
        assert done.status_code == 303
        page = await browser.client.get(done.headers["location"])
    assert "C'est fait : permanence annulée, 2 bénévoles prévenus." in unescape(page.text)
    rows = dict(calendar_rows(page.text))
    assert "est annulée : travaux au Magasin" in rows["2026-12-16"]
    assert "<del>" in ROW.findall(page.text)[1][1]
    assert await notices(core) == sorted(
        [("permanence:r2026-12-16:notice", lucie), ("permanence:r2026-12-16:notice", nora)], key=lambda r: r[1]
    )
    line = await core.store.fetchone("SELECT * FROM console_audit WHERE action = 'volunteers.cancel'")
    assert line is not None and line["person_id"] == staff and line["target"] == "meeting:r2026-12-16"
    assert json.loads(line["before"]) == {"day": "2026-12-16", "starts": "18:30", "ends": "20:00"}
    after = json.loads(line["after"])
    assert after["reason"] == "travaux au Magasin" and sorted(after["told"]) == sorted([lucie, nora])


async def test_a_move_lists_each_date_once_and_tells_the_volunteers(core: Core) -> None:
    """Moved to a Thursday at other hours: the old date says where, the new one where from, nothing twice."""
    lucie, nora, _ = await volunteers(core)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(PAGE)
        form = {"csrf": csrf, "op": "move", "day": "2026-12-16", "new_day": "17/12/2026", "hours": "19:00-20:30"}
        shown = await browser.client.post(CHANGE, data=form)
        assert "Déplacer la permanence du mercredi 16 décembre au jeudi 17 décembre, 19h00-20h30" in unescape(
            shown.text
        )
        done = await browser.client.post(CHANGE, data={**form, "confirm": "1"})
        assert done.status_code == 303 and "told=2" in done.headers["location"]
        page = await browser.client.get(PAGE)
        taken = await browser.client.post(
            CHANGE, data={"csrf": csrf, "op": "move", "day": "2026-12-02", "new_day": "2026-12-30", "confirm": "1"}
        )
        assert taken.status_code == 400 and "Il y a déjà une permanence le mercredi 30 décembre 2026" in unescape(
            taken.text
        )
    rows = calendar_rows(page.text)
    days = [day for day, _ in rows]
    assert len(days) == len(set(days)), days
    assert days[:4] == ["2026-12-02", "2026-12-16", "2026-12-17", "2026-12-30"]
    by_day = dict(rows)
    assert "déplacée au jeudi 17 décembre, 19h00-20h30" in by_day["2026-12-16"]
    assert "19h00-20h30" in by_day["2026-12-17"] and "déplacée du mercredi 16 décembre" in by_day["2026-12-17"]
    for day, text in rows:  # no orphan: a move points at a date that is listed
        for target in re.findall(r"déplacée au \w+ (\d+) décembre", text):
            assert f"2026-12-{int(target):02d}" in days, (day, text)
    assert {person for cause, person in await notices(core)} == {lucie, nora}
    assert await core.store.fetchone("SELECT 1 FROM meeting_cancellations WHERE meeting = 'r2026-12-02'") is None
    line = await core.store.fetchone("SELECT target, after FROM console_audit WHERE action = 'volunteers.move'")
    assert line is not None and line["target"] == "meeting:r2026-12-16"
    assert json.loads(line["after"])["new_day"] == "2026-12-17"


async def test_refused_changes_say_why_and_change_nothing(core: Core) -> None:
    """A cancellation needs a reason; a reference must be a Wednesday; a past date is refused."""
    await volunteers(core)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(PAGE)
        for form, said in (
            ({"op": "cancel", "day": "2026-12-16", "reason": " ", "confirm": "1"}, "Donnez une raison"),
            ({"op": "reference", "day": "2026-12-03", "confirm": "1"}, "n'est pas un mercredi"),
            ({"op": "add", "day": "2026-11-20", "confirm": "1"}, "est passé"),
            (
                {"op": "cancel", "day": "2026-12-09", "reason": "x", "confirm": "1"},
                "pas de permanence le mercredi 9 décembre 2026",
            ),
            ({"op": "explode", "day": "2026-12-16"}, "Ce changement n'existe pas"),
        ):
            refused = await browser.client.post(CHANGE, data={"csrf": csrf, **form})
            assert refused.status_code == 400, form
            assert said in unescape(refused.text), form
    assert await core.store.fetchone("SELECT 1 FROM meeting_cancellations") is None
    assert await core.store.fetchone("SELECT 1 FROM meeting_extras") is None
    assert await core.store.fetchone("SELECT 1 FROM console_audit WHERE action LIKE 'volunteers.%'") is None


async def test_reference_and_an_extra_date_are_previewed_then_saved(core: Core) -> None:
    """The reference shows the dates it gives and who learns them; an extra date (typed 16/12/2026) tells nobody now."""
    lucie, nora, _ = await volunteers(core)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(PAGE)
        form = {"csrf": csrf, "op": "reference", "day": "2026-12-09"}
        shown = await browser.client.post(CHANGE, data=form)
        text = unescape(shown.text)
        assert "Les dates seront : mercredi 9 décembre, mercredi 23 décembre" in text
        assert "2 bénévoles seront prévenus des nouvelles dates." in text and "Lucie Martin" in text
        kept = await core.store.fetchone("SELECT day FROM meeting_reference")
        assert kept is not None and kept["day"] == "2026-12-02"
        done = await browser.client.post(CHANGE, data={**form, "confirm": "1"})
        assert done.status_code == 303 and "told=2" in done.headers["location"]
        assert {person for _, person in await notices(core)} == {lucie, nora}
        add = {"csrf": csrf, "op": "add", "day": "16/12/2026", "reason": "fête de Noël"}
        shown = await browser.client.post(CHANGE, data=add)
        text = unescape(shown.text)
        assert "Ajouter une permanence le mercredi 16 décembre, 18h30-20h00 : fête de Noël ?" in text
        assert "Aucun bénévole ne sera prévenu maintenant." in text
        assert (await browser.client.post(CHANGE, data={**add, "confirm": "1"})).status_code == 303
        page = await browser.client.get(PAGE)
    rows = calendar_rows(page.text)
    assert [day for day, _ in rows][:3] == ["2026-12-09", "2026-12-16", "2026-12-23"]
    assert "permanence en plus : fête de Noël" in dict(rows)["2026-12-16"]
    assert "à partir du mercredi 9 décembre 2026" in unescape(page.text)
    line = await core.store.fetchone(
        "SELECT target, before, after FROM console_audit WHERE action = 'volunteers.reference'"
    )
    assert line is not None and line["target"] == "meeting:reference"
    assert json.loads(line["before"]) == {"day": "2026-12-02", "dropped": []}
    assert json.loads(line["after"])["day"] == "2026-12-09"
    added = await core.store.fetchone("SELECT target FROM console_audit WHERE action = 'volunteers.add'")
    assert added is not None and re.fullmatch(r"meeting:x\d+", added["target"])


async def test_a_new_reference_after_a_move_drops_it_and_leaves_no_date_twice(core: Core) -> None:
    """A move to a date of the new rhythm, from a date it no longer has, is said to go, then gone from the list."""
    await volunteers(core)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        csrf = await browser.csrf(PAGE)
        move = {"csrf": csrf, "op": "move", "day": "2026-12-16", "new_day": "2026-12-23", "confirm": "1"}
        assert (await browser.client.post(CHANGE, data=move)).status_code == 303
        form = {"csrf": csrf, "op": "reference", "day": "2026-12-09"}
        shown = await browser.client.post(CHANGE, data=form)
        assert "le déplacement du mercredi 16 décembre au mercredi 23 décembre" in unescape(shown.text)
        assert (await browser.client.post(CHANGE, data={**form, "confirm": "1"})).status_code == 303
        page = await browser.client.get(PAGE)
    rows = calendar_rows(page.text)
    days = [day for day, _ in rows]
    assert days[:3] == ["2026-12-09", "2026-12-23", "2027-01-06"] and len(days) == len(set(days))
    assert not any("déplacée" in text for _, text in rows), rows
    line = await core.store.fetchone("SELECT before FROM console_audit WHERE action = 'volunteers.reference'")
    assert line is not None and json.loads(line["before"]) == {"day": "2026-12-02", "dropped": ["r2026-12-16"]}


async def test_today_shows_the_weeks_sign_ups_and_the_next_meeting(core: Core) -> None:
    """New sign-ups of the last seven days, linked; the next meeting and how many its reminder reaches."""
    _, nora, omar = await volunteers(core)
    async with console(core) as browser:
        await staff_in(core, browser, "Claire Equipe")
        today = await browser.client.get("/console/")
    text = unescape(today.text)
    assert "Prochaine permanence : mercredi 2 décembre, 18h30-20h00. 2 bénévoles recevront le rappel." in text
    assert "2 nouvelles inscriptions cette semaine" in text
    assert f'<a href="/console/people/{nora}">Nora H.</a>' in text
    assert f'<a href="/console/people/{omar}">' not in text


async def test_a_persons_page_shows_their_sign_up(core: Core) -> None:
    """Nora's page has her sign-up; the page of someone who did not sign up has no such section."""
    _, nora, _ = await volunteers(core)
    async with console(core) as browser:
        staff = await staff_in(core, browser, "Claire Equipe")
        hers = await browser.client.get(f"/console/people/{nora}")
        mine = await browser.client.get(f"/console/people/{staff}")
    text = unescape(hers.text)
    assert "Inscription bénévole" in text and "Cours de musique" in text and "le mardi soir" in text
    assert "Inscription bénévole" not in unescape(mine.text)
