"""``voisins permanence ...`` and ``voisins volunteers ...`` as staff run them, on a database with the real
clock (dates are chosen from today): clear refusals with exit code 1, notices queued, a formula-safe CSV.

The command groups run in-process (typer's runner) for speed; one test runs the real ``voisins``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from babel.dates import format_date
from typer.testing import CliRunner

from bot import people
from bot.clock import SystemClock
from bot.store import Store
from handlers.volunteers import signups
from handlers.volunteers.cli import permanence_app, volunteers_app
from tests.commands import voisins as voisins_process
from tests.conftest import opened_store

T = TypeVar("T")


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line on a fresh database in tmp_path; no .env read, no bot setting from the machine."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("TELEGRAM_", "TWILIO_", "SMS_", "PUBLIC_", "DATABASE_", "DEMO_", "MEETING_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "run.db"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "run.db"


def voisins(*args: str) -> Ran:
    """``voisins permanence ...`` or ``voisins volunteers ...``, in this process."""
    app = permanence_app if args[0] == "permanence" else volunteers_app
    result = CliRunner().invoke(app, list(args[1:]))
    return Ran(result.exit_code, result.stdout, result.stderr)


def on_store(path: Path, work: Callable[[Store], Awaitable[T]]) -> T:
    async def go() -> T:
        async with opened_store(path) as store:
            return await work(store)

    return asyncio.run(go())


def next_wednesday(weeks: int = 1) -> date:
    """A Wednesday at least ``weeks`` weeks from today: never in the past, whatever day the tests run."""
    day = date.today() + timedelta(weeks=weeks)
    return day + timedelta(days=(2 - day.weekday()) % 7)


def test_reference_list_cancel_move_add(cli_db: Path) -> None:
    """Staff set the rhythm, then cancel, move and add dates; the list shows each change."""
    first = next_wednesday()
    ran = voisins("permanence", "reference", first.isoformat(), "--yes")
    assert ran.code == 0, ran.err
    ran = voisins("permanence", "cancel", first.isoformat(), "--reason", "travaux", "--yes")
    assert ran.code == 0 and "annulée : travaux" in ran.out, ran.err
    second = first + timedelta(weeks=2)
    ran = voisins(
        "permanence", "move", second.isoformat(), (second + timedelta(days=1)).isoformat(), "--hours",
        "19:00-20:30", "--yes",
    )  # fmt: skip
    assert ran.code == 0 and "déplacée au jeudi" in ran.out and "19h00-20h30" in ran.out, ran.err
    extra = first + timedelta(days=3)
    ran = voisins("permanence", "add", extra.isoformat(), "--reason", "portes ouvertes")
    assert ran.code == 0 and "permanence ajoutée" in ran.out, ran.err
    listed = voisins("permanence", "list", "--count", "4")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0].startswith(f"Référence : {format_date(first, 'EEEE d MMMM y', locale='fr')}")
    assert f"{first.isoformat()} 18h30-20h00 ANNULEE : travaux" in lines
    assert f"{extra.isoformat()} 18h30-20h00 (permanence en plus : portes ouvertes)" in lines
    assert any(line.startswith(f"{second.isoformat()} 18h30-20h00 DEPLACEE au") for line in lines)
    assert any(line.startswith(f"{(first + timedelta(weeks=4)).isoformat()} 18h30-20h00") for line in lines)


def test_bad_dates_exit_1_and_change_nothing(cli_db: Path) -> None:
    """Unparsable, not a Wednesday, not a meeting date, in the past, no reason: a message, exit 1, nothing written."""
    first = next_wednesday()
    assert (voisins("permanence", "reference", first.isoformat(), "--yes")).code == 0
    yesterday = date.today() - timedelta(days=1)
    refused = [
        (("permanence", "reference", "2026-13-01"), "n'est pas une date"),
        (("permanence", "reference", "2/12"), "n'est pas une date"),
        (("permanence", "reference", (first + timedelta(days=1)).isoformat()), "n'est pas un mercredi"),
        (("permanence", "cancel", (first + timedelta(days=1)).isoformat(), "--reason", "x"), "pas de permanence"),
        (("permanence", "cancel", first.isoformat(), "--reason", " "), "Donnez une raison"),
        (("permanence", "move", first.isoformat(), yesterday.isoformat()), "est passé"),
        (("permanence", "add", yesterday.isoformat()), "est passé"),
        (("permanence", "add", first.isoformat()), "déjà une permanence"),
        (("permanence", "add", (first + timedelta(days=1)).isoformat(), "--hours", "20:00-19:00"), "heures"),
    ]
    for args, message in refused:
        ran = voisins(*args)
        assert ran.code == 1 and message in ran.err, (args, ran.code, ran.err)

    async def unchanged(store: Store) -> None:
        assert await store.fetchall("SELECT * FROM meeting_cancellations") == []
        assert await store.fetchall("SELECT * FROM meeting_extras") == []
        row = await store.fetchone("SELECT day FROM meeting_reference")
        assert row is not None and row[0] == first.isoformat()

    on_store(cli_db, unchanged)


def test_cancel_queues_notices_for_the_running_bot(cli_db: Path) -> None:
    """A cancel from the command line queues the notice the running bot will send."""
    first = next_wednesday()

    async def seed(store: Store) -> None:
        now = SystemClock().now()
        person = await people.add_person(store, now, "Lucie", {"volunteer"}, phone="+33639980004", language="fr")
        async with store.transaction() as db:
            await signups.save(db, now, person, name="Lucie", activities=("bar",), availability="soir", consent=True)

    on_store(cli_db, seed)
    assert voisins("permanence", "reference", first.isoformat(), "--yes").code == 0
    ran = voisins("permanence", "cancel", first.isoformat(), "--reason", "travaux", "--yes")
    assert ran.code == 0 and "1 bénévole prévenu." in ran.out

    async def queued(store: Store) -> None:
        rows = await store.fetchall("SELECT address, status, body FROM outbox")
        assert [(r["address"], r["status"]) for r in rows] == [("+33639980004", "pending")]
        assert "annulée : travaux" in rows[0]["body"]

    on_store(cli_db, queued)


def test_export_is_formula_safe_and_never_overwrites_unasked(cli_db: Path, tmp_path: Path) -> None:
    """The CSV opens in a French Excel (BOM, ';'), a name typed as a formula stays text, phones only with consent."""

    async def seed(store: Store) -> None:
        now = SystemClock().now()
        lucie = await people.add_person(store, now, "Lucie", {"volunteer"}, phone="+33639980004")
        guest = await people.add_person(store, now, "X", {"resident"}, phone="+33639980005")
        async with store.transaction() as db:
            await signups.save(
                db, now, lucie, name="Lucie Martin", activities=("gardening", "french"), availability="samedi",
                consent=True,
            )  # fmt: skip
            await signups.save(
                db, now, guest, name='=HYPERLINK("http://x","clic")', activities=("bar",), availability="@soir",
                consent=False,
            )  # fmt: skip

    on_store(cli_db, seed)
    target = tmp_path / "benevoles.csv"
    ran = voisins("volunteers", "export", str(target))
    assert ran.code == 0 and "benevoles.csv : 2." in ran.out, ran.err
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "signed_up_at;name;member_code;activities;availability;contact_ok;reminders;phone;telegram_id"
    assert ";Lucie Martin;" in lines[1] and "Jardinage, Cours de français" in lines[1] and "06 39 98 00 04" in lines[1]
    assert "'=HYPERLINK" in lines[2] and ";'@soir;" in lines[2] and "06 39 98 00 05" not in text
    target.write_text("keep me")
    again = voisins("volunteers", "export", str(target))
    assert again.code == 1 and target.read_text() == "keep me"
    forced = voisins("volunteers", "export", str(target), "--overwrite")
    assert forced.code == 0 and target.read_bytes() == data
    listed = voisins("volunteers", "list")
    assert listed.code == 0 and "Lucie Martin" in listed.out and "2 inscriptions" in listed.out


async def test_the_real_command_has_both_groups(tmp_path: Path) -> None:
    """``voisins permanence`` and ``voisins volunteers`` are registered on the real command (one process run)."""
    ran = await voisins_process(tmp_path, "permanence", "reference", "2026-12-03")
    assert ran.code == 1 and "n'est pas un mercredi" in ran.err
    ran = await voisins_process(tmp_path, "volunteers", "--help")
    assert ran.code == 0 and "export" in ran.out


def test_next_wednesday_is_a_future_wednesday() -> None:
    """The helper the command-line tests rely on."""
    day = next_wednesday()
    assert day.weekday() == 2 and day > date.today()
