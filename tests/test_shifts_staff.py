"""Staff run the shifts from chat over every channel: create, assign, roster, change, cancel, attendance."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from handlers.shifts import model
from handlers.shifts.staff import _times, parse_chat_day
from tests.conftest import PARIS, Said, SmsTalk, Talk, make_settings, talking
from tests.helpers import register_here

# Demo data: Karim GV-K7P2 (+33639980002) is a worker with 8 h a week from this week's Monday, on
# two canteen shifts and a garden shift; the canteen template runs Monday to Thursday at the Lingerie.
KARIM = "GV-K7P2"
CHEF = "GV-CHEF"


async def staff(talk: Talk) -> int:
    return await register_here(talk, "chef", {"staff"}, "Chef Equipe", CHEF)


async def shift_id(talk: Talk, day: str, start: str) -> int:
    row = await talk.core.store.fetchone("SELECT id FROM shifts WHERE local_date = ? AND start_local = ?", (day, start))
    assert row is not None, (day, start)
    return int(row[0])


async def count(talk: Talk, sql: str, *params: object) -> int:
    row = await talk.core.store.fetchone(sql, params)
    assert row is not None
    return int(row[0])


async def confirmed(talk: Talk, text: str, who: str = "chef") -> Said:
    """A staff change and its OUI, as the staff member answers it (with the code by SMS)."""
    return await talk.confirm(await talk(text, who=who), who=who)


async def karim_messages(talk: Talk, cause_like: str) -> list[str]:
    rows = await talk.core.store.fetchall(
        "SELECT o.body FROM outbox o JOIN persons p ON p.id = o.person_id WHERE p.member_code = ? AND o.cause LIKE ?",
        (KARIM, cause_like),
    )
    return [row[0] for row in rows]


async def test_create_assign_and_roster(talk: Talk) -> None:
    """A shift is created by a short command, a worker assigned (and told), the day's roster shows them."""
    await staff(talk)
    said = await talk("/creneau 14/12 11:30 14:30 cantine lingerie 2", who="chef")
    assert said.has("créé", "Service cantine", "Lingerie", "2 places"), said.text
    created = await shift_id(talk, "2026-12-14", "11:30")
    preview = await talk(f"affecter {created} gv-k7p2", who="chef")
    assert preview.has("Affecter au n", "lun. 14 déc. 11:30-14:30", "(1/2 après)"), preview.text
    assert preview.has("Karim (GV-K7P2) : 3 h cette semaine avec ce créneau (contrat 8 h)"), preview.text
    assert await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ?", created) == 0
    assert await karim_messages(talk, f"shift:{created}:assigned:%") == []
    said = await talk.confirm(preview, who="chef")
    assert said.has("Karim", "1/2", "Prévu cette semaine : 3 h"), said.text
    assert len(await karim_messages(talk, f"shift:{created}:assigned:%")) == 1
    said = await talk("tableau 14/12", who="chef")
    assert said.has(f"{created}", "11:30-14:30", "Karim (GV-K7P2) ?", "1/2"), said.text
    again = await talk("/creneau 14/12 11:30 14:30 cantine lingerie 2", who="chef")
    assert again.has("existe déjà"), again.text
    assert await count(talk, "SELECT COUNT(*) FROM shifts WHERE local_date = '2026-12-14'") == 1


async def test_the_cap_refusal_says_why_and_the_hours_planned(talk: Talk) -> None:
    """Over Karim's 8-hour contract: refused with the reason and the hours already planned; nothing written."""
    await staff(talk)
    await talk("/creneau 2026-12-14 09:00 13:00 cantine lingerie 2", who="chef")
    await talk("/creneau 2026-12-15 09:00 13:00 cantine lingerie 2", who="chef")
    await talk("/creneau 2026-12-16 09:00 09:15 cantine lingerie 2", who="chef")
    for day in ("2026-12-14", "2026-12-15"):
        said = await confirmed(talk, f"/affecter {await shift_id(talk, day, '09:00')} {KARIM}")
        assert said.has("Karim"), said.text
    extra = await shift_id(talk, "2026-12-16", "09:00")
    said = await talk(f"/affecter {extra} {KARIM}", who="chef")
    assert said.has("non affecté", "contrat (8 h par semaine)", "Déjà prévu : 8 h", "15 min"), said.text
    assert said.code is None and not said.buttons  # nothing to confirm
    assert not (await talk("oui", who="chef")).has("sur le n°")
    assert await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ?", extra) == 0


