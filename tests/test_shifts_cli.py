"""``voisins shifts ...`` run as staff run it: contracts, the CSV import, rosters, payroll hours."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot import people
from bot.store import Store
from handlers.shifts import model
from handlers.shifts.cli import import_shifts
from tests.commands import bot_env, voisins
from tests.conftest import make_settings, opened_store

NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
HEADER = "date,start,end,activity,place,capacity,member_code\n"


async def _people(tmp_path: Path) -> None:
    """Karim and Awa workers, Sam a resident, and a worker whose name would be a spreadsheet formula."""
    async with opened_store(tmp_path / "run.db") as store:
        await people.add_person(store, NOW, "Karim Benali", {"resident", "worker"}, member_code="GV-K7P2")
        await people.add_person(store, NOW, "Awa Diallo", {"worker"}, member_code="GV-EKP3")
        await people.add_person(store, NOW, "Sam Taylor", {"resident"}, member_code="GV-TAY3")
        await people.add_person(store, NOW, "=HYPERLINK(1)", {"worker"}, member_code="GV-HYP3")


async def contracts(tmp_path: Path, hours: dict[str, int], since: date) -> None:
    """Contract hours set directly, so each test runs the command it is about and no more."""
    async with opened_store(tmp_path / "run.db") as store, store.transaction() as db:
        for code, minutes in hours.items():
            person_id = await people.find_person_id(db, member_code=code)
            assert person_id is not None
            await model.set_contract(db, NOW, person_id, minutes, since)


async def shifts(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    ran = await voisins(tmp_path, "shifts", *args, env=env)
    return ran.code, ran.out, ran.err


async def test_contract_steps_are_kept_and_shown(tmp_path: Path) -> None:
    """8 h then 8h30 from a later date: both steps are kept and listed; over 16 h or no date is refused."""
    await _people(tmp_path)
    code, out, err = await shifts(tmp_path, "contract", "GV-K7P2", "8", "--from", "2026-11-02")
    assert code == 0, err
    code, out, err = await shifts(tmp_path, "contract", "gv-k7p2", "8h30", "--from", "2026-11-16")
    assert code == 0, err
    assert out.splitlines() == [
        "GV-K7P2 : heures de contrat par semaine",
        "  à partir du 2 novembre 2026 : 8 h",
        "  à partir du 16 novembre 2026 : 8 h 30",
    ]
    code, _, err = await shifts(tmp_path, "contract", "GV-K7P2", "17", "--from", "2026-12-01")
    assert code == 1 and "16 h" in err
    code, _, err = await shifts(tmp_path, "contract", "GV-K7P2", "8")
    assert code == 2 and "Donnez la date à partir de laquelle ces heures comptent : --from 09/12/2026" in err
    code, _, err = await shifts(tmp_path, "contract", "GV-ZZZZ", "8", "--from", "2026-12-01")
    assert code == 1 and "GV-ZZZZ" in err
    code, out, _ = await shifts(tmp_path, "contract", "GV-K7P2")
    assert code == 0 and out.count("à partir du ") == 2


IMPORT = (
    HEADER
    + "2026-12-07,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # line 2
    + "2026-12-07,09:00,13:00,Service cantine,Lingerie,2,GV-EKP3\n"  # 3: same shift, second worker
    + "2026-12-08,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # 4
    + "2026-12-09,09:00,13:00,Espaces verts,Jardins,1,\n"  # 5: a shift with nobody yet
    + "2026-12-32,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # 6: bad date
    + "2026-12-10,9h75,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # 7: bad time
    + "2026-12-10,13:00,09:00,Service cantine,Lingerie,2,GV-K7P2\n"  # 8: end before start
    + "2026-12-10,09:00,13:00,Service cantine,Lingerie,2,GV-ZZZZ\n"  # 9: unknown member
    + "2026-12-10,09:00,13:00,Service cantine,Lingerie,2,GV-TAY3\n"  # 10: not a worker
    + "2026-12-10,09:00,09:15,Service cantine,Lingerie,2,GV-K7P2\n"  # 11: over Karim's 8 h
    + "2026-12-08,12:00,14:00,Espaces verts,Jardins,2,GV-EKP3\n"  # 12: fine for Awa
    + "2026-12-08,10:00,12:30,Service cantine,Lingerie,2,GV-EKP3\n"  # 13: overlaps Awa's line 12
    + "2026-12-07,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # 14: the same as line 2
)


async def test_import_reports_bad_rows_and_is_idempotent(tmp_path: Path) -> None:
    """Each rejected row is named with its line and why (the cap included); a second run changes nothing."""
    await _people(tmp_path)
    await contracts(tmp_path, {"GV-K7P2": 480, "GV-EKP3": 720}, date(2026, 11, 30))
    (tmp_path / "plan.csv").write_text(IMPORT, encoding="utf-8")
    code, out, err = await shifts(tmp_path, "import", str(tmp_path / "plan.csv"), "--new")
    assert code == 1
    assert "4 créneaux créés, 4 personnes inscrites, 0 ligne déjà enregistrée." in out.splitlines(), out
    assert err.splitlines()[-1] == "8 lignes refusées."
    rejected = {int(line.split()[1]): line for line in err.splitlines() if line.startswith("Ligne ")}
    assert sorted(rejected) == [6, 7, 8, 9, 10, 11, 13, 14], err
    assert "2026-12-32" in rejected[6] and "9h75" in rejected[7] and "après le début" in rejected[8]
    assert "GV-ZZZZ" in rejected[9] and "salarié" in rejected[10]
    assert "contrat (8 h par semaine)" in rejected[11] and "Déjà prévu : 8 h" in rejected[11]
    assert "chevauche" in rejected[13] and rejected[14] == "Ligne 14 refusée : identique à la ligne 2"
    code, out, err = await shifts(tmp_path, "import", str(tmp_path / "plan.csv"))
    assert code == 1 and out == "Rien n'a changé : 5 lignes déjà enregistrées.\n" and err.count("refusée :") == 8
    code, out, _ = await shifts(tmp_path, "roster", "--week", "2026-W50")
    assert code == 0
    assert "Karim Benali (GV-K7P2) ?" in out and "Awa Diallo (GV-EKP3) ?" in out and "2/2" in out


async def test_import_reads_spreadsheet_files(tmp_path: Path) -> None:
    """A semicolon file from French Excel (Windows-1252, accents) imports; empty and wrong files do not."""
    await _people(tmp_path)
    await contracts(tmp_path, {"GV-K7P2": 480}, date(2026, 11, 30))
    data = HEADER.replace(",", ";") + "2026-12-07;09:00;12:00;Propreté;Cour;1;GV-K7P2\r\n"
    (tmp_path / "excel.csv").write_bytes(data.encode("cp1252"))
    code, out, err = await shifts(tmp_path, "import", str(tmp_path / "excel.csv"), "--new")
    assert code == 0, err
    assert out.splitlines() == [
        "Nouvelle activité ou nouveau lieu : Cour",
        "Nouvelle activité ou nouveau lieu : Propreté",
        "1 créneau créé, 1 personne inscrite, 0 ligne déjà enregistrée.",
    ]
    (tmp_path / "empty.csv").write_bytes(b"")
    code, _, err = await shifts(tmp_path, "import", str(tmp_path / "empty.csv"))
    assert code == 2 and err == "Le fichier est vide. Rien n'a été importé.\n"
    (tmp_path / "wrong.csv").write_text("day,from,to\n2026-12-07,09:00,12:00\n", encoding="utf-8")
    code, _, err = await shifts(tmp_path, "import", str(tmp_path / "wrong.csv"))
    assert code == 2 and err == (
        "Colonnes manquantes : date, start, end, activity, place, capacity, member_code. La première ligne doit être :"
        " date,start,end,activity,place,capacity,member_code. Rien n'a été importé.\n"
    )
    (tmp_path / "header.csv").write_text(HEADER, encoding="utf-8")
    code, _, err = await shifts(tmp_path, "import", str(tmp_path / "header.csv"))
    assert code == 2 and err == "Le fichier n'a que la ligne d'en-tête, aucun créneau. Rien n'a été importé.\n"


PAYROLL = (
    HEADER
    + "2025-12-01,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # present: week 49
    + "2025-12-02,09:00,12:30,Service cantine,Lingerie,2,GV-K7P2\n"  # absent
    + "2025-12-03,09:00,11:00,Service cantine,Lingerie,2,GV-K7P2\n"  # not marked
    + "2025-12-30,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"  # present: week 2026-W01, December
    + "2026-01-02,09:00,12:00,Service cantine,Lingerie,2,GV-K7P2\n"  # present: same week, January
    + "2025-12-01,09:00,11:00,Espaces verts,Jardins,2,GV-HYP3\n"  # present
)


async def test_hours_for_the_payroll(tmp_path: Path) -> None:
    """Present hours per ISO week (the month's days only) and for the month; absent and unmarked listed."""
    await _people(tmp_path)
    await contracts(tmp_path, {"GV-K7P2": 960, "GV-HYP3": 960}, date(2025, 11, 3))
    store = Store(tmp_path / "run.db")
    await store.open()
    try:
        report = await import_shifts(
            store, make_settings(tmp_path, database_path=tmp_path / "run.db"), NOW, PAYROLL.encode(), new=True
        )
        assert not report.rejected and report.assigned == 6
        marks = {"2025-12-01": True, "2025-12-02": False, "2025-12-30": True, "2026-01-02": True}
        async with store.transaction() as db:
            for shift in await model.shifts_on_days(db, date(2025, 12, 1), date(2026, 1, 5)):
                if shift.local_date.isoformat() in marks:
                    for assignment in await model.assignments_of(db, shift.id):
                        await model.mark_attendance(
                            db, NOW + timedelta(days=90), assignment.id, marks[shift.local_date.isoformat()]
                        )
    finally:
        await store.close()
    target = tmp_path / "hours.csv"
    code, out, err = await shifts(tmp_path, "hours", str(target), "--month", "2025-12")
    assert code == 0, err
    assert out == f"2 salariés, 10 h travaillées en décembre 2025 : {target}\n"
    assert err == "1 créneau pas encore marqué présent ou absent : il est listé comme « unmarked ».\n"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    karim = [
        (r["kind"], r["period"], r["worked_minutes"], r["week_total_hours"])
        for r in rows
        if r["member_code"] == "GV-K7P2"
    ]
    assert karim == [
        ("week", "2025-W49", "240", "4:00"),
        ("week", "2026-W01", "240", "7:00"),  # the January 2nd counts for the week, not for December
        ("month", "2025-12", "480", ""),
        ("absent", "2025-W49", "210", ""),
        ("unmarked", "2025-W49", "120", ""),
    ]
    assert {r["name"] for r in rows if r["member_code"] == "GV-HYP3"} == {"'=HYPERLINK(1)"}
    code, _, err = await shifts(tmp_path, "hours", str(target), "--month", "2025-12")
    assert code == 1 and err == f"{target} existe déjà : rien n'a été écrit. Ajoutez --overwrite pour le remplacer.\n"
    code, out, _ = await shifts(tmp_path, "hours", str(target), "--month", "2026-01", "--overwrite")
    assert code == 0 and out == f"1 salarié, 3 h travaillées en janvier 2026 : {target}\n"


async def test_staff_operations_from_the_command_line(tmp_path: Path) -> None:
    """Create, assign, change, unassign, cancel, templates and a generated week, as in the chat."""
    await _people(tmp_path)
    await contracts(tmp_path, {"GV-K7P2": 720}, date(2026, 11, 30))
    code, out, err = await shifts(tmp_path, "create", "2026-12-07", "09:00", "12:00", "Poulailler", "Jardins", "--new")
    assert code == 0 and out == "Créé : #1 lun. 7 déc. 09:00-12:00, Poulailler, Jardins\n", err
    code, out, err = await shifts(tmp_path, "assign", "1", "GV-K7P2")
    assert code == 0, err
    assert out == (
        "Inscription de Karim Benali (GV-K7P2) sur #1 lun. 7 déc. 09:00-12:00, Poulailler, Jardins ;"
        " 3 h prévues cette semaine-là.\n"
    )
    code, out, err = await shifts(tmp_path, "change", "1", "--start", "10:00", "--end", "14:00", "--reason", "gel")
    assert code == 0 and out == "Modifié : #1 lun. 7 déc. 10:00-14:00, Poulailler, Jardins (1 personne prévenue)\n", err
    code, _, err = await shifts(tmp_path, "unassign", "1", "GV-K7P2")
    assert code == 1 and err == "Rien n'a changé (confirmez dans un terminal, ou ajoutez --yes).\n"  # no terminal
    code, out, err = await shifts(tmp_path, "unassign", "1", "GV-K7P2", "--yes")
    assert code == 0 and out == "Karim Benali (GV-K7P2) n'est plus sur le créneau n°1.\n", err
    code, out, err = await shifts(tmp_path, "cancel", "1", "--reason", "gel", "--yes")
    assert code == 0 and out == "Annulé : #1 lun. 7 déc. 10:00-14:00, Poulailler, Jardins (0 personne prévenue)\n", err
    code, out, err = await shifts(
        tmp_path,
        "template",
        "add",
        "lun-jeu",
        "11:30",
        "14:30",
        "Service cantine",
        "Lingerie",
        "--capacity",
        "3",
        "--new",
    )
    assert code == 0 and out == "Modèle 1 : lun.-jeu. 11:30-14:30, Service cantine, Lingerie, 3 places\n", err
    code, out, err = await shifts(tmp_path, "generate", "--week", "2026-W53")
    assert code == 0 and out == "2026-W53 : 4 créneaux créés, 0 existait déjà.\n", err
    code, out, err = await shifts(tmp_path, "generate", "--week", "2027-W13")
    assert code == 0, err
    assert out.splitlines() == [
        "2027-W13 : 3 créneaux créés, 0 existait déjà.",
        "Modèle 1 : pas de créneau le 29 mars 2027 (Lundi de Pâques), jour férié ; --holidays pour l'inclure.",
    ]
    code, out, err = await shifts(tmp_path, "generate", "--week", "2027-W13", "--holidays")
    assert code == 0 and out == "2027-W13 : 1 créneau créé, 3 existaient déjà.\n", err
    code, out, _ = await shifts(tmp_path, "place", "Les Jardins", "--rename", "1")
    assert code == 0 and out == "Lieu 1 renommé : Les Jardins\n"
    code, out, _ = await shifts(tmp_path, "template", "list")
    assert code == 0 and out == "Modèle 1 : lun.-jeu. 11:30-14:30, Service cantine, Lingerie, 3 places\n"
    code, out, _ = await shifts(tmp_path, "template", "remove", "1")
    assert code == 0 and out == "Modèle 1 arrêté ; les créneaux qu'il a faits restent.\n"
    code, out, _ = await shifts(tmp_path, "template", "list")
    assert code == 0 and out == "Aucun modèle pour l'instant.\n"
    code, _, err = await shifts(tmp_path, "roster", "--week", "2026-W99")
    assert code == 1 and "2026-W99" in err


async def test_the_command_line_speaks_english_whole_when_the_site_does(tmp_path: Path) -> None:
    """With DEFAULT_LANGUAGE=en every line is English: the counts, the dates, the day names, the refusals."""
    await _people(tmp_path)
    await contracts(tmp_path, {"GV-K7P2": 720}, date(2026, 11, 30))
    english = bot_env(tmp_path, DEFAULT_LANGUAGE="en")
    code, out, err = await shifts(tmp_path, "contract", "GV-K7P2", env=english)
    assert code == 0 and out.splitlines() == ["GV-K7P2: contract hours a week", "  from November 30, 2026: 12 h"], err
    (tmp_path / "plan.csv").write_text(
        HEADER + "2026-12-07,09:00,13:00,Service cantine,Lingerie,2,GV-K7P2\n"
        "2026-12-07,09:00,13:00,Service cantine,Lingerie,2,GV-TAY3\n",
        encoding="utf-8",
    )
    code, out, err = await shifts(tmp_path, "import", str(tmp_path / "plan.csv"), "--new", env=english)
    assert code == 1
    assert out.splitlines()[-1] == "1 shift created, 1 assignment made, 0 rows already there."
    assert err.splitlines()[0].startswith("Line 3 rejected: ") and err.splitlines()[-1] == "1 row rejected."
    code, out, err = await shifts(tmp_path, "roster", "--day", "07/12/2026", env=english)
    assert code == 0, err
    assert out.splitlines() == [
        "Shifts on December 7, 2026 (2026-W50)",
        "1\tMon 7 Dec\t09:00-13:00\tService cantine\tLingerie\t1/2, 1 free\tKarim Benali (GV-K7P2) ?",
    ]
    code, out, err = await shifts(
        tmp_path, "template", "add", "1,3", "09:00", "10:00", "Cuisine", "Cour", "--new", env=english
    )
    assert code == 0 and out == "Template 1: Mon, Wed 09:00-10:00, Cuisine, Cour, 1 seat\n", err
    code, out, err = await shifts(tmp_path, "generate", "--week", "2027-W13", env=english)
    assert code == 0, err
    assert out.splitlines() == [
        "2027-W13: 1 shift created, 0 already there.",
        "Template 1: no shift on March 29, 2027 (Easter Monday), a public holiday; --holidays to include it.",
    ]
    code, _, err = await shifts(tmp_path, "roster", "--week", "2026-W50", "--day", "07/12/2026", env=english)
    assert code == 2 and err == "Give --week or --day, not both.\n"
