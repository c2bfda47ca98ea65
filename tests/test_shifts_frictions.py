"""Staff frictions of the shifts, on the command line and in chat: French dates (and what a French Excel
saves), a misspelt activity or place refused with the close names instead of made, contract hours only
for a worker, plurals that agree and dates inside sentences written the French way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import people
from bot.clock import FakeClock
from bot.i18n import shipped
from bot.store import Store
from handlers.shifts import model
from handlers.shifts.cli import shifts_app
from handlers.shifts.model import ShiftError
from tests.conftest import ConsoleTalk, Talk, make_settings, talking
from tests.helpers import register_here
from tests.test_volunteers_cli import Ran, cli_db, on_store  # noqa: F401  (cli_db: a fixture)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HEADER = "date;start;end;activity;place;capacity;member_code\r\n"


@pytest.fixture
def shifts_db(cli_db: Path) -> Path:  # noqa: F811  (the fixture imported above)
    """``voisins shifts`` on a database with Karim (worker, 3 h a week), Sam (resident), the activities
    Service cantine and Cuisine, the place Lingerie."""

    async def seed(store: Store) -> None:
        karim = await people.add_person(store, NOW, "Karim Benali", {"worker"}, member_code="GV-K7P2")
        await people.add_person(store, NOW, "Sam Taylor", {"resident"}, member_code="GV-TAY3")
        async with store.transaction() as db:
            await model.set_contract(db, NOW, karim, 180, date(2026, 11, 30))
            for name in ("Service cantine", "Cuisine"):
                await model.ensure_activity(db, NOW, name)
            await model.ensure_place(db, NOW, "Lingerie")

    on_store(cli_db, seed)
    return cli_db


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    async def read(store: Store) -> list[tuple[object, ...]]:
        return [tuple(row) for row in await store.fetchall(sql)]

    return on_store(path, read)


def shifts(*args: str) -> Ran:
    """``voisins shifts ...`` in this process."""
    result = CliRunner().invoke(shifts_app, list(args))
    return Ran(result.exit_code, result.stdout, result.stderr)


def rejected(err: str) -> dict[int, str]:
    return {int(line.split()[1]): line for line in err.splitlines() if line.startswith("Ligne ")}


# --- French dates -----------------------------------------------------------------------------------


def test_import_reads_french_dates_as_excel_saves_them(shifts_db: Path, tmp_path: Path) -> None:
    """09/12/2026, a date cell with its midnight, 11/12/26 and times with seconds import; a date without
    its day is refused with the formats that work; the cap's refusal says its week the French way."""
    lines = [
        "09/12/2026;11:30;14:30;Service cantine;Lingerie;2;GV-K7P2",  # 2
        "10/12/2026 00:00:00;09:00:00;12:00:00;Cuisine;Lingerie;1;",  # 3: date and time cells
        "11/12/26;09:00;10:00;Cuisine;Lingerie;1;",  # 4
        "12/2026;09:00;10:00;Cuisine;Lingerie;1;",  # 5: no day
        "10/12/2026;15:00;16:00;Cuisine;Lingerie;1;GV-K7P2",  # 6: over Karim's 3 h
    ]
    (tmp_path / "plan.csv").write_bytes((HEADER + "\r\n".join(lines) + "\r\n").encode("cp1252"))
    ran = shifts("import", str(tmp_path / "plan.csv"))
    assert ran.code == 1 and "3 créneaux créés, 1 personne inscrite, 0 ligne déjà enregistrée." in ran.out, (
        ran.out,
        ran.err,
    )
    refused = rejected(ran.err)
    assert sorted(refused) == [5, 6], ran.err
    assert "Date non comprise : 12/2026" in refused[5] and "JJ/MM/AAAA" in refused[5]
    assert "semaine du 7 décembre 2026" in refused[6] and "2026-12-07" not in refused[6]
    days = rows(shifts_db, "SELECT local_date, start_local, end_local FROM shifts ORDER BY id")
    assert days == [
        ("2026-12-09", "11:30", "14:30"),
        ("2026-12-10", "09:00", "12:00"),
        ("2026-12-11", "09:00", "10:00"),
    ]


