"""Staff register people in the chat, over every channel; everyone else is refused and changes nothing."""

from __future__ import annotations

import re
from typing import cast

import pytest

from bot import people
from bot.messages import Channel
from bot.store import Store
from tests.conftest import Said, Talk, TelegramTalk
from tests.helpers import register_here

# Demo people (bot/demo.py) are in every talk's database: Karim GV-K7P2 (resident, worker,
# 06 39 98 00 02), Sam GV-TAY3 (06 39 98 00 03), Lucie GV-MRT4 (volunteer, 06 39 98 00 04).
NEW_PHONE = "06 39 98 01 23"


@pytest.fixture
async def staff(talk: Talk) -> str:
    """A staff member (not an admin) on the talk's channel; their name in ``talk(..., who=...)``."""
    await register_here(talk, "staff", {"staff"})
    return "staff"


async def roster_state(store: Store) -> list[tuple[object, ...]]:
    """Registered people, their roles and identities: what a refused or cancelled command must leave as it was."""
    rows: list[tuple[object, ...]] = []
    for sql in (
        "SELECT id, name, member_code, language, status FROM persons WHERE status = 'active' ORDER BY id",
        "SELECT person_id, role FROM person_roles ORDER BY person_id, role",
        "SELECT i.channel, i.address, i.person_id FROM identities i JOIN persons p ON p.id = i.person_id"
        " WHERE p.status = 'active' ORDER BY i.id",
    ):
        rows.extend(tuple(row) for row in await store.fetchall(sql))
    return rows


async def person_by_code(store: Store, code: str) -> people.Person:
    async with store.transaction() as db:
        person_id = await people.find_person_id(db, member_code=code)
        assert person_id is not None, code
        return await people.get_person(db, person_id)


async def phones_of(store: Store, person_id: int) -> list[str]:
    rows = await store.fetchall(
        "SELECT address FROM identities WHERE person_id = ? AND channel = 'sms' ORDER BY id", (person_id,)
    )
    return [row[0] for row in rows]


async def say_yes(talk: Talk, summary: Said, who: str) -> Said:
    """The summary's yes as its owner gives it: the OUI button, or by SMS OUI and the code it shows."""
    return await talk.confirm(summary, who=who) if summary.code else await talk.choose(1, who=who)


async def pending_step(talk: Talk, who: str) -> str | None:
    row = await talk.core.store.fetchone(
        "SELECT c.step FROM conversations c JOIN identities i ON i.person_id = c.person_id WHERE i.address = ?",
        (talk.address(who),),
    )
    return row[0] if row else None


# Registration ---------------------------------------------------------------------------


async def test_staff_register_a_person_step_by_step(talk: Talk, staff: str) -> None:
    """Name, phone, roles by numbers, language, a summary, OUI: the person exists and the answer gives the code."""
    said = await talk("/inscrire", who=staff)
    assert said.has("Nouvelle inscription", "Nom de la personne")
    said = await talk("Jean Dupont", who=staff)
    assert said.has("Numéro de téléphone de Jean Dupont", "AUCUN")
    said = await talk(NEW_PHONE, who=staff)
    assert said.has("Rôles de Jean Dupont : aucun", "Ajouter Résident", "Ajouter Bénévole", "OK")
    assert not said.has("Administrateur")  # only an admin makes an admin
    said = await talk("1 3", who=staff)
    assert said.has("Rôles de Jean Dupont : Résident, Bénévole", "Retirer Résident", "Ajouter Conciergerie")
    said = await talk.choose(5, who=staff)  # OK
    assert said.has("Langue de Jean Dupont", "Français", "Anglais", "La personne choisira")
    said = await talk.choose(1, who=staff)
    assert said.has("Inscrire Jean Dupont ?", "06 39 98 01 23", "Résident, Bénévole", "Français", "OUI", "NON")
    said = await say_yes(talk, said, staff)
    assert said.has("Jean Dupont est inscrit, code membre GV-")
    code = re.search(r"GV-[A-Z0-9]{4}", said.text)
    assert code is not None
    person = await person_by_code(talk.core.store, code.group())
    assert (person.name, person.roles, person.language) == ("Jean Dupont", {"resident", "volunteer"}, "fr")
    assert await phones_of(talk.core.store, person.id) == ["+33639980123"]
    assert await pending_step(talk, staff) is None


