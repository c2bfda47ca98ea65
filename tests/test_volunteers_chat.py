"""Volunteers in chat over every channel: signing up as a guest, reviewing, changing, withdrawing, the next
meeting in people's own words, STOP RAPPELS, data rights, and the staff's list and calendar changes."""

from __future__ import annotations

from datetime import date

import pytest

from bot import people
from bot.messages import Channel
from bot.sms_text import PAGE_SEPTETS, is_gsm, septets
from bot.text import fold
from tests.conftest import Said, Talk
from tests.helpers import register_here

# Demo data: Awa GV-EKP3 is staff (+33639980001); Lucie GV-MRT4 (+33639980004) has signed up; the
# fortnightly meetings count from Wednesday 2 December 2026 (START is Wednesday 25 November, 10:00).
AWA = "+33639980001"
LUCIE = "+33639980004"


async def signup_of(talk: Talk, who: str) -> dict[str, object] | None:
    row = await talk.core.store.fetchone(
        "SELECT s.* FROM volunteer_signups s JOIN identities i ON i.person_id = s.person_id"
        " WHERE i.channel = ? AND i.address = ?",
        (talk.identity_channel.value, talk.address(who)),
    )
    return dict(row) if row else None


async def sign_up(talk: Talk, who: str = "alice", consent: str = "oui") -> None:
    await talk("inscription", who=who)
    await talk("Alice", who=who)
    await talk("1 5", who=who)
    await talk("le samedi matin", who=who)
    await talk(consent, who=who)


async def test_a_guest_signs_up_and_staff_are_told(talk: Talk) -> None:
    """Someone unknown answers four questions and is signed up; each member of staff gets the news by the outbox."""
    intro = await talk("inscription", who="alice")
    assert intro.has("sans compte ni code", "nom ou prenom")
    asked = await talk("Alice Durand", who="alice")
    assert asked.has("1 Construction de mobilier", "5 Cuisine", "9 Cours d'informatique")
    asked = await talk("1, 5 et jardinnage", who="alice")  # numbers and a misspelt word
    assert asked.has("Construction de mobilier, Jardinage, Cuisine", "disponible")
    asked = await talk("le samedi matin", who="alice")
    assert asked.has("contacte", "OUI", "NON")
    done = await talk.choose(1, who="alice")
    assert done.has("Merci Alice Durand", "mercredi 2 decembre", "18h30-20h00", "Magasin general", "STOP RAPPELS")
    signup = await signup_of(talk, "alice")
    assert signup is not None
    assert (signup["name"], signup["activities"], signup["availability"], signup["consent"]) == (
        "Alice Durand",
        "furniture gardening kitchen",
        "le samedi matin",
        1,
    )
    person = await talk.core.store.fetchone(
        "SELECT p.status, p.language FROM persons p JOIN identities i ON i.person_id = p.id WHERE i.address = ?",
        (talk.address("alice"),),
    )
    assert person is not None and tuple(person) == ("guest", "fr")  # no account was needed
    told = await talk.core.store.fetchall("SELECT address, body FROM outbox WHERE cause LIKE 'volunteer-signup:%'")
    assert [r["address"] for r in told] == [AWA]
    assert "Alice Durand (sans code)" in told[0]["body"] and "Jardinage" in told[0]["body"]


