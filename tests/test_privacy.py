"""Data rights over every channel: MES DONNEES shows what is kept, OUBLIER erases it for good.

"For good" is checked on the database files' bytes, not only on the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot import outbox, people
from bot.core import Core
from bot.dispatch import Dispatcher, PersonalData, Router
from bot.messages import Channel, Inbound
from bot.people import privacy
from tests.conftest import Said, Talk

NAME = "Zélie Quartermaine"
CODE = "GV-WX7H"
BODY = "Rendez-vous CAF mardi 9h, dossier 4471-XKCD"
# Identities on the channels the talk is not using (the phone is in the range kept for fiction).
OTHER_PHONE = "+33639955501"
OTHER_TELEGRAM = "777000123456"


@dataclass
class Registered:
    id: int
    name: str
    code: str
    phone: str
    telegram_id: str
    address: str


async def register(
    talk: Talk,
    who: str,
    name: str = NAME,
    code: str = CODE,
    roles: frozenset[str] = frozenset({"resident"}),
    phone: str = OTHER_PHONE,
    telegram_id: str = OTHER_TELEGRAM,
) -> Registered:
    """A registered person whose identity on the talk's channel is ``talk.address(who)``."""
    address = talk.address(who)
    if talk.channel in ("sms", "whatsapp"):  # a WhatsApp number is the person's phone
        phone = address
    elif talk.channel == "telegram":
        telegram_id = address
    store, now = talk.core.store, talk.core.clock.now()
    person_id = await people.add_person(
        store, now, name, roles, phone=phone, telegram_id=telegram_id, language="fr", member_code=code
    )
    if talk.channel == "console":
        async with store.transaction() as db:
            await people.attach_identity(db, now, person_id, Channel.CONSOLE, address)
    return Registered(person_id, name, code, phone, telegram_id, address)


async def register_elsewhere(talk: Talk, name: str, code: str, phone: str) -> Registered:
    """A registered person who is not talking: only an SMS identity."""
    person_id = await people.add_person(
        talk.core.store, talk.core.clock.now(), name, {"resident"}, phone=phone, member_code=code
    )
    return Registered(person_id, name, code, phone, "", phone)


async def queue_message(talk: Talk, person: Registered, body: str = BODY) -> None:
    """A message waiting in the outbox for the person, as a reminder would be."""
    async with talk.core.store.transaction() as db:
        await outbox.enqueue(
            db,
            talk.core.clock.now(),
            cause="test-reminder:1",
            channel=Channel.SMS,
            address=person.phone,
            text=body,
            person_id=person.id,
        )


async def person_row(talk: Talk, person_id: int) -> dict[str, Any]:
    row = await talk.core.store.fetchone(
        "SELECT name, member_code, language, status FROM persons WHERE id = ?", (person_id,)
    )
    assert row is not None
    return dict(row)


async def count(talk: Talk, sql: str, *params: object) -> int:
    row = await talk.core.store.fetchone(sql, params)
    assert row is not None
    return int(row[0])


async def still_registered(talk: Talk, person: Registered) -> bool:
    row = await person_row(talk, person.id)
    identities = await count(talk, "SELECT COUNT(*) FROM identities WHERE person_id = ?", person.id)
    return row["name"] == person.name and row["status"] == "active" and identities > 0


def database_files(talk: Talk) -> dict[str, bytes]:
    """The bytes of the database and its WAL and shared-memory files, as they are on disk now."""
    path = Path(talk.settings.database_path)
    files = {}
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            files[candidate.name] = candidate.read_bytes()
    assert path.name in files
    return files


async def say_yes(talk: Talk, prompt: Said, who: str = "alice") -> Said:
    """The question's yes as its owner gives it: the OUI button, or by SMS OUI and the code it shows."""
    return await talk.confirm(prompt, who=who) if prompt.code else await talk.choose(1, who=who)


def leftovers(files: dict[str, bytes], secrets: list[str]) -> list[tuple[str, str]]:
    found = []
    for name, content in files.items():
        for secret in secrets:
            if secret.encode("utf-8") in content:
                found.append((name, secret))
    return found


# --- MES DONNEES ---------------------------------------------------------------------------------


async def test_mydata_shows_what_is_kept(talk: Talk) -> None:
    """/mydata shows the person's name, member code, phone number, Telegram id and message count."""
    alice = await register(talk, "alice")
    await queue_message(talk, alice)
    said = await talk("/mydata")
    assert said.has("Ce que le bot garde sur vous", NAME, CODE, alice.phone, alice.telegram_id), said.text
    assert said.has("Messages envoyés par le bot : 1"), said.text
    assert BODY not in said.text  # counted, not repeated


