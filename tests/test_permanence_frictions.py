"""Staff frictions of the volunteer meeting calendar: a new reference no longer leaves a day with two
meetings or a move from a date that is gone; volunteers are told when dates move, once per change, in
their language, in one SMS; the command line asks before a change (showing who will be told) and reads
French dates; counts agree and dates inside sentences are written out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import people
from bot.clock import FakeClock, SystemClock
from bot.core import Core
from bot.messages import Channel
from bot.sms_text import GSM_SINGLE, is_gsm, septets
from bot.store import Store
from handlers.volunteers import calendar, signups, staff, texts
from handlers.volunteers.calendar import Meeting
from handlers.volunteers.cli import permanence_app
from tests.conftest import PARIS, ConsoleTalk, Talk, make_settings, talking
from tests.fakes.wiring import run, wired
from tests.helpers import register_here
from tests.test_volunteers_cli import Ran, cli_db, next_wednesday, on_store  # noqa: F401  (cli_db: a fixture)

# Demo data (START: Wednesday 25 November 2026, 10:00): the meetings count from Wednesday 2 December;
# Lucie (+33639980004, French, SMS) gets the reminders.
LUCIE = "+33639980004"
SAM_CHAT = "7100001"


async def change(core: Core, op: str, day: str, **kwargs: object) -> tuple[Meeting | None, int]:
    """A staff change as chat and command line make it: checked, then applied with its notices."""
    made = staff.make(op, date.fromisoformat(day), **kwargs)  # type: ignore[arg-type]
    async with core.store.transaction() as db:
        await staff.check(db, PARIS, core.clock.now(), made)
        return await staff.apply(db, PARIS, core.clock.now(), core.i18n, made, None)


async def preview(core: Core, op: str, day: str) -> str:
    made = staff.make(op, date.fromisoformat(day))
    async with core.store.transaction() as db:
        await staff.check(db, PARIS, core.clock.now(), made)
        effects = await staff.effects(db, PARIS, core.clock.now(), made)
    return staff.preview(core.i18n, "fr", PARIS, made, effects.told, effects.dropped)


async def sam(core: Core) -> int:
    """A volunteer who signed up from Telegram, in English."""
    now = core.clock.now()
    async with core.store.transaction() as db:
        person_id = await people.register(db, now, "Sam", {"resident"}, "en")
        await people.attach_identity(db, now, person_id, Channel.TELEGRAM, SAM_CHAT)
        await signups.save(db, now, person_id, name="Sam", activities=("music",), availability="weekends", consent=True)
    return person_id


async def outbox(core: Core, cause_like: str) -> list[dict[str, object]]:
    found = await core.store.fetchall(
        "SELECT cause, address, body, status, error FROM outbox WHERE cause LIKE ? ORDER BY id", (cause_like,)
    )
    return [dict(row) for row in found]


# --- A new reference ------------------------------------------------------------------------------


async def test_a_new_reference_drops_the_changes_its_rhythm_makes_pointless(core: Core) -> None:
    """From the 9 December rhythm, 23 December moved to the 30th, 6 January cancelled, an extra meeting
    on the 16th and one on Saturday 19th; back to the 2 December rhythm: the preview names the three
    changes that go, and the list has each day once, with no "moved" line left."""
    await change(core, "reference", "2026-12-09")
    await change(core, "move", "2026-12-23", new_day=date(2026, 12, 30))
    await change(core, "cancel", "2027-01-06", reason="vacances")
    await change(core, "add", "2026-12-16", reason="fete")
    await change(core, "add", "2026-12-19", reason="portes ouvertes")
    asked = await preview(core, "reference", "2026-12-02")
    assert "à partir du mercredi 2 décembre 2026" in asked, asked
    assert "le déplacement du mercredi 23 décembre au mercredi 30 décembre" in asked, asked
    assert "l'annulation du mercredi 6 janvier" in asked and "la permanence en plus du mercredi 16 décembre" in asked
    assert "1 bénévole sera prévenu des nouvelles dates." in asked, asked
    await change(core, "reference", "2026-12-02")
    found = await calendar.coming(core.store, PARIS, core.clock.now(), 6)
    assert [m.day.isoformat() for m in found] == [
        "2026-12-02", "2026-12-16", "2026-12-19", "2026-12-30", "2027-01-13", "2027-01-27",
    ]  # fmt: skip
    assert all(m.live for m in found) and found[2].extra
    lines = [texts.staff_line(core.i18n, "fr", m) for m in found]
    assert not [line for line in lines if "déplacée" in line or "DEPLACEE" in line], lines
    assert await core.store.fetchall("SELECT * FROM meeting_cancellations") == []
    assert [r["day"] for r in await core.store.fetchall("SELECT day FROM meeting_extras")] == ["2026-12-19"]


async def test_volunteers_are_told_new_dates_once_in_their_language(core: Core) -> None:
    """Lucie by SMS in French, Sam on Telegram in English: the three next dates, one GSM-7 segment;
    the same reference again tells nobody."""
    await sam(core)
    assert (await change(core, "reference", "2026-12-09"))[1] == 2
    told = await outbox(core, "permanence:dates:%")
    assert [row["address"] for row in told] == [LUCIE, SAM_CHAT]
    french, english = (str(row["body"]) for row in told)
    assert french == (
        "Permanences bénévoles, nouvelles dates : mercredi 9 décembre, mercredi 23 décembre, mercredi 6 janvier."
        " STOP RAPPELS : ne plus recevoir ces messages."
    )
    assert english.startswith("Volunteer meetings, new dates: Wednesday 9 December, Wednesday 23 December")
    assert is_gsm(french) and septets(french) <= GSM_SINGLE
    assert (await change(core, "reference", "2026-12-09"))[1] == 0
    assert len(await outbox(core, "permanence:dates:%")) == 2


async def test_an_unsent_notice_of_dates_changed_again_is_not_sent(core: Core, clock: FakeClock) -> None:
    """Two references in a row before the outbox sends: Lucie gets the second dates only."""
    async with wired(core) as (twilio, _):
        await change(core, "reference", "2026-12-09")
        clock.advance(minutes=1)
        await change(core, "reference", "2026-12-16")
        await run(core)
    sent = [m["Body"] for m in twilio.sent_to(LUCIE)]
    assert len(sent) == 1 and "mercredi 16 décembre, mercredi 30 décembre" in sent[0], sent
    first = (await outbox(core, "permanence:dates:%"))[0]
    assert (first["status"], first["error"]) == ("skipped", "dates changed again")


async def test_each_change_of_a_meeting_is_told(core: Core, clock: FakeClock) -> None:
    """16 December cancelled, its cancellation dropped by a new rhythm, the old rhythm back, cancelled
    again: the second cancellation is news too (its own cause), and each goes to Lucie once."""
    await change(core, "cancel", "2026-12-16", reason="travaux")
    for day in ("2026-12-09", "2026-12-02"):
        clock.advance(minutes=1)
        await change(core, "reference", day)
    clock.advance(minutes=1)
    assert (await change(core, "cancel", "2026-12-16", reason="toujours les travaux"))[1] == 1
    told = await outbox(core, "permanence:r2026-12-16:notice:%")
    assert [row["address"] for row in told] == [LUCIE, LUCIE]
    assert "toujours les travaux" in str(told[1]["body"])


# --- The command line ----------------------------------------------------------------------------


@pytest.fixture
def lucie_db(cli_db: Path) -> Path:  # noqa: F811  (the fixture imported above)
    """``voisins permanence`` on a fresh database where Lucie gets the reminders."""

    async def seed(store: Store) -> None:
        now = SystemClock().now()
        person = await people.add_person(store, now, "Lucie", {"volunteer"}, phone=LUCIE, language="fr")
        async with store.transaction() as db:
            await signups.save(db, now, person, name="Lucie", activities=("bar",), availability="soir", consent=True)

    on_store(cli_db, seed)
    return cli_db


def count(path: Path, table: str) -> int:
    async def read(store: Store) -> int:
        row = await store.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert row is not None
        return int(row[0])

    return on_store(path, read)


def permanence(*args: str, answer: str | None = None) -> Ran:
    """``voisins permanence ...`` in this process; ``answer`` is typed at its question (none: no input)."""
    result = CliRunner().invoke(permanence_app, list(args), input=answer)
    return Ran(result.exit_code, result.stdout, result.stderr)


def french(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def test_the_command_line_asks_before_it_changes_the_calendar(lucie_db: Path) -> None:
    """Cancel and move show what they do and who is told, then ask: no, or no answer, changes nothing;
    oui (or o) does it; --yes does not ask. Dates are typed 02/12/2026 too."""
    first = next_wednesday()
    assert permanence("reference", french(first), "--yes").code == 0
    ran = permanence("cancel", first.isoformat(), "--reason", "travaux", answer="n\n")
    assert ran.code == 1 and "Rien n'a été modifié" in ran.err, (ran.out, ran.err)
    assert "Annuler la permanence du" in ran.out and "1 bénévole sera prévenu." in ran.out, ran.out
    assert count(lucie_db, "meeting_cancellations") == 0 and count(lucie_db, "outbox") == 0
    ran = permanence("cancel", french(first), "--reason", "travaux", answer="oui\n")
    assert ran.code == 0 and "1 bénévole prévenu." in ran.out and "bénévoles" not in ran.out, ran.out
    second = first + timedelta(weeks=2)
    ran = permanence("move", french(second), french(second + timedelta(days=1)))
    assert ran.code == 1 and count(lucie_db, "meeting_extras") == 0, ran.err  # no one to answer: not done
    ran = permanence("move", french(second), french(second + timedelta(days=1)), "--yes")
    assert ran.code == 0 and "déplacée au" in ran.out, ran.err
    thursday = first + timedelta(days=1)
    ran = permanence("cancel", french(thursday), "--reason", "x")
    expected = f"pas de permanence le {texts.full_day_text(thursday, 'fr')}"
    assert ran.code == 1 and expected in ran.err, ran.err


def test_a_new_reference_on_the_command_line_says_what_goes_and_who_is_told(lucie_db: Path) -> None:
    """A rhythm a week later: the question names the changes it drops and the volunteers told the new
    dates; after yes the old rhythm's cancellation and move are gone and Lucie's notice is queued."""
    first = next_wednesday()
    assert permanence("reference", first.isoformat(), "--yes").code == 0
    assert permanence("cancel", first.isoformat(), "--reason", "travaux", "--yes").code == 0
    second = first + timedelta(weeks=2)
    assert permanence("move", second.isoformat(), (second + timedelta(days=1)).isoformat(), "--yes").code == 0
    ran = permanence("reference", (first + timedelta(weeks=1)).isoformat(), answer="o\n")
    assert ran.code == 0, ran.err
    assert "Ne tiendront plus" in ran.out and "l'annulation du" in ran.out and "le déplacement du" in ran.out
    assert "1 bénévole sera prévenu des nouvelles dates." in ran.out and "1 bénévole prévenu." in ran.out
    assert count(lucie_db, "meeting_cancellations") == 0 and count(lucie_db, "meeting_extras") == 0
    listed = permanence("list", "--count", "3")
    assert listed.out.startswith(f"Référence : {texts.full_day_text(first + timedelta(weeks=1), 'fr')}")


# --- In chat ---------------------------------------------------------------------------------------


@pytest.fixture
async def talk(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Talk]:
    async with talking(ConsoleTalk(make_settings(tmp_path), clock)) as driver:
        yield driver


async def test_chat_shows_and_tells_a_new_reference(talk: Talk) -> None:
    """/permanence_reference 9/12 says the volunteers will be told the new dates; OUI queues Lucie's
    notice; a refusal writes its date out."""
    await register_here(talk, "staff", {"staff"}, "Coordinatrice")
    asked = await talk("/permanence_reference 9/12", who="staff")
    assert asked.has("mercredi 9 decembre 2026", "1 benevole sera prevenu des nouvelles dates"), asked.text
    done = await talk.confirm(asked, who="staff")
    assert done.has("C'est fait", "1 benevole prevenu"), done.text
    assert [row["address"] for row in await outbox(talk.core, "permanence:dates:%")] == [LUCIE]
    refused = await talk("/permanence_annuler 10/12 travaux", who="staff")
    assert refused.has("pas de permanence le jeudi 10 decembre 2026"), refused.text