async def test_review_change_and_withdraw(talk: Talk) -> None:
    """A volunteer sees their sign-up, changes one answer, then withdraws it after OUI; staff are told once."""
    await sign_up(talk)
    review = await talk("inscription", who="alice")
    assert review.has("Votre inscription benevole", "Construction de mobilier, Cuisine", "Modifier", "Retirer")
    assert (await talk.choose(1, who="alice")).has("Que voulez-vous modifier", "Disponibilites")
    assert (await talk.choose(2, who="alice")).has("1 Construction de mobilier")
    changed = await talk("photos et musique", who="alice")
    assert changed.has("C'est modifie", "Photos, Cours de musique")
    signup = await signup_of(talk, "alice")
    assert signup is not None and signup["activities"] == "photos music"
    await talk("inscription", who="alice")
    await talk.choose(1, who="alice")
    await talk.choose(1, who="alice")  # the name
    assert (await talk("Alice D.", who="alice")).has("Nom : Alice D.")
    asked = await talk("desinscription", who="alice")
    assert asked.has("Retirer votre inscription", "OUI")
    assert (await talk("non", who="alice")).has("conservee")
    assert await signup_of(talk, "alice") is not None
    asked = await talk("desinscription", who="alice")
    assert (await talk.confirm(asked, who="alice", word="oui")).has("retiree et effacee")
    assert await signup_of(talk, "alice") is None
    again = await talk("inscription", who="alice")
    assert again.has("nom ou prenom")  # a new sign-up starts over
    told = await talk.core.store.fetchall("SELECT cause FROM outbox WHERE cause LIKE 'volunteer-signup:%'")
    assert len(told) == 1  # changes are not news for staff


async def test_bad_answers_are_asked_again_and_save_nothing(talk: Talk) -> None:
    """A name without letters, no recognisable activity: the same question again; MENU leaves, nothing saved."""
    await talk("inscription", who="alice")
    assert (await talk("12", who="alice")).has("Je n'ai pas compris")
    await talk("Alice", who="alice")
    assert (await talk("je sais pas", who="alice")).has("aucune activite", "1 Construction de mobilier")
    assert (await talk("2", who="alice")).has("Jardinage", "disponible")
    await talk("menu", who="alice")
    assert await signup_of(talk, "alice") is None
    assert await talk.core.store.fetchall("SELECT * FROM outbox WHERE cause LIKE 'volunteer-signup:%'") == []


async def test_declining_contact_means_no_reminders(talk: Talk) -> None:
    """NON to being contacted: signed up, told nothing will be sent, and RAPPELS explains why not."""
    await sign_up(talk, consent="non")
    signup = await signup_of(talk, "alice")
    assert signup is not None and signup["consent"] == 0
    assert (await talk("rappels", who="alice")).has("refuse d'etre contacte")


PHRASINGS = (
    "prochaine permanence",
    "PROCHAINE PERMANENCE ?",
    "la prochaine permanance c quand",
    "kan c la perm",
    "c quand la reunion des benevoles",
    "/permanence",
)
# Written in English by someone unknown: answered in English.
ENGLISH_PHRASINGS = ("next meeting", "When is the next volunteer meeting?")


async def test_next_meeting_in_peoples_own_words(talk: Talk) -> None:
    """Typos, no accents, SMS spelling, English: the next date, the hours, the place and the .ics link."""
    for text in PHRASINGS:
        said = await talk(text, who="bob")
        assert said.has("mercredi 2 decembre", "18h30-20h00", "Magasin general"), (text, said.text)
        assert "permanence.ics" in said.text, text
    for text in ENGLISH_PHRASINGS:
        said = await talk(text, who="bob")
        assert said.has("Wednesday 2 December", "18:30-20:00", "Magasin general"), (text, said.text)
        assert "permanence.ics" in said.text, text
    other = await talk("permanence sociale", who="bob")  # another service's "permanence"
    assert not other.has("Magasin general")


async def test_next_meeting_tells_cancellations_and_moves(talk: Talk) -> None:
    """A cancelled date is said with its reason, then the next meeting; a moved one says where it went."""
    from handlers.volunteers import calendar

    now = talk.core.clock.now()
    tz = talk.core.settings.tz
    from datetime import date

    async with talk.core.store.transaction() as db:
        await calendar.cancel(db, tz, now, date(2026, 12, 2), "travaux", None)
        await calendar.move(db, tz, now, date(2026, 12, 16), date(2026, 12, 17), "salle prise", None)
    said = await talk("prochaine permanence", who="bob")
    assert said.has("2 decembre est annulee : travaux", "jeudi 17 decembre", "deplacee du mercredi 16 decembre")


