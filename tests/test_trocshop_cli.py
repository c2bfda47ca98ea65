"""``voisins troc ...`` run as staff run it: a real process on a database, proving the books."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from bot import people
from bot.store import Store
from tests.commands import bot_env, voisins
from tests.conftest import opened_store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def _roster(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "run.db") as store:
        await people.add_person(store, NOW, "Karim", {"resident"}, phone="+33639980002", member_code="GV-K7P2")


async def _sql(tmp_path: Path, *statements: str) -> None:
    async with opened_store(tmp_path / "run.db") as store:
        for statement in statements:
            await store.execute(statement)


async def test_credit_balance_export_and_check(tmp_path: Path) -> None:
    """Staff credit from the command line; the balance, the CSV journal and the check agree."""
    await _roster(tmp_path)
    credited = await voisins(tmp_path, "troc", "credit", "GV-K7P2", "1h30", "--reason", "atelier jardin")
    assert credited.code == 0, credited.err
    assert "1 h 30" in credited.out
    by_phone = await voisins(tmp_path, "troc", "balance", "06 39 98 00 02")
    assert by_phone.code == 0 and "1 h 30" in by_phone.out
    everyone = await voisins(tmp_path, "troc", "balance")
    assert "GV-K7P2: 1 h 30" in everyone.out and "émission" in everyone.out
    exported = await voisins(tmp_path, "troc", "export", str(tmp_path / "journal.csv"))
    assert exported.code == 0, exported.err
    with (tmp_path / "journal.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert sorted(int(r["minutes"]) for r in rows) == [-90, 90]
    assert {r["memo"] for r in rows} == {"atelier jardin"}
    checked = await voisins(tmp_path, "troc", "check")
    assert checked.code == 0 and checked.out.strip() == "Les comptes sont justes : 1 écriture vérifiée."


async def test_same_key_credits_once(tmp_path: Path) -> None:
    """A retried command with the same --key writes nothing the second time."""
    await _roster(tmp_path)
    args = ("troc", "credit", "GV-K7P2", "30", "--reason", "x", "--key", "session-12")
    assert (await voisins(tmp_path, *args)).code == 0
    again = await voisins(tmp_path, *args)
    assert again.code == 0 and "déjà enregistrée" in again.out
    assert "GV-K7P2: 30 min" in (await voisins(tmp_path, "troc", "balance", "GV-K7P2")).out


async def test_refusals_exit_non_zero(tmp_path: Path) -> None:
    """An unknown member, a zero or a non-amount is refused with a non-zero exit."""
    await _roster(tmp_path)
    assert (await voisins(tmp_path, "troc", "credit", "GV-HHHH", "30", "--reason", "x")).code == 1
    assert (await voisins(tmp_path, "troc", "credit", "GV-K7P2", "0", "--reason", "x")).code == 1
    assert (await voisins(tmp_path, "troc", "credit", "GV-K7P2", "beaucoup", "--reason", "x")).code == 2


async def test_check_names_the_broken_entry(tmp_path: Path) -> None:
    """A balance edited behind the journal, or a posting changed, makes the check fail and name it."""
    await _roster(tmp_path)
    assert (await voisins(tmp_path, "troc", "credit", "GV-K7P2", "1h", "--reason", "x")).code == 0
    await _sql(tmp_path, "UPDATE troc_accounts SET balance = 600 WHERE kind = 'person'")
    broken = await voisins(tmp_path, "troc", "check")
    assert broken.code == 1
    assert broken.err.splitlines() == ["compte 2 (personne) : solde 600 min, mais ses mouvements font 60 min"]
    await _sql(
        tmp_path,
        "UPDATE troc_accounts SET balance = 60 WHERE kind = 'person'",
        "DROP TRIGGER troc_postings_no_update",
        "UPDATE troc_postings SET minutes = -59 WHERE minutes = -60",
    )
    unbalanced = await voisins(tmp_path, "troc", "check")
    assert unbalanced.code == 1
    assert "écriture 1 : ses mouvements font 1 min au total, sur 2 mouvements" in unbalanced.err.splitlines()


async def test_check_speaks_english_when_the_site_does(tmp_path: Path) -> None:
    """With DEFAULT_LANGUAGE=en the verdict and the problems are English, with the right plural."""
    await _roster(tmp_path)
    english = bot_env(tmp_path, DEFAULT_LANGUAGE="en")
    right = await voisins(tmp_path, "troc", "check", env=english)
    assert right.code == 0 and right.out.strip() == "The books are right: 0 entries checked."
    assert (await voisins(tmp_path, "troc", "credit", "GV-K7P2", "1h", "--reason", "x", env=english)).code == 0
    assert (
        await voisins(tmp_path, "troc", "check", env=english)
    ).out.strip() == "The books are right: 1 entry checked."
    await _sql(tmp_path, "UPDATE troc_accounts SET balance = 600 WHERE kind = 'person'")
    broken = await voisins(tmp_path, "troc", "check", env=english)
    assert broken.err.splitlines() == ["account 2 (person): balance 600 min but postings sum to 60 min"]


async def test_staff_set_a_floor(tmp_path: Path) -> None:
    """Staff may let a balance go below zero; a floor above the current balance is refused."""
    await _roster(tmp_path)
    lowered = await voisins(tmp_path, "troc", "floor", "GV-K7P2", "--", "-60")
    assert lowered.code == 0, lowered.err
    assert "-60 min" in lowered.out
    store = Store(tmp_path / "run.db")
    await store.open()
    try:
        row = await store.fetchone(
            "SELECT a.floor FROM troc_accounts a JOIN persons p ON p.id = a.person_id WHERE p.member_code = 'GV-K7P2'"
        )
    finally:
        await store.close()
    assert row is not None and row[0] == -60
    assert (await voisins(tmp_path, "troc", "floor", "GV-K7P2", "60")).code == 1
    assert (await voisins(tmp_path, "troc", "check")).code == 0


async def test_amounts_are_read_as_in_the_chat(tmp_path: Path) -> None:
    """The command line reads "1,5h" as the chat does; a negative (any minus sign) or more than the cap is
    refused with the chat's own words, and a floor too big for the database is refused without a traceback."""
    await _roster(tmp_path)
    credited = await voisins(tmp_path, "troc", "credit", "GV-K7P2", "1,5h", "--reason", "x")
    assert credited.code == 0, credited.err
    assert "Crédit de 1 h 30" in credited.out
    too_much = await voisins(tmp_path, "troc", "credit", "GV-K7P2", "999h", "--reason", "x")
    assert too_much.code == 1 and "au plus 24 h en une seule opération" in too_much.err, too_much.err
    negative = await voisins(tmp_path, "troc", "credit", "GV-K7P2", "\u221230", "--reason", "x")
    assert negative.code == 1 and "Montant négatif refusé" in negative.err, negative.err
    floor = await voisins(tmp_path, "troc", "floor", "GV-K7P2", "--", "-99999999999999999999999")
    assert floor.code == 2 and "Traceback" not in floor.err and "1440" in floor.err
    assert "GV-K7P2: 1 h 30" in (await voisins(tmp_path, "troc", "balance", "GV-K7P2")).out