async def test_change_is_confirmed_then_told(talk: Talk) -> None:
    """/modifier shows before and after; NON changes nothing; OUI moves it and Karim is told."""
    await staff(talk)
    await talk("/creneau 2026-12-14 09:00 12:00 cantine lingerie 2", who="chef")
    created = await shift_id(talk, "2026-12-14", "09:00")
    await confirmed(talk, f"/affecter {created} {KARIM}")
    said = await talk(f"modifier {created} 2026-12-15", who="chef")
    assert said.has("Avant", "lun. 14 déc.", "Après", "mar. 15 déc."), said.text
    said = await talk(f"modifier {created} 10:00-13:00 places 3", who="chef")
    assert said.has("Avant", "09:00-12:00", "Après", "10:00-13:00", "1 personne prévenue"), said.text
    said = await talk("non", who="chef")
    assert said.has("rien n'a été modifié"), said.text
    assert await karim_messages(talk, f"shift:{created}:changed:%") == []
    said = await confirmed(talk, f"modifier {created} 10:00-13:00 places 3")
    assert said.has("modifié", "10:00-13:00"), said.text
    told = await karim_messages(talk, f"shift:{created}:changed:%")
    assert len(told) == 1 and "10:00-13:00" in told[0]
    assert await count(talk, "SELECT capacity FROM shifts WHERE id = ?", created) == 3


async def test_cancel_asks_then_tells_the_workers(talk: Talk) -> None:
    """Cancelling needs a reason and an OUI; the workers on it are told with the reason."""
    await staff(talk)
    await talk("/creneau 2026-12-14 09:00 12:00 cantine lingerie 2", who="chef")
    created = await shift_id(talk, "2026-12-14", "09:00")
    await confirmed(talk, f"/affecter {created} {KARIM}")
    said = await talk(f"/annuler_creneau {created}", who="chef")
    assert said.has("/annuler_creneau N") and said.has("RAISON"), said.text
    preview = await talk(f"/annuler_creneau {created} fuite d'eau", who="chef")
    assert preview.has("Annuler", "fuite d'eau", "1 personne prévenue"), preview.text
    assert await count(talk, "SELECT COUNT(*) FROM shifts WHERE status = 'cancelled'") == 0
    said = await talk.confirm(preview, who="chef", word="oui")
    assert said.has("annulé"), said.text
    told = await karim_messages(talk, f"shift:{created}:cancelled")
    assert len(told) == 1 and "fuite" in told[0]
    roster = await talk("/tableau 14/12", who="chef")
    assert roster.has("ANNULÉ"), roster.text


async def test_unassign_is_confirmed_and_attendance_marked(talk: Talk) -> None:
    """Unassigning asks first and tells the worker; after a shift, present and absent are marked after OUI
    (they are the payroll's hours)."""
    await staff(talk)
    await talk("/creneau 2026-12-14 09:00 12:00 cantine lingerie 2", who="chef")
    created = await shift_id(talk, "2026-12-14", "09:00")
    await confirmed(talk, f"/affecter {created} {KARIM}")
    said = await talk(f"/present {created}", who="chef")
    assert said.has("pas encore commencé"), said.text
    said = await talk(f"/retirer {created} {KARIM}", who="chef")
    assert said.has("Retirer Karim", "OUI", "NON"), said.text
    said = await talk.confirm(said, who="chef")
    assert said.has("Karim (GV-K7P2) retiré(e)"), said.text
    assert len(await karim_messages(talk, f"shift:{created}:unassigned:%")) == 1
    # A demo shift of this week that Karim is on, once it has started.
    row = await talk.core.store.fetchone(
        "SELECT s.id, s.starts_at FROM shifts s JOIN shift_assignments x ON x.shift_id = s.id"
        " WHERE x.status = 'assigned' ORDER BY s.starts_at LIMIT 1"
    )
    assert row is not None
    talk.clock.set(datetime.fromisoformat(row[1]) + timedelta(hours=4))
    attendance = "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ? AND attendance = ?"
    preview = await talk(f"/absent {row[0]} {KARIM}", who="chef")
    assert preview.has("Pointer le n", "heures payées", "Karim (GV-K7P2) absent(e)"), preview.text
    assert await count(talk, attendance, row[0], "absent") == 0
    said = await talk.confirm(preview, who="chef")
    assert said.has("Pointage", "Karim (GV-K7P2) absent(e)"), said.text
    assert await count(talk, attendance, row[0], "absent") == 1
    said = await confirmed(talk, f"present {row[0]} {KARIM}")
    assert said.has("présent(e)"), said.text
    assert await count(talk, attendance, row[0], "present") == 1