async def test_mes_donnees_in_words_and_in_english(talk: Talk) -> None:
    """ "mes données" works typed in French, and "my data" answers in English for an English speaker."""
    alice = await register(talk, "alice")
    assert (await talk("Mes données")).has(NAME, alice.phone)
    await people.set_language(talk.core.store, alice.id, "en")
    assert (await talk("my data")).has("What the bot keeps about you", NAME, "English")


async def test_a_guest_sees_their_own_small_data(talk: Talk) -> None:
    """An unknown sender gets their number or id and the fact that nothing else is kept."""
    said = await talk("/mydata", who="nobody")
    assert said.has("Pas inscrit", talk.address("nobody")), said.text


# --- OUBLIER -------------------------------------------------------------------------------------


async def test_forget_asks_first_and_no_changes_nothing(talk: Talk) -> None:
    """OUBLIER lists what would go and says it is final; NON (button or word) erases nothing."""
    alice = await register(talk, "alice")
    said = await talk("oublier")
    assert said.has("Effacer pour toujours", NAME, CODE, alice.phone, "définitif", "OUI", "NON"), said.text
    assert not said.has("SUITE"), "the question and its choices fit in one SMS"
    assert (await (talk("NON") if said.code else talk.choose(2))).has("rien n'a été effacé")  # SMS: no buttons
    assert await still_registered(talk, alice)
    await talk("forget")
    assert (await talk("non")).has("rien n'a été effacé")
    assert await still_registered(talk, alice)


async def test_any_other_message_cancels_the_question(talk: Talk) -> None:
    """A message that is not an answer cancels: a later OUI erases nothing."""
    alice = await register(talk, "alice")
    await talk("oublier")
    await talk("aide")
    await talk("oui")
    assert await still_registered(talk, alice)


async def test_forget_yes_erases_for_good(talk: Talk) -> None:
    """OUI erases identities, roles, conversation and messages; an anonymous row stays; the files keep no byte."""
    alice = await register(talk, "alice")
    await queue_message(talk, alice)
    await talk("/mydata")  # over SMS its pages wait in the conversation row
    said = await say_yes(talk, await talk("oublier"))
    assert said.has("vos données sont effacées"), said.text

    assert await person_row(talk, alice.id) == {
        "name": None,
        "member_code": None,
        "language": None,
        "status": "forgotten",
    }
    for table in ("identities", "person_roles", "outbox"):
        assert await count(talk, f"SELECT COUNT(*) FROM {table} WHERE person_id = ?", alice.id) == 0, table
    assert await count(talk, "SELECT COUNT(*) FROM outbox WHERE address = ?", alice.phone) == 0
    step = await talk.core.store.fetchone(
        "SELECT step, data, pages FROM conversations WHERE person_id = ?", (alice.id,)
    )
    assert step is None or tuple(step) == (None, "{}", "[]")
    async with talk.core.store.transaction() as db:
        assert await people.find_person_id(db, phone=alice.phone) is None
        assert await people.find_person_id(db, telegram_id=alice.telegram_id) is None
        assert await people.find_person_id(db, member_code=CODE) is None

    secrets = [NAME, "Quartermaine", CODE, alice.phone, alice.telegram_id, alice.address, BODY, "4471-XKCD"]
    assert leftovers(database_files(talk), secrets) == []
    await talk.restart()  # closing checkpoints the WAL into the file: still nothing
    assert leftovers(database_files(talk), secrets) == []

    await talk("bonjour")
    row = await talk.core.store.fetchone("SELECT person_id FROM identities WHERE address = ?", (alice.address,))
    assert row is not None and row[0] != alice.id
    assert (await person_row(talk, row[0]))["status"] == "guest"


async def test_typed_oui_confirms(talk: Talk) -> None:
    """Typing OUI (or YES) instead of pressing the button erases too."""
    alice = await register(talk, "alice")
    said = await talk("supprimer mes données")
    assert (await talk.confirm(said, word="Oui")).has("vos données sont effacées")
    assert (await person_row(talk, alice.id))["status"] == "forgotten"
    karim = await register(talk, "karim", name="Karim Exemple", code="GV-KAR7", phone="+33639955502", telegram_id="9")
    said = await talk("/forget", who="karim")
    assert (await talk.confirm(said, who="karim", word="YES")).has("vos données sont effacées")
    assert (await person_row(talk, karim.id))["status"] == "forgotten"