async def test_registration_with_buttons_and_no_phone(talk: Talk, staff: str) -> None:
    """From the staff menu, "aucun" phone, roles one button at a time, "they will choose", a typed "oui"."""
    said = await talk("menu", who=staff)
    assert said.has("Équipe : inscrire, rôles, téléphone")
    entry = int(re.findall(r"^(\d+) .*quipe : inscrire", said.text, re.MULTILINE)[0])
    said = await talk.choose(entry, who=staff)
    assert said.has("/inscrire", "/roles GV-K7P2", "/tel GV-K7P2 06 12 34 56 78", "NON ou ANNULER")
    said = await talk.choose(1, who=staff)
    assert said.has("Nom de la personne")
    await talk("Fatou Sarr", who=staff)
    said = await talk("aucun", who=staff)
    assert said.has("Rôles de Fatou Sarr : aucun")
    await talk.choose(2, who=staff)
    said = await talk.choose(4, who=staff)
    assert said.has("Rôles de Fatou Sarr : Conciergerie, Équipe")
    said = await talk.choose(4, who=staff)  # again: removed
    assert said.has("Rôles de Fatou Sarr : Conciergerie.")
    languages = await talk.choose(5, who=staff)
    they_choose = int(re.findall(r"^(\d+) La personne choisira", languages.text, re.MULTILINE)[0])
    assert they_choose == 7  # after the six languages
    said = await talk.choose(they_choose, who=staff)
    assert said.has("Téléphone : aucun", "Conciergerie", "La personne choisira")
    said = await talk.confirm(said, who=staff)
    code = re.search(r"GV-[A-Z0-9]{4}", said.text)
    assert code is not None, said.text
    person = await person_by_code(talk.core.store, code.group())
    assert (person.name, person.roles, person.language) == ("Fatou Sarr", {"worker"}, None)
    assert await phones_of(talk.core.store, person.id) == []


CANCEL_AT = {
    "name": [],
    "phone": ["Jean Dupont"],
    "roles": ["Jean Dupont", NEW_PHONE, "1"],
    "language": ["Jean Dupont", NEW_PHONE, "1 OK"],
    "confirm": ["Jean Dupont", NEW_PHONE, "1 OK", "fr"],
}


@pytest.mark.parametrize("step", list(CANCEL_AT))
@pytest.mark.parametrize("word", ["NON", "annuler", "/cancel"])
async def test_cancel_at_any_step_writes_nothing(talk: Talk, staff: str, step: str, word: str) -> None:
    """NON, ANNULER or /cancel at any step of a registration stops it, says so, and writes nothing."""
    await talk("/inscrire", who=staff)
    before = await roster_state(talk.core.store)
    for text in CANCEL_AT[step]:
        assert not (await talk(text, who=staff)).has("rien n'a été enregistré")
    said = await talk(word, who=staff)
    assert said.has("Annulé : rien n'a été enregistré")
    assert await roster_state(talk.core.store) == before
    assert await pending_step(talk, staff) is None


async def test_the_no_button_cancels_and_a_late_yes_changes_nothing(talk: Talk, staff: str) -> None:
    """The NON button cancels; a YES afterwards (a late or double press) finds nothing to save."""
    before = await roster_state(talk.core.store)
    for text in ("/register", "Jean Dupont", "aucun", "1 ok", "2"):
        await talk(text, who=staff)
    said = await (talk("NON", who=staff) if talk.channel == "sms" else talk.choose(2, who=staff))  # SMS: no buttons
    assert said.has("Annulé : rien n'a été enregistré")
    if talk.channel == "telegram":
        said = await talk.choose(1, who=staff)  # the OUI button of the same summary
        assert said.has("n'est plus en cours", "rien n'a été modifié")
    else:
        said = await talk("oui", who=staff)
        assert not said.has("inscrit")
    assert await roster_state(talk.core.store) == before