async def test_stop_rappels_stops_only_the_reminders(talk: Talk) -> None:
    """STOP RAPPELS turns the meeting reminders off and keeps the identity's other messages; RAPPELS turns them on."""
    await sign_up(talk)
    said = await talk("STOP RAPPELS", who="alice")
    assert said.has("plus de rappels", "autres messages continuent")
    signup = await signup_of(talk, "alice")
    assert signup is not None and signup["reminders"] == 0
    identity = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE channel = ? AND address = ?",
        (talk.identity_channel.value, talk.address("alice")),
    )
    assert identity is not None and identity["opted_out_at"] is None
    assert (await talk("stop reminders", who="alice")).has("plus de rappels")
    assert (await talk("arreter les rappels", who="alice")).has("plus de rappels")
    assert (await talk("rappels", who="alice")).has("reprennent")
    signup = await signup_of(talk, "alice")
    assert signup is not None and signup["reminders"] == 1
    stranger = await talk("stop rappels", who="carol")
    assert stranger.has("pas d'inscription benevole", "Devenir benevole")


async def test_my_data_shows_and_forget_erases_the_sign_up(talk: Talk) -> None:
    """MES DONNEES names the sign-up; OUBLIER then OUI erases it."""
    await sign_up(talk)
    said = await talk("mes donnees", who="alice")
    if said.has("SUITE"):  # by SMS the export takes two pages once the bot keeps the last exchanges
        said.texts += (await talk("suite", who="alice")).texts
    assert said.has("Inscription benevole : Alice", "le samedi matin")
    asked = await talk("oublier", who="alice")
    await talk.confirm(asked, who="alice", word="oui")
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM volunteer_signups WHERE name = 'Alice'")
    assert row is not None and row[0] == 0


async def test_staff_list_sign_ups(talk: Talk) -> None:
    """/benevoles: every sign-up with activities and availability; a phone only for those who agreed."""
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    await sign_up(talk, "alice", consent="non")
    said = await talk("/benevoles", who="staff")
    if said.has("SUITE"):
        said.texts += (await talk("suite", who="staff")).texts
    assert said.has("Inscriptions benevoles (2)", "Lucie Martin (GV-MRT4)", "Jardinage, Cuisine", "06 39 98 00 04")
    assert said.has("Alice (sans code)", "contact : refuse")
    assert talk.address("alice") not in said.text


async def test_staff_cancel_after_oui_and_volunteers_are_told(talk: Talk) -> None:
    """The staff's cancel shows what will happen; NON changes nothing, OUI cancels and queues one notice each."""
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    preview = await talk("/permanence_annuler 2026-12-02 travaux dans la salle", who="staff")
    assert preview.has("Annuler la permanence du mercredi 2 decembre : travaux dans la salle", "1 benevole sera", "OUI")
    assert (await talk("non", who="staff")).has("rien n'a ete modifie")
    assert await talk.core.store.fetchall("SELECT * FROM meeting_cancellations") == []
    asked = await talk("/permanence_annuler 2/12 travaux dans la salle", who="staff")  # day/month works in chat
    done = await (talk.confirm(asked, who="staff") if talk.channel == "sms" else talk.choose(1, who="staff"))
    assert done.has("C'est fait", "annulee : travaux dans la salle", "1 benevole prevenu")
    notices = await talk.core.store.fetchall("SELECT address, body FROM outbox WHERE cause LIKE 'permanence:%'")
    assert [(n["address"], "travaux dans la salle" in n["body"]) for n in notices] == [(LUCIE, True)]
    again = await talk("oui", who="staff")  # a second OUI does nothing
    assert not again.has("C'est fait")
    assert len(await talk.core.store.fetchall("SELECT * FROM outbox WHERE cause LIKE 'permanence:%'")) == 1
    listed = await talk("/permanences", who="staff")
    assert listed.has("2026-12-02 18h30-20h00 ANNULEE : travaux dans la salle", "2026-12-16")


async def notices(talk: Talk) -> int:
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM outbox WHERE cause LIKE 'permanence:%'")
    assert row is not None
    return int(row[0])


async def cancellations(talk: Talk) -> int:
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM meeting_cancellations")
    assert row is not None
    return int(row[0])