async def test_activities_places_templates_and_a_generated_week(talk: Talk) -> None:
    """Staff add and rename activities and places, add a template and generate Christmas week without the 25th."""
    await staff(talk)
    said = await talk("/activite Chocolaterie", who="chef")
    assert said.has("Activité", "Chocolaterie"), said.text
    row = await talk.core.store.fetchone("SELECT id FROM shift_activities WHERE name = 'Chocolaterie'")
    assert row is not None
    said = await talk(f"activite {row[0]} Mon Jardin Chocolaté", who="chef")
    assert said.has("renommé", "Mon Jardin Chocolaté"), said.text
    said = await talk("/site Atelier", who="chef")
    assert said.has("Lieu", "Atelier"), said.text
    said = await talk("/modele ven 14:00 16:00 chocolate, atelier 2", who="chef")
    assert said.has("Modèle", "14:00-16:00", "Mon Jardin Chocolaté", "Atelier"), said.text
    preview = await talk("/generer 2026-W52", who="chef")
    assert preview.has("Semaine du 21 décembre 2026", "Noël", "OUI", "NON"), preview.text
    assert await count(talk, "SELECT COUNT(*) FROM shifts WHERE local_date >= '2026-12-21'") == 0
    said = await talk.confirm(preview, who="chef")
    assert said.has("créé"), said.text
    days = {
        r[0] for r in await talk.core.store.fetchall("SELECT local_date FROM shifts WHERE local_date >= '2026-12-21'")
    }
    assert days == {"2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24"}  # the canteen; no Friday 25


@pytest.mark.parametrize("role", ["resident", "worker"])
async def test_plain_words_and_commands_do_nothing_for_others(talk: Talk, role: str) -> None:
    """A resident or a worker typing staff commands, with or without the slash, changes nothing."""
    await register_here(talk, "someone", {role}, "Quelqu'un", "GV-ACE2")
    target = await count(talk, "SELECT MIN(id) FROM shifts")
    before = await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE status = 'assigned'")
    for text in (f"/affecter {target} GV-ACE2", f"/annuler_creneau {target} pluie", "/tableau"):
        said = await talk(text, who="someone")
        assert said.has("réservée à l'équipe"), (text, said.text)
    for text in (f"affecter {target} GV-K7P2", f"retirer {target} GV-K7P2", "tableau semaine"):
        said = await talk(text, who="someone")
        assert "GV-K7P2" not in said.text and "Karim" not in said.text, said.text
    assert await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE status = 'assigned'") == before
    assert await count(talk, "SELECT COUNT(*) FROM shifts WHERE status = 'cancelled'") == 0


async def test_bad_input_gets_a_clear_answer(talk: Talk) -> None:
    """Wrong dates, times, unknown activities or codes: the usage or the reason, and nothing is written."""
    await staff(talk)
    shifts = await count(talk, "SELECT COUNT(*) FROM shifts")
    cases = {
        "/creneau": "/creneau DATE DEBUT FIN",
        "/creneau 31/02 09:00 12:00 cantine lingerie": "Date non comprise",
        "/creneau 14/12 14:00 09:00 cantine lingerie": "après le début",
        "/creneau 14/12 09:00 12:00 piscine lingerie": "Activités : ",
        "/affecter 9999 GV-K7P2": "Pas de créneau",
        "/affecter 1 GV-ZZZZ": "Pas de personne",
        "/tableau hier soir": "/tableau demain",
        "/aide_creneaux": "/affecter 12 GV-K7P2",
    }
    for text, expected in cases.items():
        said = await talk(text, who="chef")
        assert said.has(expected), (text, said.text)
    assert await count(talk, "SELECT COUNT(*) FROM shifts") == shifts


