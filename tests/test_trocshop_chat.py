"""The Trocshop in chat over every channel: balance, history, paying with confirmation, staff operations."""

from __future__ import annotations

import json

import pytest

from bot import people, privacy
from bot.i18n import I18n
from bot.messages import Channel
from bot.sms_text import is_gsm, septets
from tests.conftest import Talk

# Demo data (bot/demo.py and the Trocshop's seeder): Karim GV-K7P2 (+33639980002) has 2 h,
# Sam GV-TAY3 1 h 30, Lucie GV-MRT4 1 h; la Lingerie, la Ressourcerie Créative, la boutique du Trocshop.
ALICE = "GV-ACE2"


async def register_here(
    talk: Talk, who: str, roles: set[str], name: str, code: str | None = None, minutes: int = 0, language: str = "fr"
) -> int:
    """A registered person on the talk's own channel, credited ``minutes`` by the team."""
    from handlers.trocshop import ledger

    now = talk.core.clock.now()
    async with talk.core.store.transaction() as db:
        person_id = await people.register(db, now, name, roles, language, member_code=code)
        await people.attach_identity(db, now, person_id, Channel(talk.channel), talk.address(who))
        if minutes:
            await ledger.credit(db, now, key=f"test:{person_id}", person_id=person_id, minutes=minutes, actor=None)
    return person_id


async def alice(talk: Talk, minutes: int = 120) -> int:
    return await register_here(talk, "alice", {"resident"}, "Alice Martin", ALICE, minutes)


async def entries(talk: Talk) -> int:
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM troc_entries")
    assert row is not None
    return int(row[0])


async def balance_of(talk: Talk, code: str) -> int:
    row = await talk.core.store.fetchone(
        "SELECT a.balance FROM troc_accounts a JOIN persons p ON p.id = a.person_id WHERE p.member_code = ?", (code,)
    )
    return int(row[0]) if row else 0


async def place_balance(talk: Talk, name: str) -> int:
    row = await talk.core.store.fetchone("SELECT balance FROM troc_accounts WHERE label = ?", (name,))
    assert row is not None
    return int(row[0])


async def check(talk: Talk) -> None:
    from handlers.trocshop import ledger

    async with talk.core.store.transaction() as db:
        assert await ledger.check(db) == []


async def test_balance_shows_the_last_three_movements(talk: Talk) -> None:
    """SOLDE gives the balance as people say it and the last three movements."""
    await alice(talk, 30)
    from handlers.trocshop import ledger

    async with talk.core.store.transaction() as db:
        person = await people.find_person_id(db, member_code=ALICE)
        assert person is not None
        for n, minutes in enumerate((15, 45, 60)):
            await ledger.credit(db, talk.clock.now(), key=f"x{n}", person_id=person, minutes=minutes, actor=None)
    said = await talk("solde", who="alice")
    assert said.has("2 h 30", "+1 h", "+45 min", "+15 min")
    assert "+30 min" not in said.text  # the fourth movement is history's, not the balance's


async def test_history_shows_the_last_ten(talk: Talk) -> None:
    """HISTORIQUE lists the last ten movements, newest first."""
    person = await alice(talk, 0)
    from handlers.trocshop import ledger

    async with talk.core.store.transaction() as db:
        for n in range(12):
            await ledger.credit(db, talk.clock.now(), key=f"h{n}", person_id=person, minutes=n + 1, actor=None)
    said = await talk("historique", who="alice")
    if said.has("SUITE"):  # SMS: one answer is at most two segments, the rest on demand
        said.texts += (await talk("suite", who="alice")).texts
    assert said.has("+12 min", "+3 min") and not said.has("+2 min")


async def test_pay_a_person_after_oui(talk: Talk) -> None:
    """The preview names who gets what; only OUI writes; both sides are told."""
    await alice(talk)
    before = await entries(talk)
    preview = await talk("envoyer 30 min a GV-K7P2", who="alice")
    assert preview.has("30 min", "Karim", "GV-K7P2", "OUI")
    assert await entries(talk) == before
    done = await talk("OUI", who="alice")
    assert done.has("envoye", "30 min", "1 h 30")
    assert await entries(talk) == before + 1
    assert await balance_of(talk, "GV-K7P2") == 150 and await balance_of(talk, ALICE) == 90
    told = await talk.core.store.fetchall("SELECT channel, address, body FROM outbox WHERE cause LIKE 'troc:%'")
    assert len(told) == 1 and tuple(told[0])[:2] == ("sms", "+33639980002")
    assert "Alice" in told[0][2] and "30 min" in told[0][2] and "2 h 30" in told[0][2]
    await check(talk)


async def test_pay_by_button_or_number(talk: Talk) -> None:
    """The OUI button (a digit on SMS) confirms just as typing OUI does; a phone number names the payee."""
    await alice(talk)
    preview = await talk("payer 1h au 06 39 98 00 03", who="alice")
    assert preview.has("1 h", "Sam")
    assert (await talk.choose(1, who="alice")).has("envoye")
    assert await balance_of(talk, "GV-TAY3") == 150