async def test_yes_twice_registers_once(talk: Talk, staff: str) -> None:
    """A second OUI after the registration (a double press) creates nobody else."""
    for text in ("/inscrire", "Jean Dupont", "aucun", "1 ok", "2"):
        summary = await talk(text, who=staff)
    assert (await say_yes(talk, summary, staff)).has("est inscrit")
    after = await roster_state(talk.core.store)
    await say_yes(talk, summary, staff)
    assert await roster_state(talk.core.store) == after
    rows = await talk.core.store.fetchall("SELECT 1 FROM persons WHERE name = 'Jean Dupont'")
    assert len(rows) == 1


async def test_bad_answers_are_asked_again(talk: Talk, staff: str) -> None:
    """No letters, a wrong phone, unknown roles, no role, a vague yes: each asked again, nothing written."""
    before = await roster_state(talk.core.store)
    await talk("/inscrire", who=staff)
    assert (await talk("12345", who=staff)).has("des lettres")
    await talk("Jean Dupont", who=staff)
    said = await talk("06 12", who=staff)
    assert said.has("n'est pas un numéro de téléphone", "Numéro de téléphone de Jean Dupont")
    await talk("aucun", who=staff)
    said = await talk("cuisinier", who=staff)
    assert said.has("Je n'ai pas compris", "Rôles de Jean Dupont : aucun")
    said = await talk("ok", who=staff)
    assert said.has("Choisissez au moins un rôle")
    await talk("benevole ok", who=staff)
    said = await talk("peut-être", who=staff)
    assert said.has("Langue de Jean Dupont")
    summary = await talk("en", who=staff)
    said = await talk("peut-être", who=staff)
    assert said.has("Répondez OUI pour enregistrer, ou NON pour annuler")
    assert await roster_state(talk.core.store) == before
    assert (await talk.confirm(summary, who=staff)).has("Jean Dupont est inscrit")


async def test_a_phone_already_registered_is_refused_at_once(talk: Talk, staff: str) -> None:
    """The phone of a registered person is refused with their code, and another number is asked for."""
    await talk("/inscrire", who=staff)
    await talk("Karim Bis", who=staff)
    said = await talk("06 39 98 00 02", who=staff)
    assert said.has("appartient déjà à une autre personne inscrite (GV-K7P2)", "Numéro de téléphone de Karim Bis")
    assert await pending_step(talk, staff) == "people.phone"


async def test_the_sms_answers_fit_without_paging(talk: Talk, staff: str) -> None:
    """By SMS each step of a registration fits in one answer: no choice hidden behind SUITE."""
    if talk.channel != "sms":
        pytest.skip("SMS paging only")
    for text in ("/inscrire", "Jean-Baptiste Dupont-Moretti", NEW_PHONE, "1 2 3 4", "ok", "1"):
        said = await talk(text, who=staff)
        assert not said.has("SUITE"), said.text


# /roles and /tel --------------------------------------------------------------------------


async def test_give_and_remove_roles_by_member_code(talk: Talk, staff: str) -> None:
    """/roles GV-K7P2 shows the roles; a change is summarised, saved on OUI, and said."""
    said = await talk("/roles gv k7p2", who=staff)
    assert said.has("Rôles de Karim Benali (GV-K7P2) : Résident, Conciergerie", "Retirer Résident", "Ajouter Bénévole")
    await talk.choose(3, who=staff)
    said = await talk.choose(1, who=staff)
    assert said.has("Rôles de Karim Benali (GV-K7P2) : Conciergerie, Bénévole")
    said = await talk.choose(5, who=staff)
    assert said.has("rôles actuels Résident, Conciergerie", "Nouveaux rôles : Conciergerie, Bénévole", "OUI")
    said = await say_yes(talk, said, staff)
    assert said.has("C'est fait : Karim Benali (GV-K7P2) a les rôles Conciergerie, Bénévole")
    karim = await person_by_code(talk.core.store, "GV-K7P2")
    assert karim.roles == {"worker", "volunteer"}