async def test_a_week_roster_lists_every_day(talk: Talk) -> None:
    """The week's roster (demo: the canteen Monday to Thursday) has a line per shift, paged by SMS."""
    await staff(talk)
    said = await talk("/tableau semaine", who="chef")
    assert said.has("semaine du 23 novembre 2026", "Lundi 23 novembre", "11:30-14:30 Service cantine, Lingerie"), (
        said.text
    )
    said = await talk("/tableau semaine prochaine", who="chef")
    assert said.has("semaine du 30 novembre 2026", "Lundi 30 novembre"), said.text


# --- Every change is confirmed; by SMS only with the prompt's code ----------------------------------

GUARDED = ["assign", "unassign", "change", "cancel", "attendance", "generate"]


@dataclass
class Change:
    """One guarded staff change: the command, what a user would notice, and what it is once done."""

    command: str
    observe: Callable[[], Awaitable[object]]
    done: object


async def change_case(talk: Talk, op: str) -> Change:
    """The chef, and a shift on Monday 14 December with Karim on it (not for "assign")."""
    await staff(talk)
    if op == "generate":
        week = "SELECT COUNT(*) FROM shifts WHERE local_date >= '2026-12-21'"
        return Change("/generer 2026-W52", lambda: count(talk, week), 4)
    await talk("/creneau 2026-12-14 09:00 12:00 cantine lingerie 2", who="chef")
    made = await shift_id(talk, "2026-12-14", "09:00")
    karim = await count(talk, "SELECT id FROM persons WHERE member_code = ?", KARIM)
    if op != "assign":
        async with talk.core.store.transaction() as db:
            await model.assign(db, talk.clock.now(), talk.core.i18n, made, karim)

    async def seats_and_told(cause: str) -> tuple[int, int]:
        live = await count(
            talk, "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ? AND status = 'assigned'", made
        )
        return live, len(await karim_messages(talk, f"shift:{made}:{cause}%"))

    async def shift_and_told(column: str, cause: str) -> tuple[object, int]:
        row = await talk.core.store.fetchone(f"SELECT {column} FROM shifts WHERE id = ?", (made,))
        assert row is not None
        return row[0], len(await karim_messages(talk, f"shift:{made}:{cause}%"))

    async def attendance() -> object:
        row = await talk.core.store.fetchone("SELECT attendance FROM shift_assignments WHERE shift_id = ?", (made,))
        assert row is not None
        return row[0]

    if op == "assign":
        return Change(f"/affecter {made} {KARIM}", lambda: seats_and_told("assigned:"), (1, 1))
    if op == "unassign":
        return Change(f"/retirer {made} {KARIM}", lambda: seats_and_told("unassigned:"), (0, 1))
    if op == "change":
        return Change(f"/modifier {made} 10:00-13:00", lambda: shift_and_told("start_local", "changed:"), ("10:00", 1))
    if op == "cancel":
        return Change(f"/annuler_creneau {made} pluie", lambda: shift_and_told("status", "cancelled"), ("cancelled", 1))
    talk.clock.set(datetime(2026, 12, 14, 12, 30, tzinfo=PARIS))  # the shift is over: attendance
    return Change(f"/absent {made} {KARIM}", attendance, "absent")


@pytest.fixture
async def sms(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SmsTalk]:
    """The SMS channel alone: the forged-sender tests concern it only."""
    async with talking(SmsTalk(make_settings(tmp_path), clock)) as driver:
        yield driver


@pytest.mark.parametrize("op", GUARDED)
async def test_a_forged_sms_yes_changes_nothing(sms: SmsTalk, op: str) -> None:
    """By SMS the prompt carries a code and no "1 OUI": a bare OUI or "1" gets the code again, three
    wrong answers drop the change, and nothing is written (not even by the right code afterwards)."""
    change = await change_case(sms, op)
    before = await change.observe()
    prompt = await sms(change.command, who="chef")
    assert prompt.code is not None and prompt.has(f"répondez OUI {prompt.code}"), prompt.text
    assert "1 OUI" not in prompt.text
    for forged in ("OUI", "1"):
        again = await sms(forged, who="chef")
        assert again.code == prompt.code and again.has("Il faut le code"), again.text
        assert await change.observe() == before
    dropped = await sms(f"OUI {(int(prompt.code) + 1) % 10000:04d}", who="chef")
    assert dropped.has("Code faux 3 fois", "rien n'a été fait"), dropped.text
    await sms(f"OUI {prompt.code}", who="chef")
    assert await change.observe() == before