async def test_pay_a_place(talk: Talk) -> None:
    """A place is paid by its name, as people type it."""
    await alice(talk)
    preview = await talk("payer 1h lingerie", who="alice")
    assert preview.has("1 h", "la Lingerie")
    await talk("oui", who="alice")
    assert await place_balance(talk, "la Lingerie") == 60
    assert await balance_of(talk, ALICE) == 60


async def test_non_writes_nothing(talk: Talk) -> None:
    """NON cancels: nothing is written, and a later OUI has nothing to confirm."""
    await alice(talk)
    before = await entries(talk)
    await talk("envoyer une demi-heure a GV-K7P2", who="alice")
    assert (await talk("non", who="alice")).has("Annule", "Rien n'a ete envoye")
    await talk("oui", who="alice")
    assert await entries(talk) == before


async def test_confirmation_after_ten_minutes_is_refused(talk: Talk) -> None:
    """A confirmation that arrives after ten minutes is refused and writes nothing."""
    await alice(talk)
    before = await entries(talk)
    await talk("envoyer 30 a GV-K7P2", who="alice")
    talk.clock.advance(minutes=11)
    assert (await talk("OUI", who="alice")).has("Trop tard")
    assert await entries(talk) == before


async def test_oui_twice_pays_once(talk: Talk) -> None:
    """The same OUI twice (a repeated SMS, a double tap) pays once and says so."""
    await alice(talk)
    before = await entries(talk)
    await talk("envoyer 30min a gv k7p2", who="alice")
    await talk.choose(1, who="alice")
    again = await talk("OUI", who="alice")
    assert again.has("deja fait")
    assert await entries(talk) == before + 1
    assert await balance_of(talk, ALICE) == 90


async def test_double_tap_on_the_button_pays_once(talk: Talk) -> None:
    """Pressing the same OUI button twice writes one entry."""
    await alice(talk)
    before = await entries(talk)
    preview = await talk("envoyer 30 min a GV-K7P2", who="alice")
    assert preview.has("OUI")
    step = await talk.core.store.fetchone(
        "SELECT c.data FROM conversations c JOIN persons p ON p.id = c.person_id WHERE p.member_code = ?", (ALICE,)
    )
    assert step is not None
    token = json.loads(step[0])["token"]
    first = await talk.press(f"trocshop.yes:{token}", who="alice")
    second = await talk.press(f"trocshop.yes:{token}", who="alice")
    assert first.has("envoye") and second.has("deja fait")
    assert await entries(talk) == before + 1


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("envoyer 30 min a GV-ACE2", "propre compte"),
        ("envoyer 0 min a GV-K7P2", "depasser 0"),
        ("envoyer -30 a GV-K7P2", "depasser 0"),
        ("envoyer 30 min a GV-HHHH", "Je ne trouve personne"),
        ("payer 1h au cafe inconnu", "Je ne trouve personne"),
        ("envoyer 5h a GV-K7P2", "Pas assez de temps"),
    ],
)
async def test_refusals_change_nothing(talk: Talk, typed: str, expected: str) -> None:
    """Paying oneself, zero or negative amounts, unknown payees and overdrafts are refused clearly."""
    await alice(talk)
    before = await entries(talk)
    said = await talk(typed, who="alice")
    assert said.has(expected), said.text
    assert not said.has("OUI")
    await talk("oui", who="alice")
    assert await entries(talk) == before
    assert await balance_of(talk, ALICE) == 120


async def test_strangers_never_see_someone_elses_balance(talk: Talk) -> None:
    """Another resident is refused; a guest is told how to register; staff see it."""
    await register_here(talk, "bob", {"resident"}, "Bob")
    await register_here(talk, "staff", {"staff"}, "Awa")
    refused = await talk("solde GV-K7P2", who="bob")
    assert refused.has("seulement votre propre solde") and "2 h" not in refused.text
    assert (await talk("historique 06 39 98 00 02", who="bob")).has("seulement votre propre solde")
    guest = await talk("solde", who="stranger")
    assert guest.has("il faut etre inscrit")
    assert (await talk("solde GV-K7P2", who="staff")).has("Karim", "2 h")


async def test_paying_in_english(talk: Talk) -> None:
    """An English speaker sends time with English words and is answered in English."""
    await register_here(talk, "sam", {"resident"}, "Sam Taylor", "GV-CDE3", 60, language="en")
    preview = await talk("send half an hour to gv-k7p2", who="sam")
    assert preview.has("Send 30 min to Karim", "YES")
    assert (await talk("yes", who="sam")).has("Sent: 30 min", "Your balance: 30 min")
    assert (await talk("balance", who="sam")).has("your balance is 30 min", "-30 min GV-K7P2")