async def test_roles_asks_the_code_and_says_when_nothing_changes(talk: Talk, staff: str) -> None:
    """/roles alone asks for the code; a wrong or unknown code is said; OK with no change saves nothing."""
    before = await roster_state(talk.core.store)
    assert (await talk("/roles", who=staff)).has("Code membre de la personne")
    assert (await talk("bonjour", who=staff)).has("n'est pas un code membre")
    assert (await talk("GV-AAAA", who=staff)).has("Personne n'est inscrit avec le code GV-AAAA")
    assert (await talk("GV-MRT4", who=staff)).has("Rôles de Lucie Martin (GV-MRT4) : Bénévole")
    assert (await talk("ok", who=staff)).has("Rien n'a changé pour Lucie Martin (GV-MRT4)")
    assert await roster_state(talk.core.store) == before


async def test_staff_cannot_remove_their_own_staff_role(talk: Talk) -> None:
    """Taking one's own staff rights away is refused: a team never locks itself out by mistake."""
    person_id = await register_here(talk, "boss", {"staff", "admin"}, name="Boss")
    async with talk.core.store.transaction() as db:
        code = (await people.get_person(db, person_id)).member_code
    before = await roster_state(talk.core.store)
    said = await talk(f"/roles {code}", who="boss")
    assert said.has("Ajouter Résident", "Retirer Administrateur")
    said = await talk("5 ok", who="boss")
    assert said.has("Vous ne pouvez pas retirer vos propres droits d'équipe")
    assert await roster_state(talk.core.store) == before


async def test_an_admin_who_lost_the_role_makes_no_admin_at_yes(talk: Talk) -> None:
    """Admin is re-checked when the yes comes: an admin demoted meanwhile grants nothing, on every flow."""
    person_id = await register_here(talk, "boss", {"staff", "admin"}, name="Boss")
    said = await talk("/roles GV-MRT4", who="boss")
    assert said.has("Ajouter Administrateur")
    said = await talk("5 ok", who="boss")
    assert said.has("Nouveaux rôles : Bénévole, Administrateur"), said.text
    async with talk.core.store.transaction() as db:
        await people.set_roles(db, person_id, {"staff"})  # another admin took it away meanwhile
    before = await roster_state(talk.core.store)
    said = await say_yes(talk, said, "boss")
    assert said.has("Seul un administrateur peut donner ou retirer ce rôle", "Rien n'a été modifié"), said.text
    assert await roster_state(talk.core.store) == before


async def test_roles_changed_by_someone_else_meanwhile_are_not_overwritten(talk: Talk, staff: str) -> None:
    """Two staff change one person's roles: the second yes, asked on what was, changes nothing."""
    said = await talk("/roles GV-MRT4", who=staff)
    said = await talk("1 ok", who=staff)  # add Résident
    assert said.has("Nouveaux rôles : Résident, Bénévole"), said.text
    lucie = await person_by_code(talk.core.store, "GV-MRT4")
    async with talk.core.store.transaction() as db:
        await people.set_roles(db, lucie.id, {"volunteer", "worker"})
    said = await say_yes(talk, said, staff)
    assert said.has("ont changé entre-temps", "Rien n'a été modifié"), said.text
    assert (await person_by_code(talk.core.store, "GV-MRT4")).roles == {"volunteer", "worker"}


async def test_attach_a_phone_by_member_code(talk: Talk, staff: str) -> None:
    """/tel GV-K7P2 06... asks to confirm, naming the number it replaces; OUI makes it Karim's only number."""
    said = await talk("/tel GV-K7P2 06 39 98 07 77", who=staff)
    assert said.has("Rattacher le 06 39 98 07 77 à Karim Benali (GV-K7P2), à la place du 06 39 98 00 02 ?")
    said = await talk.confirm(said, who=staff)
    assert said.has("C'est fait : le 06 39 98 07 77 est celui de Karim Benali (GV-K7P2)")
    karim = await person_by_code(talk.core.store, "GV-K7P2")
    assert await phones_of(talk.core.store, karim.id) == ["+33639980777"]