@pytest.mark.parametrize("op", GUARDED)
async def test_the_sms_code_confirms_once(sms: SmsTalk, op: str) -> None:
    """The staff member's own phone shows the code: OUI and the code make the change, once."""
    change = await change_case(sms, op)
    prompt = await sms(change.command, who="chef")
    assert await change.observe() != change.done  # nothing before the answer
    done = await sms(f"OUI {prompt.code}", who="chef")
    assert not done.has("Il faut le code"), done.text
    assert await change.observe() == change.done
    await sms(f"OUI {prompt.code}", who="chef")
    assert await change.observe() == change.done


@pytest.mark.parametrize("talk", ["console", "telegram"], indirect=True)
@pytest.mark.parametrize("op", GUARDED)
async def test_buttons_confirm_in_the_chat_and_the_terminal(talk: Talk, op: str) -> None:
    """Telegram and the terminal need no code: the prompt has OUI/NON buttons (numbers in the terminal)."""
    change = await change_case(talk, op)
    prompt = await talk(change.command, who="chef")
    assert prompt.code is None and prompt.buttons == ["1 OUI", "2 NON"], prompt.text
    assert await change.observe() != change.done
    await talk.choose(1, who="chef")
    assert await change.observe() == change.done


async def test_assign_shows_each_worker_then_writes_after_oui(talk: Talk) -> None:
    """/affecter with two codes: the preview says who fits (with the week's hours) and who does not; NON
    writes nothing; OUI assigns the one who fits and tells them."""
    await staff(talk)
    await talk("/creneau 2026-12-14 09:00 12:00 cantine lingerie 2", who="chef")
    made = await shift_id(talk, "2026-12-14", "09:00")
    preview = await talk(f"/affecter {made} {KARIM} GV-ZZZZ", who="chef")
    assert preview.has("Karim (GV-K7P2) : 3 h cette semaine", "GV-ZZZZ non affecté(e)", "Pas de personne"), preview.text
    assert (await talk("non", who="chef")).has("rien n'a été modifié")
    assert await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ?", made) == 0
    said = await confirmed(talk, f"/affecter {made} {KARIM} GV-ZZZZ")
    assert said.has("Karim (GV-K7P2) sur le n", "(1/2)") and "GV-ZZZZ" not in said.text, said.text
    assert await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ?", made) == 1
    assert len(await karim_messages(talk, f"shift:{made}:assigned:%")) == 1


async def test_a_staff_member_who_lost_the_role_cannot_confirm(talk: Talk) -> None:
    """The role is checked again at OUI: removed meanwhile, the answer is refused and nothing is written."""
    chef = await staff(talk)
    await talk("/creneau 2026-12-14 09:00 12:00 cantine lingerie 2", who="chef")
    made = await shift_id(talk, "2026-12-14", "09:00")
    prompt = await talk(f"/affecter {made} {KARIM}", who="chef")
    await talk.core.store.execute("DELETE FROM person_roles WHERE person_id = ?", (chef,))
    said = await talk.confirm(prompt, who="chef")
    assert said.has("réservée à l'équipe"), said.text
    assert await count(talk, "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ?", made) == 0


def test_days_and_times_are_read_as_staff_type_them() -> None:
    """ISO dates, 2/12, 02/12/2026, demain, day names, 5/1 in late November (next January), time ranges."""
    wednesday = date(2026, 11, 25)
    cases = {
        "2026-12-02": date(2026, 12, 2),
        "2/12": date(2026, 12, 2),
        "02/12/2026": date(2026, 12, 2),
        "demain": date(2026, 11, 26),
        "tomorrow": date(2026, 11, 26),
        "lundi": date(2026, 11, 30),
        "mercredi": wednesday,
        "5/1": date(2027, 1, 5),
    }
    for text, expected in cases.items():
        assert parse_chat_day(text, wednesday) == expected, text
    assert _times(["2026-12-03"]) is None
    assert _times(["9h-12h30"]) == (time(9, 0), time(12, 30), 1)
    assert _times(["9:00", "12:00", "cantine"]) == (time(9, 0), time(12, 0), 2)
