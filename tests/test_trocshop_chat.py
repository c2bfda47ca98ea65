"""The Trocshop in chat over every channel: balance, history, paying with confirmation, staff operations."""

from __future__ import annotations

import json

import pytest

from bot import people
from bot.clock import iso
from bot.i18n import I18n
from bot.people import privacy
from bot.sms_text import is_gsm, over_a_page, segments, septets
from tests import helpers
from tests.conftest import Talk

# Demo data (bot/demo.py and the Trocshop's seeder): Karim GV-K7P2 (+33639980002) has 2 h,
# Sam GV-TAY3 1 h 30, Lucie GV-MRT4 1 h; la Lingerie, la Ressourcerie Créative, la boutique du Trocshop.
ALICE = "GV-ACE2"


async def register_here(
    talk: Talk, who: str, roles: set[str], name: str, code: str | None = None, minutes: int = 0, language: str = "fr"
) -> int:
    """A registered person on the talk's own channel, credited ``minutes`` by the team."""
    from handlers.trocshop import ledger

    person_id = await helpers.register_here(talk, who, roles, name, code, language)
    if minutes:
        async with talk.core.store.transaction() as db:
            now = talk.core.clock.now()
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
    """The preview says what goes to the code typed; only OUI writes and names the payee; both sides are told."""
    await alice(talk)
    before = await entries(talk)
    preview = await talk("envoyer 30 min a GV-K7P2", who="alice")
    assert preview.has("30 min", "GV-K7P2", "OUI") and not preview.has("Karim")
    assert (preview.code is None) == (talk.channel != "sms")  # buttons and a plain OUI off SMS
    assert await entries(talk) == before
    done = await talk.confirm(preview, who="alice")
    assert done.has("envoye", "30 min a Karim (GV-K7P2)", "1 h 30")
    assert await entries(talk) == before + 1
    assert await balance_of(talk, "GV-K7P2") == 150 and await balance_of(talk, ALICE) == 90
    told = await talk.core.store.fetchall("SELECT channel, address, body FROM outbox WHERE cause LIKE 'troc:%'")
    assert len(told) == 1 and tuple(told[0])[:2] == ("sms", "+33639980002")
    assert "Alice" in told[0][2] and "30 min" in told[0][2] and "2 h 30" in told[0][2]
    await check(talk)


async def test_pay_by_button_or_number(talk: Talk) -> None:
    """The OUI button (a digit in the terminal) confirms just as typing OUI does; a phone number is the payee."""
    await alice(talk)
    preview = await talk("payer 1h au 06 39 98 00 03", who="alice")
    assert preview.has("1 h", "06 39 98 00 03") and not preview.has("Sam")
    # By SMS a digit proves nothing about who typed it: there, the code in the prompt confirms.
    done = await (talk.confirm(preview, who="alice") if talk.channel == "sms" else talk.choose(1, who="alice"))
    assert done.has("envoye", "Sam (GV-TAY3)")
    assert await balance_of(talk, "GV-TAY3") == 150


async def test_pay_a_place(talk: Talk) -> None:
    """A place is paid by its name, as people type it."""
    await alice(talk)
    preview = await talk("payer 1h lingerie", who="alice")
    assert preview.has("1 h", "la Lingerie")
    await talk.confirm(preview, who="alice")
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
    preview = await talk("envoyer 30 a GV-K7P2", who="alice")
    talk.clock.advance(minutes=11)
    assert (await talk.confirm(preview, who="alice")).has("Trop tard")
    assert await entries(talk) == before


async def test_oui_twice_pays_once(talk: Talk) -> None:
    """The same OUI twice (a repeated SMS, "OUI 4721" again, a double tap) pays once and says so."""
    await alice(talk)
    before = await entries(talk)
    preview = await talk("envoyer 30min a gv k7p2", who="alice")
    first = await (talk.confirm(preview, who="alice") if talk.channel == "sms" else talk.choose(1, who="alice"))
    assert first.has("envoye")
    again = await talk.confirm(preview, who="alice")
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
    first = await talk.press(f"trocshop.confirm.yes:{token}", who="alice")
    second = await talk.press(f"trocshop.confirm.yes:{token}", who="alice")
    assert first.has("envoye") and second.has("deja fait")
    assert await entries(talk) == before + 1


def sms_only(talk: Talk) -> None:
    if talk.channel != "sms":
        pytest.skip("only an SMS sender can be forged: Telegram and the terminal keep their buttons and OUI")