async def test_a_guest_can_be_forgotten(talk: Talk) -> None:
    """An unknown sender can erase their number and conversation too."""
    await talk("bonjour", who="nobody")
    said = await talk("oublier", who="nobody")
    assert (await say_yes(talk, said, "nobody")).has("vos données sont effacées")
    assert await count(talk, "SELECT COUNT(*) FROM identities WHERE address = ?", talk.address("nobody")) == 0


async def test_late_confirmation_is_refused(talk: Talk) -> None:
    """A yes that comes more than ten minutes after the question erases nothing."""
    alice = await register(talk, "alice")
    said = await talk("oublier")
    talk.clock.advance(minutes=11)
    assert (await say_yes(talk, said)).has("Cette demande a expiré")
    assert await still_registered(talk, alice)
    said = await talk("oublier")
    talk.clock.advance(minutes=11)
    assert (await talk.confirm(said)).has("Cette demande a expiré")
    assert await still_registered(talk, alice)


# --- Staff, for a person who asks ----------------------------------------------------------------

STAFF_CODE = "GV-TEAM"
TARGET_CODE = "GV-YAN7"
TARGET_PHONE = "+33639955577"


async def test_staff_forget_for_someone(talk: Talk) -> None:
    """/oublier GV-XXXX shows the person's name, asks, and on OUI erases that person."""
    await register(talk, "staff", name="Bérénice Équipe", code=STAFF_CODE, roles=frozenset({"staff"}))
    target = await register_elsewhere(talk, "Yannick Cible", TARGET_CODE, TARGET_PHONE)
    said = await talk(f"/oublier {TARGET_CODE}", who="staff")
    assert said.has("Yannick Cible", TARGET_CODE, TARGET_PHONE, "définitif"), said.text
    assert (await say_yes(talk, said, "staff")).has("les données de Yannick Cible", "sont effacées")
    assert (await person_row(talk, target.id))["status"] == "forgotten"
    assert await count(talk, "SELECT COUNT(*) FROM identities WHERE address = ?", TARGET_PHONE) == 0


async def test_staff_data_for_someone(talk: Talk) -> None:
    """/donnees GV-XXXX shows a staff member what is kept about that person."""
    await register(talk, "staff", name="Bérénice Équipe", code=STAFF_CODE, roles=frozenset({"staff"}))
    await register_elsewhere(talk, "Yannick Cible", TARGET_CODE, TARGET_PHONE)
    said = await talk(f"/data {TARGET_CODE.lower()}", who="staff")
    assert said.has("Ce que le bot garde sur Yannick Cible", TARGET_PHONE), said.text


@pytest.mark.parametrize("command", ["/forget", "/oublier", "/donnees"])
async def test_staff_commands_are_refused_to_others(talk: Talk, command: str) -> None:
    """A resident or a guest naming someone's code gets the staff-only refusal, and nothing changes."""
    await register(talk, "alice")
    target = await register_elsewhere(talk, "Yannick Cible", TARGET_CODE, TARGET_PHONE)
    for who in ("alice", "nobody"):
        said = await talk(f"{command} {TARGET_CODE}", who=who)
        assert said.has(talk.core.i18n.t("fr", "core.not_allowed")), said.text
        assert not said.has("Yannick")
        await talk("oui", who=who)
    assert await still_registered(talk, target)


async def test_staff_cannot_erase_staff_nor_themselves(talk: Talk) -> None:
    """The staff path refuses one's own code (use OUBLIER) and another staff member's account."""
    me = await register(talk, "staff", name="Bérénice Équipe", code=STAFF_CODE, roles=frozenset({"staff"}))
    assert (await talk(f"/forget {STAFF_CODE}", who="staff")).has("Pour vos propres données")
    assert (await talk("/forget GV-EKP3", who="staff")).has("fait partie de l'équipe")  # the demo admin
    assert (await talk("/oublier GV-2222", who="staff")).has("Personne d'inscrit")
    assert (await talk("/oublier pas-un-code", who="staff")).has("code membre")
    await talk("oui", who="staff")
    assert await still_registered(talk, me)
    async with talk.core.store.transaction() as db:
        assert await people.find_person_id(db, member_code="GV-EKP3") is not None


# --- A forged SMS From: the number is not proof, the code in the question is -----------------------