async def test_attach_a_phone_step_by_step_in_english(talk: Talk, staff: str) -> None:
    """/phone alone asks the code then the number; the texts follow the staff member's language."""
    async with talk.core.store.transaction() as db:
        await db.execute(
            "UPDATE persons SET language = 'en' WHERE id = (SELECT person_id FROM identities WHERE address = ?)",
            (talk.address(staff),),
        )
    assert (await talk("/phone", who=staff)).has("The person's member code")
    assert (await talk("GV-TAY3", who=staff)).has("New phone number of Sam Taylor (GV-TAY3)")
    said = await talk("+44 7911 123456", who=staff)
    assert said.has("Attach +44 7911 123456 to Sam Taylor (GV-TAY3)")
    assert (await talk.confirm(said, who=staff, word="yes")).has("Done: +44 7911 123456 is the number of Sam Taylor")


async def test_a_phone_of_another_registered_person_is_refused(talk: Talk, staff: str) -> None:
    """Sam's number cannot become Karim's: refused with Sam's code, nothing changed."""
    before = await roster_state(talk.core.store)
    said = await talk("/tel GV-K7P2 06 39 98 00 03", who=staff)
    assert said.has("appartient déjà à une autre personne inscrite (GV-TAY3)", "Rien n'a été modifié")
    assert await roster_state(talk.core.store) == before
    said = await talk("/tel GV-K7P2 06 39 98 00 02", who=staff)
    assert said.has("est déjà celui de Karim Benali")
    assert await roster_state(talk.core.store) == before


async def test_a_guest_number_moves_to_the_person(talk: Talk, staff: str) -> None:
    """A number that wrote to the bot before being registered moves to the person; the guest is gone."""
    guest, _ = await people.identify(talk.core.store, Channel.SMS, "+33639980555", talk.core.clock.now())
    await talk("/tel GV-MRT4", who=staff)
    said = await talk("06 39 98 05 55", who=staff)
    assert said.has("Rattacher le 06 39 98 05 55 à Lucie Martin (GV-MRT4)")
    await say_yes(talk, said, staff)
    lucie = await person_by_code(talk.core.store, "GV-MRT4")
    assert await phones_of(talk.core.store, lucie.id) == ["+33639980555"]
    assert await talk.core.store.fetchone("SELECT 1 FROM persons WHERE id = ?", (guest.id,)) is None


# A forged SMS From: the sender's number is not proof, the code in the summary is ---------------

# Each flow up to its summary, and what its yes changes: a new person, Karim's roles, Karim's number.
FLOWS = {
    "register": ("/inscrire", "Jean Dupont", NEW_PHONE, "1 ok", "1"),
    "roles": ("/roles GV-K7P2", "3 ok"),
    "phone": ("/tel GV-K7P2 06 39 98 07 77",),
}


async def to_summary(talk: Talk, staff: str, flow: str) -> Said:
    for text in FLOWS[flow]:
        said = await talk(text, who=staff)
    return said


async def flow_done(talk: Talk, flow: str) -> bool:
    """What the staff member and the person would notice once the flow's yes went through."""
    store = talk.core.store
    karim = await person_by_code(store, "GV-K7P2")
    if flow == "register":
        return await store.fetchone("SELECT 1 FROM persons WHERE name = 'Jean Dupont'") is not None
    if flow == "roles":
        return karim.roles == {"resident", "worker", "volunteer"}
    return await phones_of(store, karim.id) == ["+33639980777"]


@pytest.mark.parametrize("flow", list(FLOWS))
async def test_a_forged_sms_yes_writes_nothing(talk: Talk, staff: str, flow: str) -> None:
    """By SMS a bare OUI or "1" asks for the code again; three wrong answers drop the change; nothing is written."""
    if talk.channel != "sms":
        pytest.skip("the code is asked by SMS only")
    before = await roster_state(talk.core.store)
    summary = await to_summary(talk, staff, flow)
    assert summary.code is not None and summary.has(f"répondez OUI {summary.code}"), summary.text
    assert not summary.has("1 OUI"), "no numbered choice a forger could send"
    for forged in ("OUI", "1"):
        said = await talk(forged, who=staff)
        assert said.has("Il faut le code", "Rien n'est fait sans lui"), said.text
        assert await roster_state(talk.core.store) == before
    wrong = "0000" if summary.code != "0000" else "1111"
    said = await talk(f"OUI {wrong}", who=staff)
    assert said.has("Code faux 3 fois", "rien n'a été fait"), said.text
    assert await pending_step(talk, staff) is None
    said = await talk(f"OUI {summary.code}", who=staff)  # too late: the change was dropped
    assert await roster_state(talk.core.store) == before
    assert not await flow_done(talk, flow)