async def told_rows(talk: Talk) -> int:
    return len(await talk.core.store.fetchall("SELECT 1 FROM outbox WHERE cause LIKE 'troc:%'"))


async def test_a_forged_oui_by_sms_pays_nothing(talk: Talk) -> None:
    """From a resident's number, a bare OUI or "1" (all a forger can send) pays nothing; the prompt's code pays once."""
    sms_only(talk)
    await alice(talk)
    before = await entries(talk)
    preview = await talk("payer 1 h GV-K7P2", who="alice")
    assert preview.code is not None and preview.has(f"repondez OUI {preview.code}"), preview.text
    for forged in ("OUI", "1"):
        said = await talk(forged, who="alice")
        assert said.has("Il faut le code", f"OUI {preview.code}") and not said.has("envoye :"), (forged, said.text)
        assert await entries(talk) == before, forged
        assert await balance_of(talk, ALICE) == 120 and await balance_of(talk, "GV-K7P2") == 120, forged
    assert await told_rows(talk) == 0
    assert (await talk.confirm(preview, who="alice")).has("C'est envoye", "1 h a Karim (GV-K7P2)")
    again = await talk.confirm(preview, who="alice")  # the same "OUI 4721" once more: a repeated SMS
    assert again.has("deja fait"), again.text
    assert await entries(talk) == before + 1 and await told_rows(talk) == 1
    assert await balance_of(talk, ALICE) == 60 and await balance_of(talk, "GV-K7P2") == 180
    await check(talk)


async def test_three_wrong_codes_by_sms_drop_the_payment(talk: Talk) -> None:
    """Three wrong codes drop the payment: nothing is paid, not even when the right code comes after."""
    sms_only(talk)
    await alice(talk)
    before = await entries(talk)
    preview = await talk("payer 1 h GV-K7P2", who="alice")
    assert preview.code is not None
    wrong = f"{(int(preview.code) + 1) % 10_000:04d}"
    for _ in range(2):
        assert (await talk(f"OUI {wrong}", who="alice")).has("Il faut le code")
    assert (await talk(f"OUI {wrong}", who="alice")).has("Code faux 3 fois", "rien n'a ete fait")
    assert not (await talk.confirm(preview, who="alice")).has("envoye :")
    assert await entries(talk) == before and await told_rows(talk) == 0
    assert await balance_of(talk, ALICE) == 120 and await balance_of(talk, "GV-K7P2") == 120


@pytest.mark.parametrize(
    ("typed", "karim_after"),
    [("/crediter GV-K7P2 2h", 240), ("/retrait GV-K7P2 2x30", 60), ("/corriger KARIM erreur", 0)],
    ids=["credit", "withdraw", "reverse"],
)
async def test_a_forged_oui_by_sms_moves_no_time_for_staff(talk: Talk, typed: str, karim_after: int) -> None:
    """From a staff number, a bare OUI credits, withdraws or corrects nothing; the prompt's code does it once."""
    sms_only(talk)
    await register_here(talk, "staff", {"staff"}, "Awa")
    karim = await talk.core.store.fetchone("SELECT id FROM troc_entries WHERE idem_key = 'demo:GV-K7P2'")
    assert karim is not None
    before = await entries(talk)
    preview = await talk(typed.replace("KARIM", str(karim[0])), who="staff")
    assert preview.code is not None, preview.text
    assert (await talk("OUI", who="staff")).has("Il faut le code")
    assert await entries(talk) == before and await balance_of(talk, "GV-K7P2") == 120
    assert await told_rows(talk) == 0
    assert (await talk.confirm(preview, who="staff")).has("enregistre")
    assert (await talk.confirm(preview, who="staff")).has("deja fait")
    assert await entries(talk) == before + 1 and await balance_of(talk, "GV-K7P2") == karim_after
    assert await told_rows(talk) == 1
    await check(talk)


async def test_a_staff_member_who_lost_the_role_cannot_confirm(talk: Talk) -> None:
    """The role is checked again at OUI: removed since the preview, the credit is refused and nothing written."""
    staff = await register_here(talk, "staff", {"staff"}, "Awa")
    before = await entries(talk)
    preview = await talk("/crediter GV-K7P2 2h", who="staff")
    async with talk.core.store.transaction() as db:
        await people.set_roles(db, staff, {"resident"})
    assert (await talk.confirm(preview, who="staff")).has("reservee a l'equipe")
    assert await entries(talk) == before and await balance_of(talk, "GV-K7P2") == 120


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("envoyer 30 min a GV-ACE2", "propre compte"),
        ("envoyer 0 min a GV-K7P2", "depasser 0"),
        ("envoyer -30 a GV-K7P2", "Montant negatif refuse"),
        ("payer 1h au cafe inconnu", "Je ne trouve ni lieu ni personne"),
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