async def test_offering_things_is_not_a_payment(talk: Talk) -> None:
    """ "donner 2 couvertures" is not read as paying 2 minutes."""
    await alice(talk)
    said = await talk("donner 2 couvertures", who="alice")
    assert not said.has("OUI") and not said.has("Je ne trouve personne")


async def test_guest_cannot_pay(talk: Talk) -> None:
    """A guest trying to pay gets the how-to-register message and nothing is written."""
    await talk("bonjour", who="stranger")
    said = await talk("envoyer 30 min a GV-K7P2", who="stranger")
    assert said.has("il faut etre inscrit")


async def test_staff_credit_withdraw_deposit_and_reverse(talk: Talk) -> None:
    """Staff credit, hand out notes, take them back and undo an entry, each after OUI; the person is told."""
    await register_here(talk, "staff", {"staff"}, "Awa")
    assert (await talk("/crediter GV-K7P2 1h30 activite atelier jardin", who="staff")).has("1 h 30", "Karim")
    credited = await talk("oui", who="staff")
    assert credited.has("Credit enregistre")
    assert await balance_of(talk, "GV-K7P2") == 210
    await talk("/retrait GV-K7P2 2x30 1x15", who="staff")
    assert (await talk("oui", who="staff")).has("Retrait enregistre", "1 h 15")
    await talk("/depot GV-K7P2 1x30", who="staff")
    await talk("oui", who="staff")
    assert (await talk("/billets", who="staff")).has("1 de 15 min", "1 de 30 min", "0 de 60 min", "45 min")
    assert await balance_of(talk, "GV-K7P2") == 165
    entry = await talk.core.store.fetchone("SELECT MAX(id) FROM troc_entries WHERE category = 'activity'")
    assert entry is not None
    await talk(f"/corriger {entry[0]} erreur de saisie", who="staff")
    assert (await talk("oui", who="staff")).has("Correction enregistree")
    assert await balance_of(talk, "GV-K7P2") == 75
    told = await talk.core.store.fetchall("SELECT body FROM outbox WHERE cause LIKE 'troc:%' ORDER BY id")
    assert len(told) == 4
    await check(talk)


async def test_residents_cannot_use_staff_commands(talk: Talk) -> None:
    """A resident typing a staff command is refused and nothing is written."""
    await alice(talk)
    before = await entries(talk)
    assert (await talk("/crediter GV-ACE2 10h", who="alice")).has("reservee a l'equipe")
    await talk("oui", who="alice")
    assert await entries(talk) == before


async def test_staff_add_a_place(talk: Talk) -> None:
    """A place added by staff can be paid at once."""
    await register_here(talk, "staff", {"staff"}, "Awa")
    await alice(talk)
    assert (await talk("/lieu Atelier Velo", who="staff")).has("Atelier Velo")
    assert (await talk("payer 30 atelier velo", who="alice")).has("Atelier Velo")


async def test_forget_keeps_the_journal(talk: Talk) -> None:
    """The export names the Trocshop account; a forget leaves the journal balanced, pointing to no one."""
    person = await alice(talk)
    await talk("payer 1h lingerie", who="alice")
    await talk("oui", who="alice")
    export = await privacy.export_person(talk.core.store, person, talk.core.dispatcher.personal_data)
    assert export["features"]["trocshop"]["balance"] == "1 h"
    await privacy.forget_person(talk.core.store, person, talk.core.dispatcher.personal_data, talk.clock.now())
    row = await talk.core.store.fetchone(
        "SELECT COUNT(*) FROM troc_postings p JOIN troc_accounts a ON a.id = p.account_id WHERE a.person_id = ?",
        (person,),
    )
    assert row is not None and row[0] == 2
    await check(talk)


SAMPLE = {
    "amount": "10 h 45",
    "after": "10 h 45",
    "balance": "-10 h 45",
    "who": "Christophe (GV-ACE2)",
    "entry": 123456,
    "date": "25/11",
    "what": "la Ressourcerie Créative",
    "category": "correction",
    "notes": "3 x 15 min, 3 x 30 min, 3 x 60 min",
    "reason": "erreur de saisie sur le mauvais compte",
    "name": "la Ressourcerie Créative",
    "n15": 999,
    "n30": 999,
    "n60": 999,
    "total": "999 h 45",
    "count": 9999,
    "account": 1,
}


def test_every_answer_fits_an_sms() -> None:
    """Every Trocshop text, in every language, is GSM-7 and at most 306 septets with long values."""
    i18n = I18n()
    keys = {k for k in i18n.all_keys() if k.startswith("trocshop.")}
    assert keys == {k for k in i18n.catalogs["en"] if k.startswith("trocshop.")}
    for language in i18n.languages:
        for key in keys:
            text = i18n.t(language, key, **SAMPLE)
            assert is_gsm(text), (language, key)
            assert septets(text) <= 306, (language, key)