def test_every_shift_command_reads_french_dates(shifts_db: Path) -> None:
    """Contract, create, change, roster by day and by week, generate: 30/11/2026 works where 2026-11-30 does."""
    ran = shifts("contract", "GV-K7P2", "4", "--from", "14/12/2026")
    assert ran.code == 0 and "  à partir du 14 décembre 2026 : 4 h" in ran.out, ran.err
    ran = shifts("create", "09/12/2026", "11:30", "14:30", "Service cantine", "Lingerie")
    assert ran.code == 0 and "Créé : #1 mer. 9 déc. 11:30-14:30, Service cantine, Lingerie" in ran.out, ran.err
    ran = shifts("change", "1", "--date", "10/12/2026")
    assert ran.code == 0 and "Modifié : #1 jeu. 10 déc. 11:30-14:30" in ran.out, ran.err
    ran = shifts("roster", "--day", "10/12/2026")
    assert ran.code == 0 and "Service cantine" in ran.out, ran.err
    ran = shifts("roster", "--week", "09/12/2026")
    assert ran.code == 0 and "Créneaux du 7 décembre 2026 au 13 décembre 2026 (2026-W50)" in ran.out, ran.err
    ran = shifts("template", "add", "lun-jeu", "09:00", "10:00", "Cuisine", "Lingerie")
    assert ran.code == 0, ran.err
    ran = shifts("generate", "--week", "16/12/2026")
    assert ran.code == 0 and "2026-W51 : 4 créneaux créés, 0 existait déjà." in ran.out, ran.err
    ran = shifts("roster", "--day", "2/12")
    assert ran.code == 1 and "JJ/MM/AAAA" in ran.err  # the year is needed on the command line


# --- Unknown activities and places ------------------------------------------------------------------