async def test_a_forged_sms_yes_does_not_change_the_calendar(talk: Talk) -> None:
    """By SMS a calendar change (told to every volunteer) needs the prompt's code: a bare OUI or "1" gets
    the code again, three wrong answers drop it, no meeting changes and no volunteer is told."""
    if talk.channel != "sms":
        pytest.skip("a forged sender is an SMS matter")
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    prompt = await talk("/permanence_annuler 2026-12-02 travaux", who="staff")
    assert prompt.code is not None and "1 OUI" not in prompt.text, prompt.text
    for forged in ("OUI", "1"):
        said = await talk(forged, who="staff")
        assert said.code == prompt.code and said.has("Il faut le code"), said.text
    said = await talk(f"OUI {(int(prompt.code) + 1) % 10000:04d}", who="staff")
    assert said.has("Code faux 3 fois"), said.text
    await talk(f"OUI {prompt.code}", who="staff")
    assert await cancellations(talk) == 0 and await notices(talk) == 0


async def test_the_sms_code_changes_the_calendar_once(talk: Talk) -> None:
    """The staff member's own phone shows the code: the cancellation is made and each volunteer told once."""
    if talk.channel != "sms":
        pytest.skip("the code is for SMS only")
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    prompt = await talk("/permanence_annuler 2026-12-02 travaux", who="staff")
    assert (await talk(f"OUI {prompt.code}", who="staff")).has("C'est fait")
    await talk(f"OUI {prompt.code}", who="staff")
    assert await cancellations(talk) == 1 and await notices(talk) == 1


async def test_a_forged_sms_yes_does_not_withdraw(talk: Talk) -> None:
    """Withdrawing erases the sign-up: by SMS a bare OUI or "1" gets the code again, three wrong answers
    drop it, and the sign-up stays; the volunteer's own code then withdraws it."""
    if talk.channel != "sms":
        pytest.skip("a forged sender is an SMS matter")
    await sign_up(talk)
    prompt = await talk("desinscription", who="alice")
    assert prompt.code is not None and "1 OUI" not in prompt.text, prompt.text
    for forged in ("OUI", "1"):
        said = await talk(forged, who="alice")
        assert said.code == prompt.code and said.has("Il faut le code"), said.text
    assert (await talk("oui 0", who="alice")).has("Code faux 3 fois")
    await talk(f"OUI {prompt.code}", who="alice")
    assert await signup_of(talk, "alice") is not None
    prompt = await talk("desinscription", who="alice")
    assert (await talk(f"OUI {prompt.code}", who="alice")).has("retiree et effacee")
    assert await signup_of(talk, "alice") is None


async def test_withdraw_buttons_work_without_a_code(talk: Talk) -> None:
    """On Telegram and in the terminal, withdrawing shows OUI/NON buttons and no code; NON keeps, OUI erases."""
    if talk.channel == "sms":
        pytest.skip("SMS has no buttons")
    await sign_up(talk)
    prompt = await talk("desinscription", who="alice")
    shown = prompt.buttons if talk.buttons else prompt.texts[-1].splitlines()[-2:]
    assert prompt.code is None and shown == ["1 OUI", "2 NON"], prompt.text
    assert (await talk.choose(2, who="alice")).has("conservee")
    await talk("desinscription", who="alice")
    assert (await talk.choose(1, who="alice")).has("retiree et effacee")
    assert await signup_of(talk, "alice") is None