@pytest.mark.parametrize("asker", ["self", "staff"])
async def test_a_forged_sms_yes_erases_nobody(talk: Talk, asker: str) -> None:
    """By SMS, OUBLIER or /oublier GV-XXXX then a bare OUI, "1" or a wrong code erase nobody; three drop it."""
    if talk.channel != "sms":
        pytest.skip("the code is asked by SMS only")
    alice = await register(talk, "alice")
    if asker == "staff":
        staff = frozenset({"staff"})
        await register(talk, "staff", name="Bérénice Équipe", code=STAFF_CODE, roles=staff, telegram_id="777000123499")
        target = await register_elsewhere(talk, "Yannick Cible", TARGET_CODE, TARGET_PHONE)
        who, prompt = "staff", await talk(f"/oublier {TARGET_CODE}", who="staff")
    else:
        target, who, prompt = alice, "alice", await talk("oublier")
    assert prompt.code is not None and prompt.has(f"répondez OUI {prompt.code}"), prompt.text
    assert not prompt.has("1 OUI"), "no numbered choice a forger could send"
    for forged in ("OUI", "1"):
        said = await talk(forged, who=who)
        assert said.has("Il faut le code", "Rien n'est fait sans lui"), said.text
        assert await still_registered(talk, target)
    wrong = "0000" if prompt.code != "0000" else "1111"
    said = await talk(f"oui {wrong}", who=who)
    assert said.has("Code faux 3 fois", "rien n'a été fait"), said.text
    await talk(f"OUI {prompt.code}", who=who)  # the question is gone: even the right code erases nothing now
    assert await still_registered(talk, target) and await still_registered(talk, alice)


async def test_elsewhere_a_plain_oui_erases_for_staff(talk: Talk) -> None:
    """On Telegram and in the terminal /oublier GV-XXXX shows OUI / NON buttons, and a typed OUI erases."""
    if talk.channel == "sms":
        pytest.skip("Telegram and the terminal only")
    await register(talk, "staff", name="Bérénice Équipe", code=STAFF_CODE, roles=frozenset({"staff"}))
    target = await register_elsewhere(talk, "Yannick Cible", TARGET_CODE, TARGET_PHONE)
    said = await talk(f"/oublier {TARGET_CODE}", who="staff")
    assert said.code is None and said.has("1 OUI", "2 NON"), said.text
    assert (await talk("oui", who="staff")).has("les données de Yannick Cible", "sont effacées")
    assert (await person_row(talk, target.id))["status"] == "forgotten"


# --- Features' own data --------------------------------------------------------------------------


class Notes:
    """A small feature keeping notes about people, with its exporter and eraser."""

    def __init__(self) -> None:
        self.erased: list[tuple[int, bool, int]] = []
        self.router = Router("notes")
        self.router.personal_data(self.export, self.erase)

    async def export(self, db: aiosqlite.Connection, person_id: int) -> dict[str, Any]:
        return {"notes": ["a", "b", "c"], "since": "2026"}

    async def erase(self, db: aiosqlite.Connection, person_id: int) -> None:
        async with db.execute("SELECT COUNT(*) FROM identities WHERE person_id = ?", (person_id,)) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        self.erased.append((person_id, db.in_transaction, row[0]))


def dispatcher_with(core: Core, router: Router) -> Dispatcher:
    return Dispatcher(
        core.store, core.clock, core.settings, core.i18n, [*core.routers, router], text_order=core.dispatcher.text_order
    )


async def test_a_features_exporter_and_eraser_are_used(core: Core) -> None:
    """A feature's exporter shows in /mydata; its eraser runs inside the erasing transaction, before identities go."""
    notes = Notes()
    dispatcher = dispatcher_with(core, notes.router)
    assert any(share.feature == "notes" for share in dispatcher.personal_data)

    async def say(text: str) -> str:
        replies = await dispatcher.handle(Inbound(Channel.CONSOLE, "terminal-notes", text))
        return "\n".join(reply.text for reply in replies)

    assert "notes : notes 3, since 2026" in await say("/mydata")
    assert "notes" in await say("oublier")
    await say("oui")
    assert len(notes.erased) == 1
    person_id, in_transaction, identities = notes.erased[0]
    assert in_transaction and identities == 1
    row = await core.store.fetchone("SELECT status FROM persons WHERE id = ?", (person_id,))
    assert row is not None and row[0] == "forgotten"