# Every minus sign and dash a phone keyboard or a copy-paste can produce.
DASHES = ["-", "\u2010", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\ufe63", "\uff0d"]


async def test_amounts_as_people_type_them(talk: Talk) -> None:
    """Decimal comma or point, hours and minutes together or apart, words: the preview says the right amount."""
    await alice(talk, 180)
    for typed in (
        "payer 1,5 h lingerie",
        "payer 1.5h lingerie",
        "payer 1h 30min lingerie",
        "payer 1 h 30 lingerie",
        "payer 90mn lingerie",
        "payer une heure et demie a la lingerie",
    ):
        said = await talk(typed, who="alice")
        assert said.has("Envoyer 1 h 30 a la Lingerie"), (typed, said.text)
        await talk("non", who="alice")
    assert (await talk("payer 2,5 h lingerie", who="alice")).has("Envoyer 2 h 30 a la Lingerie")
    await talk("non", who="alice")
    preview = await talk("payer 0,25 h lingerie", who="alice")
    assert (await talk.confirm(preview, who="alice")).has("envoye", "15 min")
    assert await place_balance(talk, "la Lingerie") == 15


async def test_the_amount_never_swallows_the_payee(talk: Talk) -> None:
    """ "payer 1,5h GV-K7P2" pays Karim 1 h 30; "1h30 06 39 98 00 03" pays Sam: the payee stays whole."""
    await alice(talk, 240)
    preview = await talk("payer 1,5h GV-K7P2", who="alice")
    assert preview.has("Envoyer 1 h 30 a GV-K7P2"), preview.text
    assert (await talk.confirm(preview, who="alice")).has("1 h 30 a Karim (GV-K7P2)")
    preview = await talk("payer 1h30 06 39 98 00 03", who="alice")
    assert preview.has("Envoyer 1 h 30 a 06 39 98 00 03"), preview.text
    assert (await talk.confirm(preview, who="alice")).has("1 h 30 a Sam (GV-TAY3)")
    assert await balance_of(talk, "GV-K7P2") == 210 and await balance_of(talk, "GV-TAY3") == 180
    await check(talk)


async def test_every_minus_and_dash_is_refused_as_a_negative(talk: Talk) -> None:
    """A minus sign or a dash of any kind before the amount is a negative: refused, never paid as positive."""
    await alice(talk)
    before = await entries(talk)
    for dash in DASHES:
        said = await talk(f"envoyer {dash}30min a GV-K7P2", who="alice")
        assert said.has("Montant negatif refuse", "Rien n'a ete fait"), (hex(ord(dash)), said.text)
        assert not said.has("OUI")
    assert (await talk("payer 1,5 min lingerie", who="alice")).has("minutes entieres seulement")
    await talk("oui", who="alice")
    assert await entries(talk) == before
    assert await balance_of(talk, ALICE) == 120


async def test_the_cap_is_applied_and_said_everywhere(talk: Talk) -> None:
    """Paying, crediting and notes are each capped per operation, and the refusal says the cap."""
    await register_here(talk, "staff", {"staff"}, "Awa")
    await alice(talk)
    before = await entries(talk)
    for who, typed in (
        ("alice", "envoyer 25h a GV-K7P2"),
        ("alice", "envoyer 99999999999999999999999 min a GV-K7P2"),
        ("staff", "/crediter GV-K7P2 999h"),
        ("staff", "/crediter GV-K7P2 99999999999999999999999 min activite"),
        ("staff", "/retrait GV-K7P2 999x60"),
        ("staff", "/depot GV-K7P2 99999999999999999999999x60"),
    ):
        said = await talk(typed, who=who)
        assert said.has("au plus 24 h en une seule operation", "Rien n'a ete fait"), (typed, said.text)
        assert not said.has("OUI")
        await talk("oui", who=who)
    assert await entries(talk) == before
    assert await balance_of(talk, "GV-K7P2") == 120
    assert (await talk("/crediter GV-K7P2 24h activite", who="staff")).has("Crediter 24 h a Karim")


async def test_numbers_too_long_are_answered_not_crashed(talk: Talk, caplog: pytest.LogCaptureFixture) -> None:
    """An entry number too long for the database, or made of exotic digits, gets a clear answer and no traceback."""
    await register_here(talk, "staff", {"staff"}, "Awa")
    before = await entries(talk)
    said = await talk("/corriger 99999999999999999999999 x", who="staff")
    assert said.has("Il n'y a pas d'operation op. 999999999999999"), said.text
    assert (await talk("/corriger \u00b2\u00b3 erreur", who="staff")).has("Ecrivez : /corriger NUMERO raison")
    assert not (await talk("/corriger 12345678901234 x", who="staff")).has("probleme de notre cote")
    await talk("oui", who="staff")
    assert await entries(talk) == before
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]