async def test_staff_move_and_add(talk: Talk) -> None:
    """Moving keeps the hours unless given; adding makes an extra meeting; the answers change accordingly."""
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    preview = await talk("/permanence_deplacer 2026-12-02 2026-12-03 salle prise", who="staff")
    assert preview.has("au jeudi 3 decembre, 18h30-20h00 : salle prise")
    assert (await talk.confirm(preview, who="staff", word="oui")).has("deplacee au jeudi 3 decembre")
    preview = await talk("/permanence_ajouter 2026-12-09 14:00-16:00 portes ouvertes", who="staff")
    assert preview.has("Ajouter une permanence le mercredi 9 decembre, 14h00-16h00 : portes ouvertes")
    assert (await talk.confirm(preview, who="staff", word="oui")).has("permanence ajoutee")
    said = await talk("prochaine permanence", who="bob")
    assert said.has("jeudi 3 decembre, 18h30-20h00 (deplacee du mercredi 2 decembre : salle prise)"), said.text
    async with talk.core.store.transaction() as db:
        from handlers.volunteers import calendar

        found = await calendar.coming(db, talk.core.settings.tz, talk.core.clock.now(), 3)
    assert [(m.day.isoformat(), m.live) for m in found] == [
        ("2026-12-02", False),
        ("2026-12-03", True),
        ("2026-12-09", True),
        ("2026-12-16", True),
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/permanence_annuler 2026-12-03 raison", "pas de permanence le jeudi 3 decembre 2026"),
        ("/permanence_annuler 2026-12-02", "Donnez une raison"),
        ("/permanence_annuler 2026-11-18 raison", "pas de permanence le mercredi 18 novembre 2026"),
        ("/permanence_ajouter 2026-11-24", "est passe"),
        ("/permanence_ajouter 2026-12-16", "deja une permanence"),
        ("/permanence_deplacer 2026-12-02", "/permanence_deplacer AAAA-MM-JJ"),
        ("/permanence_reference 2026-12-03", "n'est pas un mercredi"),
        ("/permanence_reference 2026-02-30", "n'est pas une date"),
        ("/permanence_annuler demain raison", "n'est pas une date"),
    ],
)
async def test_staff_bad_dates_get_a_clear_answer(talk: Talk, command: str, expected: str) -> None:
    """Not a meeting date, no reason, past, taken, not a Wednesday, unparsable: said clearly, nothing changed."""
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    said = await talk(command, who="staff")
    assert said.has(expected), said.text
    assert said.has("Rien n'a ete modifie") or said.has("Ecrivez"), said.text
    assert not said.has("OUI")
    assert await talk.core.store.fetchall("SELECT * FROM meeting_cancellations") == []
    assert await talk.core.store.fetchall("SELECT * FROM meeting_extras") == []


async def test_staff_commands_are_refused_to_volunteers(talk: Talk) -> None:
    """A volunteer (Lucie's role) sending a staff command gets the staff-only refusal; nothing changes."""
    await register_here(talk, "vol", {"volunteer"}, "Bene Vole")
    for command in ("/permanence_annuler 2026-12-02 x", "/permanence_reference 2026-12-09", "/benevoles"):
        said = await talk(command, who="vol")
        assert said.has("réservée à l'équipe"), command
    assert await talk.core.store.fetchall("SELECT * FROM meeting_cancellations") == []
    row = await talk.core.store.fetchone("SELECT day FROM meeting_reference")
    assert row is not None and row[0] == "2026-12-02"


async def test_the_menu_offers_to_volunteer(talk: Talk) -> None:
    """The main menu has "Devenir bénévole", which starts the sign-up."""
    menu = await talk("menu", who="alice")
    assert menu.has("Devenir benevole")
    lines = menu.buttons or [line for text in menu.texts for line in text.splitlines() if line[:1].isdigit()]
    position = next(int(line.split()[0]) for line in lines if "benevole" in fold(line))
    assert (await talk.choose(position, who="alice")).has("nom ou prenom")


async def test_an_english_speaker_signs_up_in_english(talk: Talk) -> None:
    """Sam, who reads English, gets the questions and the list of activities in English."""
    async with talk.core.store.transaction() as db:
        sam = await people.register(db, talk.core.clock.now(), "Sam", {"resident"}, "en")
        await people.attach_identity(
            db, talk.core.clock.now(), sam, Channel(talk.identity_channel), talk.address("sam")
        )
    assert (await talk("sign up", who="sam")).has("no account or code needed")
    await talk("Sam", who="sam")
    assert (await talk("gardening, cooking", who="sam")).has("Gardening, Kitchen", "When are you free")
    await talk("weekends", who="sam")
    assert (await talk("yes", who="sam")).has("Thank you Sam", "Wednesday 2 December", "18:30-20:00")