async def test_a_failing_eraser_erases_nothing(core: Core) -> None:
    """When one feature cannot erase, the whole forget is rolled back: no half-forgotten person."""

    async def broken(db: aiosqlite.Connection, person_id: int) -> None:
        await db.execute("DELETE FROM identities WHERE person_id = ?", (person_id,))
        raise RuntimeError("disk on fire")

    person_id = await people.add_person(core.store, core.clock.now(), NAME, {"resident"}, phone=OTHER_PHONE)
    with pytest.raises(RuntimeError):
        await privacy.forget_person(core.store, person_id, [PersonalData("broken", None, broken)], core.clock.now())
    async with core.store.transaction() as db:
        assert await people.find_person_id(db, phone=OTHER_PHONE) == person_id


async def test_export_as_data(core: Core) -> None:
    """The export is plain data: the core tables, bodies included, and each feature's share."""
    person_id = await people.add_person(
        core.store, core.clock.now(), NAME, {"resident", "worker"}, phone=OTHER_PHONE, member_code=CODE
    )
    async with core.store.transaction() as db:
        await outbox.enqueue(
            db, core.clock.now(), cause="c:1", channel=Channel.SMS, address=OTHER_PHONE, text=BODY, person_id=None
        )
    export = await privacy.export_person(core.store, person_id, Notes().router.personal)
    assert export["person"]["name"] == NAME and export["person"]["roles"] == ["resident", "worker"]
    assert [i["address"] for i in export["identities"]] == [OTHER_PHONE]
    assert [m["body"] for m in export["messages"]] == [BODY]  # found by address, though it has no person id
    assert export["features"] == {"notes": {"notes": ["a", "b", "c"], "since": "2026"}}


# --- Logs ----------------------------------------------------------------------------------------

OUR_CODE = ("bot", "handlers")


async def converse_with_data_rights(talk: Talk) -> list[str]:
    """A whole conversation with /mydata and /forget; returns what must never be logged."""
    alice = await register(talk, "alice")
    await queue_message(talk, alice)
    await talk("je cherche une douche chaude")
    await talk("/mydata")
    await say_yes(talk, await talk("oublier"))
    await talk("bonjour encore")
    return [NAME, "Quartermaine", CODE, alice.phone, alice.telegram_id, alice.address, BODY, "douche chaude"]


def leaked(records: list[logging.LogRecord], secrets: list[str]) -> list[tuple[str, str]]:
    return sorted({(secret, r.name) for r in records for secret in secrets if secret in r.getMessage()})


async def test_logs_carry_nothing_personal(talk: Talk, caplog: pytest.LogCaptureFixture) -> None:
    """The bot's own log lines, even at DEBUG, name no phone number, name, id or message text."""
    caplog.set_level(logging.DEBUG)
    secrets = await converse_with_data_rights(talk)
    ours = [r for r in caplog.records if r.name.split(".")[0] in OUR_CODE]
    assert any(r.name == "handlers.account.data_rights" for r in ours)  # the erasure itself is logged, by id
    assert leaked(ours, secrets) == []


@pytest.fixture
def production_logging(talk: Talk) -> Iterator[None]:
    """The logging ``voisins run`` sets up at LOG_LEVEL=DEBUG; loggers' levels are put back afterwards."""
    from bot.cli import _logging

    before = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    _logging(talk.settings.model_copy(update={"log_level": "DEBUG"}), quiet=False)
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