async def _preview_reads(talk: Talk, typed: str, payee: str) -> tuple[str, list[str]]:
    """The preview's text (payee typed and SMS code masked) and every person or identity read that names the payee."""
    statements: list[str] = []
    await talk.core.store.db.set_trace_callback(statements.append)
    try:
        said = await talk(typed, who="alice")
    finally:
        await talk.core.store.db.set_trace_callback(None)
    await talk("non", who="alice")
    reads = [s for s in statements if s.startswith("SELECT") and ("persons" in s or "identities" in s) and payee in s]
    text = said.text.replace(typed.rsplit(" a ", 1)[1], "PAYEE")
    return text.replace(said.code, "CODE") if said.code else text, reads  # by SMS each prompt has its code


async def test_the_preview_tells_nobody_who_is_registered(talk: Talk) -> None:
    """Known and unknown codes and numbers get the same preview, naming only what was typed, with no look-up."""
    await alice(talk)
    known_code = await _preview_reads(talk, "envoyer 30 min a GV-K7P2", "GV-K7P2")
    unknown_code = await _preview_reads(talk, "envoyer 30 min a GV-HHHH", "GV-HHHH")
    known_phone = await _preview_reads(talk, "envoyer 30 min a 06 39 98 00 03", "+33639980003")
    unknown_phone = await _preview_reads(talk, "envoyer 30 min a 06 39 98 77 77", "+33639987777")
    assert known_code == unknown_code == known_phone == unknown_phone, (known_code, unknown_code)
    assert "PAYEE" in known_code[0] and known_code[1] == []
    assert "Karim" not in known_code[0] and "Sam" not in known_phone[0]


async def test_an_unknown_payee_is_said_after_oui_and_nothing_is_paid(talk: Talk) -> None:
    """After OUI, a code or number nobody has is said so; nothing is written, nobody is told."""
    await alice(talk)
    before = await entries(talk)
    preview = await talk("envoyer 30 min a GV-HHHH", who="alice")
    assert preview.has("Envoyer 30 min a GV-HHHH")
    said = await talk.confirm(preview, who="alice")
    assert said.has("Personne n'est inscrit avec GV-HHHH", "rien n'a ete envoye")
    preview = await talk("envoyer 30 min au 06 39 98 77 77", who="alice")
    assert (await talk.confirm(preview, who="alice")).has("Personne n'est inscrit avec 06 39 98 77 77")
    assert (await talk("oui", who="alice")).has("rien a confirmer")
    assert await entries(talk) == before and await balance_of(talk, ALICE) == 120
    assert await talk.core.store.fetchall("SELECT 1 FROM outbox WHERE cause LIKE 'troc:%'") == []