# --- The meeting's rule is always known (issue 14) --------------------------------------------------

NO_DATE_PHRASINGS = (
    "prochaine permanence",
    "c quand la reunion des benevoles",
    "kan c la perm",
    "permanence",
    "/permanence",
)


async def no_reference(talk: Talk) -> None:
    """A fresh deployment: staff have not set the Wednesday the meetings count from."""
    await talk.core.store.execute("DELETE FROM meeting_reference")


def sms_sized(talk: Talk, said: Said) -> None:
    """By SMS each page is GSM-7 and at most two segments."""
    if talk.channel == "sms":
        for text in said.texts:
            assert is_gsm(text) and septets(text) <= PAGE_SEPTETS, (septets(text), text)


async def test_without_dates_the_meeting_rule_still_answers(talk: Talk) -> None:
    """No reference date yet: every question about the meeting gets the site's rule (every other Wednesday,
    18h30-20h00, Magasin général) and that the dates will follow; never "not planned"."""
    await no_reference(talk)
    for text in NO_DATE_PHRASINGS:
        said = await talk(text, who="bob")
        assert said.has("un mercredi sur deux", "18h30-20h00", "Magasin general"), (text, said.text)
        assert said.has("prochaines dates seront donnees", "des que l'equipe les aura fixees"), (text, said.text)
        assert not said.has("n'est prevue") and not said.has("Aucune date"), (text, said.text)
        sms_sized(talk, said)


async def test_without_dates_a_new_volunteer_is_told_the_rule(talk: Talk) -> None:
    """Signing up before any date is set: the thanks give the rule and say the dates will come."""
    await no_reference(talk)
    await talk("inscription", who="alice")
    await talk("Alice", who="alice")
    await talk("2", who="alice")
    await talk("le samedi", who="alice")
    said = await talk("oui", who="alice")
    assert said.has("Merci Alice", "un mercredi sur deux", "18h30-20h00", "Magasin general"), said.text
    assert said.has("des qu'elles seront fixees"), said.text
    assert not said.has("n'est prevue")
    sms_sized(talk, said)


async def test_without_dates_the_rule_in_english(talk: Talk) -> None:
    """Sam reads English: the rule and "as soon as the team sets them", in English."""
    await no_reference(talk)
    await register_here(talk, "sam", {"resident"}, "Sam", language="en")
    said = await talk("next meeting", who="sam")
    assert said.has("every other Wednesday", "18:30-20:00", "Magasin general"), said.text
    assert said.has("as soon as the team sets them"), said.text
    sms_sized(talk, said)


async def test_with_dates_the_rule_and_the_next_dates(talk: Talk) -> None:
    """Dates set: the rule, the next meeting with its hours, the two after it and the calendar link."""
    said = await talk("prochaine permanence", who="bob")
    assert said.has("un mercredi sur deux", "18h30-20h00", "Magasin general"), said.text
    assert said.has("Prochaine : mercredi 2 decembre, 18h30-20h00"), said.text
    assert said.has("Puis : mercredi 16 decembre, mercredi 30 decembre"), said.text
    assert "permanence.ics" in said.text
    sms_sized(talk, said)


async def test_the_next_dates_skip_a_cancelled_one_and_say_so(talk: Talk) -> None:
    """A cancelled date is said with its reason and left out of the dates that follow."""
    from handlers.volunteers import calendar

    async with talk.core.store.transaction() as db:
        await calendar.cancel(db, talk.core.settings.tz, talk.core.clock.now(), date(2026, 12, 16), "fetes", None)
    said = await talk("prochaine permanence", who="bob")
    assert said.has("un mercredi sur deux", "Prochaine : mercredi 2 decembre"), said.text  # on the first page
    sms_sized(talk, said)
    if said.has("SUITE"):
        said.texts += (await talk("suite", who="bob")).texts
    assert said.has("16 decembre est annulee : fetes", "Puis : mercredi 30 decembre, mercredi 13 janvier"), said.text