@pytest.mark.parametrize("flow", list(FLOWS))
async def test_the_sms_code_confirms_once(talk: Talk, staff: str, flow: str) -> None:
    """By SMS OUI with the summary's code writes the change, once: the same answer again changes nothing."""
    if talk.channel != "sms":
        pytest.skip("the code is asked by SMS only")
    summary = await to_summary(talk, staff, flow)
    said = await talk(f"oui {summary.code}", who=staff)
    assert said.has("est inscrit" if flow == "register" else "C'est fait"), said.text
    assert await flow_done(talk, flow)
    after = await roster_state(talk.core.store)
    await talk(f"OUI {summary.code}", who=staff)
    assert await roster_state(talk.core.store) == after


@pytest.mark.parametrize("flow", list(FLOWS))
async def test_elsewhere_the_buttons_and_a_plain_oui_still_confirm(talk: Talk, staff: str, flow: str) -> None:
    """On Telegram and in the terminal the summary keeps its OUI / NON buttons, and a typed "enregistrer" saves."""
    if talk.channel == "sms":
        pytest.skip("Telegram and the terminal only")
    summary = await to_summary(talk, staff, flow)
    assert summary.code is None and summary.has("1 OUI, enregistrer", "2 NON, annuler"), summary.text
    said = await talk("enregistrer", who=staff)
    assert said.has("est inscrit" if flow == "register" else "C'est fait"), said.text
    assert await flow_done(talk, flow)


# Everyone else ---------------------------------------------------------------------------

STAFF_COMMANDS = [
    "/inscrire",
    "/register",
    "/roles GV-K7P2",
    "/roles",
    "/tel GV-K7P2 06 39 98 07 77",
    "/phone GV-K7P2 06 39 98 07 77",
    "/equipe",
    "/staff",
]


@pytest.mark.parametrize("who", ["resident", "volunteer", "stranger"])
async def test_staff_commands_are_refused_to_everyone_else(talk: Talk, who: str) -> None:
    """A resident, a volunteer and an unknown sender get "reserved to staff" for every command; nothing changes."""
    if who != "stranger":
        await register_here(talk, who, {who}, name=who.title())
    await talk("bonjour", who=who)  # the stranger becomes a guest now, not during the check
    before = await roster_state(talk.core.store)
    for command in STAFF_COMMANDS:
        said = await talk(command, who=who)
        assert said.has("Cette commande est réservée à l'équipe. Rien n'a été modifié."), (command, said.text)
        assert await pending_step(talk, who) is None
    said = await talk("oui", who=who)
    assert not said.has("inscrit")
    assert await roster_state(talk.core.store) == before
    menu = await talk("menu", who=who)
    assert not menu.has("Équipe : inscrire")


async def test_forged_staff_buttons_are_refused(talk: Talk) -> None:
    """A resident sending the data of staff buttons (Telegram callbacks) is refused and changes nothing."""
    if talk.channel != "telegram":
        pytest.skip("only Telegram lets a client send any button data")
    await register_here(talk, "resident", {"resident"}, name="Resident")
    before = await roster_state(talk.core.store)
    telegram = cast(TelegramTalk, talk)
    chat_id = int(talk.address("resident"))
    for data in (
        "people.add",
        "people.staff",
        "people.confirm.yes",
        "people.role:admin",
        "people.roles_ok",
        "people.lang:fr",
    ):
        said = await telegram._exchange("resident", telegram.fake.push_callback(chat_id, data))
        assert said.has("réservée à l'équipe"), (data, said.text)
    assert await roster_state(talk.core.store) == before