async def test_unknown_payees_are_rationed(talk: Talk) -> None:
    """A few unknown payees an hour per payer, and a few more for everyone: then paying a code or number
    waits (even a known one, so the pause tells nothing), places still work, and an hour later it resumes."""
    from handlers.trocshop import MISSES_OVERALL, MISSES_PER_PERSON

    await alice(talk)
    codes = ["GV-HHHA", "GV-HHHC", "GV-HHHD", "GV-HHHE", "GV-HHHF", "GV-HHHG", "GV-HHHJ"]
    for code in codes[:MISSES_PER_PERSON]:
        preview = await talk(f"envoyer 1 min a {code}", who="alice")
        assert (await talk.confirm(preview, who="alice")).has("Personne n'est inscrit")
    for typed in ("envoyer 1 min a GV-K7P2", f"envoyer 1 min a {codes[-1]}", "envoyer 1 min au 06 39 98 00 03"):
        said = await talk(typed, who="alice")
        assert said.has("Trop de codes ou de numeros inconnus") and not said.has("OUI"), said.text
    assert (await talk("payer 1 min lingerie", who="alice")).has("OUI")
    await talk("non", who="alice")
    talk.clock.advance(hours=1, minutes=1)
    preview = await talk("envoyer 1 min a GV-K7P2", who="alice")
    assert (await talk.confirm(preview, who="alice")).has("Karim (GV-K7P2)")

    await register_here(talk, "bob", {"resident"}, "Bob", minutes=60)
    alice_id = await talk.core.store.fetchone("SELECT id FROM persons WHERE member_code = ?", (ALICE,))
    assert alice_id is not None
    for _ in range(MISSES_OVERALL):  # many payers' misses within the hour: everyone waits
        await talk.core.store.execute(
            "INSERT INTO troc_payee_misses (person_id, missed_at) VALUES (?, ?)", (alice_id[0], iso(talk.clock.now()))
        )
    assert (await talk("envoyer 1 min a GV-K7P2", who="bob")).has("Trop de codes ou de numeros inconnus")


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
    assert preview.has("Send 30 min to GV-K7P2", "YES")
    sent = await talk.confirm(preview, who="sam", word="yes")
    assert sent.has("Sent: 30 min to Karim (GV-K7P2)", "Your balance: 30 min")
    assert (await talk("balance", who="sam")).has("your balance is 30 min", "-30 min GV-K7P2")


async def test_offering_things_is_not_a_payment(talk: Talk) -> None:
    """ "donner 2 couvertures" is not read as paying 2 minutes."""
    await alice(talk)
    said = await talk("donner 2 couvertures", who="alice")
    assert not said.has("OUI") and not said.has("Je ne trouve ni lieu")


async def test_guest_cannot_pay(talk: Talk) -> None:
    """A guest trying to pay gets the how-to-register message and nothing is written."""
    await talk("bonjour", who="stranger")
    said = await talk("envoyer 30 min a GV-K7P2", who="stranger")
    assert said.has("il faut etre inscrit")


async def test_staff_credit_withdraw_deposit_and_reverse(talk: Talk) -> None:
    """Staff credit, hand out notes, take them back and undo an entry, each after OUI; the person is told."""
    await register_here(talk, "staff", {"staff"}, "Awa")
    preview = await talk("/crediter GV-K7P2 1h30 activite atelier jardin", who="staff")
    assert preview.has("1 h 30", "Karim")
    credited = await talk.confirm(preview, who="staff")
    assert credited.has("Credit enregistre")
    assert await balance_of(talk, "GV-K7P2") == 210
    preview = await talk("/retrait GV-K7P2 2x30 1x15", who="staff")
    assert (await talk.confirm(preview, who="staff")).has("Retrait enregistre", "1 h 15")
    preview = await talk("/depot GV-K7P2 1x30", who="staff")
    assert (await talk.confirm(preview, who="staff")).has("Remise de billets enregistree")
    assert (await talk("/billets", who="staff")).has("1 de 15 min", "1 de 30 min", "0 de 60 min", "45 min")
    assert await balance_of(talk, "GV-K7P2") == 165
    entry = await talk.core.store.fetchone("SELECT MAX(id) FROM troc_entries WHERE category = 'activity'")
    assert entry is not None
    preview = await talk(f"/corriger {entry[0]} erreur de saisie", who="staff")
    assert (await talk.confirm(preview, who="staff")).has("Correction enregistree")
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
    preview = await talk("payer 1h lingerie", who="alice")
    await talk.confirm(preview, who="alice")
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
    "value": 30,
    "out": 2,
    "minutes": 10,
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
    "max": "24 h",
}


def test_every_answer_fits_an_sms() -> None:
    """Every Trocshop text with long values is, in French and English, GSM-7 and at most 306 septets;
    in a script GSM-7 lacks (Arabic, Ge'ez), at most three UCS-2 segments, like every SMS page."""
    i18n = I18n()
    keys = {k for k in i18n.all_keys() if k.startswith("trocshop.") and ".voice." not in k}  # spoken: no SMS
    assert keys == {k for k in i18n.catalogs["en"] if k.startswith("trocshop.") and ".voice." not in k}
    for language in i18n.languages:
        for key in keys:
            text = i18n.t(language, key, **SAMPLE)
            if i18n.script(language) == "Latn":
                assert is_gsm(text), (language, key)
                assert septets(text) <= 306, (language, key)
            else:
                assert not over_a_page(text), (language, key, segments(text))