# --- Changing one's sign-up in words (issue 14) ------------------------------------------------------


async def test_modifier_typed_as_a_word_keeps_the_edit(talk: Talk) -> None:
    """On a basic phone one types the choice's word: "modifier", then "disponibilites", then the new value;
    the change is saved instead of the main menu."""
    await sign_up(talk)
    await talk("inscription", who="alice")
    asked = await talk("modifier", who="alice")
    assert asked.has("Que voulez-vous modifier"), asked.text
    asked = await talk("disponibilites", who="alice")
    assert asked.has("Quand etes-vous disponible"), asked.text
    changed = await talk("le dimanche", who="alice")
    assert changed.has("C'est modifie", "Disponibilites : le dimanche"), changed.text
    assert not changed.has("Que cherchez-vous")
    signup = await signup_of(talk, "alice")
    assert signup is not None and signup["availability"] == "le dimanche"


@pytest.mark.parametrize(
    ("text", "asked", "answer", "column", "value"),
    [
        ("modifier mes dispos", "Quand etes-vous disponible", "le soir", "availability", "le soir"),
        ("je veux changer mon nom", "Votre nom ou prenom", "Alicia", "name", "Alicia"),
        ("modifer mes activites", "1 Construction de mobilier", "musique", "activities", "music"),
        ("change my availability", "Quand etes-vous disponible", "weekends", "availability", "weekends"),
    ],
)
async def test_a_change_said_in_ones_own_words(
    talk: Talk, text: str, asked: str, answer: str, column: str, value: str
) -> None:
    """ "modifier mes dispos", "changer mon nom", a typo, English: straight to that question, and the answer is kept."""
    await sign_up(talk)
    said = await talk(text, who="alice")
    assert said.has(asked), (text, said.text)
    assert (await talk(answer, who="alice")).has("C'est modifie")
    signup = await signup_of(talk, "alice")
    assert signup is not None and signup[column] == value


async def test_modifier_later_still_reaches_the_sign_up(talk: Talk) -> None:
    """Long after the review (past CONVERSATION_MINUTES), "modifier mon inscription" and "modifier" still edit it."""
    await sign_up(talk)
    await talk("inscription", who="alice")
    talk.clock.advance(minutes=talk.core.settings.conversation_minutes + 15)
    assert (await talk("modifier mon inscription", who="alice")).has("Que voulez-vous modifier")
    talk.clock.advance(minutes=talk.core.settings.conversation_minutes + 15)
    assert (await talk("modifier", who="alice")).has("Que voulez-vous modifier")
    await talk.choose(2, who="alice")
    assert (await talk("cuisine", who="alice")).has("C'est modifie", "Activites : Cuisine")


async def test_modifier_from_someone_not_signed_up_is_not_an_edit(talk: Talk) -> None:
    """Without a sign-up, "modifier mon inscription" is left to the rest of the bot; nothing is saved."""
    said = await talk("modifier mon inscription", who="carol")
    assert not said.has("Que voulez-vous modifier")
    assert await signup_of(talk, "carol") is None


async def test_staff_words_for_shifts_are_not_taken_for_the_sign_up(talk: Talk) -> None:
    """Staff's "modifier 12 ..." still reaches the shifts; their own "modifier mon inscription" edits their sign-up."""
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    await sign_up(talk, who="staff")
    said = await talk("modifier 999 places 5", who="staff")
    assert not said.has("Que voulez-vous modifier"), said.text
    assert (await talk("modifier mon inscription", who="staff")).has("Que voulez-vous modifier")


async def test_another_message_after_the_question_is_answered_as_usual(talk: Talk) -> None:
    """After "Que voulez-vous modifier ?", a question about something else gets its own answer, not the edit."""
    await sign_up(talk)
    await talk("inscription", who="alice")
    await talk("modifier", who="alice")
    said = await talk("prochaine permanence", who="alice")
    assert said.has("Prochaine : mercredi 2 decembre"), said.text
    said = await talk("ou prendre une douche", who="alice")
    assert not said.has("Que voulez-vous modifier") and not said.has("C'est modifie"), said.text