async def test_production_logging_carries_nothing_personal(
    talk: Talk, production_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    """With the bot's own logging set-up at DEBUG, no library logs a phone number, name or message either."""
    caplog.set_level(logging.DEBUG)  # the root level basicConfig(level=DEBUG) would set
    secrets = await converse_with_data_rights(talk)
    assert leaked(caplog.records, secrets) == []


# --- What names the person in other people's rows -----------------------------------------------

KARIM_PHONE = "+33639980002"  # demo data: Karim GV-K7P2, who gets paid below
AWA_PHONE = "+33639980001"  # demo data: Awa GV-EKP3, staff, told of every new volunteer
AVAILABILITY = "le jeudi soir après le CAF"
MEMO = f"atelier couture animé avec {NAME}"


async def confirmed(talk: Talk, prompt: Said, who: str) -> Said:
    """Answer a prompt as its owner would, also when the SMS code comes only with the first answer."""
    said = await talk.confirm(prompt, who=who)
    return await talk.confirm(said, who=who) if said.code else said


async def test_forget_reaches_the_rows_that_name_the_person(talk: Talk) -> None:
    """After a sign-up, a payment and a staff credit whose memo names them, OUBLIER leaves their name in no row:
    staff's and the payee's notices and the memo read neutral; the entry and its amounts stay."""
    alice = await register(talk, "alice")
    await register(
        talk,
        "staff",
        name="Bérénice Équipe",
        code=STAFF_CODE,
        roles=frozenset({"staff"}),
        phone="+33639955511",
        telegram_id="777000123499",
    )
    for text in ("inscription", NAME, "1 5", AVAILABILITY, "oui"):
        await talk(text, who="alice")
    preview = await talk(f"/crediter {CODE} 1h activite {MEMO}", who="staff")
    assert (await confirmed(talk, preview, "staff")).has("Credit enregistre"), "the credit was not written"
    preview = await talk("payer 30 min GV-K7P2", who="alice")
    assert (await confirmed(talk, preview, "alice")).has("30 min"), "the payment was not written"
    told_staff = await talk.core.store.fetchall(
        "SELECT id, body FROM outbox WHERE cause LIKE 'volunteer-signup:%' AND address = ?", (AWA_PHONE,)
    )
    told_payee = await talk.core.store.fetchall(
        "SELECT id, body FROM outbox WHERE cause LIKE 'troc:%' AND address = ?", (KARIM_PHONE,)
    )
    assert len(told_staff) == 1 and "Quartermaine" in told_staff[0]["body"]
    assert len(told_payee) == 1 and CODE in told_payee[0]["body"]
    entry = await talk.core.store.fetchone("SELECT id FROM troc_entries WHERE memo = ?", (MEMO,))
    assert entry is not None
    postings = await talk.core.store.fetchall("SELECT account_id, minutes FROM troc_postings ORDER BY id")

    prompt = await talk("oublier", who="alice")
    assert (await confirmed(talk, prompt, "alice")).has("vos données sont effacées")

    neutral = talk.core.i18n.t("fr", privacy.ERASED)
    for row in (*told_staff, *told_payee):
        kept = await talk.core.store.fetchone("SELECT body, status FROM outbox WHERE id = ?", (row["id"],))
        assert kept is not None, "the recipient's row stays (their history, the unique key)"
        assert kept["body"] == neutral
        assert kept["status"] == "cancelled"  # nothing was sent yet here: it never goes with a neutral text
    memo = await talk.core.store.fetchone("SELECT memo, memo_erased_at FROM troc_entries WHERE id = ?", (entry[0],))
    assert memo is not None and memo["memo"] == neutral and memo["memo_erased_at"] is not None
    assert [
        tuple(r) for r in await talk.core.store.fetchall("SELECT account_id, minutes FROM troc_postings ORDER BY id")
    ] == [tuple(r) for r in postings]
    secrets = [NAME, "Quartermaine", CODE, alice.phone, alice.telegram_id, alice.address, AVAILABILITY, "couture"]
    assert leftovers(database_files(talk), secrets) == []


async def test_a_sent_notice_keeps_its_status_and_loses_its_text(core: Core) -> None:
    """A notice about the person already delivered stays delivered (the recipient's history) with a neutral body."""
    now = core.clock.now()
    person_id = await people.add_person(core.store, now, NAME, {"resident"}, phone=OTHER_PHONE, member_code=CODE)
    async with core.store.transaction() as db:
        await outbox.enqueue(
            db, now, cause="notice:1", channel=Channel.SMS, address=TARGET_PHONE, text=f"{NAME} arrive", about=person_id
        )
        await outbox.enqueue(
            db, now, cause="notice:2", channel=Channel.SMS, address=TARGET_PHONE, text=f"Rendez-vous de {CODE.lower()}"
        )
        await outbox.enqueue(db, now, cause="notice:3", channel=Channel.SMS, address=TARGET_PHONE, text="Zélie vient")
        await db.execute("UPDATE outbox SET status = 'delivered', provider_id = 'SM1' WHERE cause = 'notice:1'")
    done = await privacy.forget_person(core.store, person_id, core.dispatcher.personal_data, now, core.i18n)
    assert done.neutralised == 2
    rows = {r["cause"]: dict(r) for r in await core.store.fetchall("SELECT cause, body, status FROM outbox")}
    neutral = core.i18n.t("fr", privacy.ERASED)
    assert rows["notice:1"] == {"cause": "notice:1", "body": neutral, "status": "delivered"}
    assert rows["notice:2"] == {"cause": "notice:2", "body": neutral, "status": "cancelled"}  # named by code
    assert rows["notice:3"]["body"] == "Zélie vient"  # a first name alone is someone else's as often as hers