def test_a_misspelt_name_is_refused_with_the_close_ones(shifts_db: Path, tmp_path: Path) -> None:
    """ "Cusine" and "Lingeri" reject their rows with "did you mean", an unknown far from every name
    lists them; nothing is made, and --new makes what the file names."""
    lines = [
        "09/12/2026;09:00;10:00;Cusine;Lingerie;1;",  # 2
        "09/12/2026;10:00;11:00;Service cantine;Lingeri;1;",  # 3
        "09/12/2026;11:00;12:00;Piscine;Lingerie;1;",  # 4
        "09/12/2026;12:00;13:00;Cuisine;Lingerie;1;",  # 5: fine
    ]
    (tmp_path / "plan.csv").write_text(HEADER + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    ran = shifts("import", str(tmp_path / "plan.csv"))
    refused = rejected(ran.err)
    assert ran.code == 1 and sorted(refused) == [2, 3, 4], ran.err
    assert "Activité inconnue : « Cusine ». Vouliez-vous dire : Cuisine ?" in refused[2]
    assert "--new" in refused[2]
    assert "Lieu inconnu : « Lingeri ». Vouliez-vous dire : Lingerie ?" in refused[3]
    assert "Activités : Cuisine, Service cantine." in refused[4]
    assert rows(shifts_db, "SELECT COUNT(*) FROM shift_activities") == [(2,)]
    assert rows(shifts_db, "SELECT COUNT(*) FROM shift_places") == [(1,)]
    ran = shifts("import", str(tmp_path / "plan.csv"), "--new")
    assert ran.code == 0 and "Nouvelle activité ou nouveau lieu : Cusine" in ran.out and "Lingeri" in ran.out, ran.err
    assert rows(shifts_db, "SELECT COUNT(*) FROM shift_activities") == [(4,)]


def test_create_change_and_templates_refuse_a_slip_unless_new(shifts_db: Path) -> None:
    """The same rule for one shift, a move to another place and a weekly pattern; --new says it is new."""
    ran = shifts("create", "09/12/2026", "09:00", "10:00", "cusine", "Lingerie")
    assert ran.code == 1 and "« cusine ». Vouliez-vous dire : Cuisine ?" in ran.err, ran.err
    ran = shifts("template", "add", "lun", "09:00", "10:00", "Cuisine", "Lingeri")
    assert ran.code == 1 and "Vouliez-vous dire : Lingerie ?" in ran.err, ran.err
    assert rows(shifts_db, "SELECT COUNT(*) FROM shifts") == [(0,)]
    ran = shifts("create", "09/12/2026", "09:00", "10:00", "Cuisine", "lingerie")  # case and accents aside
    assert ran.code == 0, ran.err
    ran = shifts("change", "1", "--place", "Jardins")
    assert ran.code == 1 and "Lieu inconnu : « Jardins ». Lieux : Lingerie." in ran.err, ran.err
    ran = shifts("change", "1", "--place", "Jardins", "--new")
    assert ran.code == 0 and "Jardins" in ran.out, ran.err
    assert "--new" in shifts("create", "--help").out


# --- Contracts --------------------------------------------------------------------------------------


def test_contract_hours_only_for_a_worker(shifts_db: Path) -> None:
    """A resident gets no contract hours: the answer names the worker role and how to give it."""
    ran = shifts("contract", "GV-TAY3", "8", "--from", "30/11/2026")
    assert ran.code == 1, ran.out
    assert "rôle salarié (worker)" in ran.err and "/roles GV-TAY3" in ran.err, ran.err
    assert rows(shifts_db, "SELECT COUNT(*) FROM shift_contracts") == [(1,)]  # Karim's only
    assert shifts("contract", "GV-K7P2", "8", "--from", "30/11/2026").code == 0


# --- Texts ------------------------------------------------------------------------------------------


def test_counts_agree_in_each_language() -> None:
    """One place, 0 personne (French), 0 workers (English); a date inside a sentence is written out."""
    i18n = shipped()
    assert model.counted(i18n, "fr", "shifts.staff.seats", 1) == "1 place"
    assert model.counted(i18n, "fr", "shifts.staff.told", 0) == "0 personne prévenue"
    assert model.counted(i18n, "fr", "shifts.staff.told", 3) == "3 personnes prévenues"
    assert model.counted(i18n, "en", "shifts.staff.told", 0) == "0 workers told"
    assert model.counted(i18n, "en", "shifts.staff.to_create", 1) == "1 shift to create"
    full = ShiftError("shifts.error.full", id=4, count=1)
    assert full.text(i18n, "fr") == "Le créneau n°4 est complet (1 place)."
    cap = ShiftError("shifts.error.over_cap", week=date(2026, 11, 30), planned="15 h", shift="3 h")
    assert "semaine du 30 novembre 2026" in cap.text(i18n, "fr")
    assert "week of November 30, 2026" in cap.text(i18n, "en")


@pytest.fixture
async def talk(tmp_path: Path) -> AsyncIterator[Talk]:
    """The demo's bot in the terminal (its activities: Service cantine...; its places: Lingerie...)."""
    clock = FakeClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    async with talking(ConsoleTalk(make_settings(tmp_path), clock)) as driver:
        yield driver


async def test_chat_refuses_a_slip_and_agrees_its_counts(talk: Talk) -> None:
    """In chat a slip gets the close name and how to add a new one; one seat is "1 place"; a week is
    "semaine du 7 décembre 2026"; a cancel with nobody on the shift says "0 personne prévenue"."""
    await register_here(talk, "chef", {"staff"}, "Chef Equipe", "GV-CHEF")
    before = await talk.core.store.fetchall("SELECT COUNT(*) FROM shift_activities")
    said = await talk("/creneau 9/12 09:00 12:00 servise cantine lingerie", who="chef")
    assert said.has("Activité inconnue", "servise cantine", "Vouliez-vous dire : Service cantine", "/activite NOM")
    said = await talk("/creneau 9/12 09:00 12:00 cantine lingeri", who="chef")
    assert said.has("Lieu inconnu", "lingeri", "Vouliez-vous dire : Lingerie", "/site NOM"), said.text
    assert await talk.core.store.fetchall("SELECT COUNT(*) FROM shift_activities") == before
    said = await talk("/creneau 9/12 09:00 12:00 cantine lingerie 1", who="chef")
    assert said.has("créé", "1 place") and "1 places" not in said.text, said.text
    row = await talk.core.store.fetchone("SELECT MAX(id) FROM shifts")
    assert row is not None
    said = await talk(f"/annuler_creneau {row[0]} pluie", who="chef")
    assert said.has("0 personne prévenue"), said.text
    said = await talk("/tableau semaine 9/12", who="chef")
    assert said.has("semaine du 7 décembre 2026"), said.text
