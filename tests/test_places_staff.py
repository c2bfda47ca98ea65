"""Staff keep the places true: ``voisins places export / import / check`` as they run them, the answers
that follow on every channel, and the Monday notice of places not verified for six months."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.sms_text import PAGE_SEPTETS, is_gsm, septets
from handlers.orientation import directory
from handlers.orientation.notice import StaleNotice
from tests.commands import Ran, bot_env
from tests.commands import voisins as run_voisins
from tests.conftest import PARIS, Talk
from tests.test_orientation import read_all

MONDAY_9H = datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)


async def voisins(talk: Talk, *args: str) -> Ran:
    """A staff command on the database the running bot of ``talk`` uses."""
    folder = Path(talk.settings.database_path).parent
    return await run_voisins(folder, *args, env=bot_env(folder, database=Path(talk.settings.database_path).name))


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> Path:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


async def places_table(talk: Talk) -> list[tuple[object, ...]]:
    rows = await talk.core.store.fetchall("SELECT key, entry, origin, verified_on FROM places ORDER BY key")
    return [tuple(row) for row in rows]


async def test_an_export_imports_back_unchanged(talk: Talk, tmp_path: Path) -> None:
    """Every place of the file is in the export, and importing it again changes nothing at all."""
    before = await places_table(talk)
    assert len(before) >= 60
    ran = await voisins(talk, "places", "export", str(tmp_path / "lieux.csv"))
    assert ran.code == 0, ran.err
    assert f"{len(before)} lieux" in ran.out
    assert {row["key"] for row in read_csv(tmp_path / "lieux.csv")} == {row[0] for row in before}
    ran = await voisins(talk, "places", "import", str(tmp_path / "lieux.csv"))
    assert ran.code == 0, ran.err
    assert f"Inchangés : {len(before)}" in ran.out and "Refusés : 0" in ran.out
    assert await places_table(talk) == before


async def test_a_place_added_in_a_spreadsheet_is_answered_at_the_next_question(talk: Talk, tmp_path: Path) -> None:
    """A new row as a French Excel saves it (Windows-1252, no key, decimal commas, a date as 01/12/2026,
    a phone that lost its 0, hours as "9h-12h30 / 14h-17h") is created and listed at once."""
    await voisins(talk, "places", "export", str(tmp_path / "lieux.csv"))
    rows = read_csv(tmp_path / "lieux.csv")
    new = {column: "" for column in rows[0]}
    new.update(
        name="Douches du Square Test",
        kind="bains_douches",
        address="3 rue des Essais",
        postcode="75013",
        phone="145678901",
        services="shower",
        public="everyone",
        **{day: "9h-12h30 / 14h-17h" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        latitude="48,8300",
        longitude="2,3600",
        source="Appel de l'équipe au 01 45 67 89 01",
        verified="01/12/2026",
        status="checked",
    )
    write_csv(tmp_path / "lieux.csv", [*rows, new], encoding="cp1252")
    ran = await voisins(talk, "places", "import", "--dry-run", str(tmp_path / "lieux.csv"))
    assert "Lieux créés : 1" in ran.out and "rien n'a été enregistré" in ran.out
    assert not (await talk("douche 13e")).has("Square Test")
    ran = await voisins(talk, "places", "import", str(tmp_path / "lieux.csv"))
    assert ran.code == 0, ran.err
    assert "Lieux créés : 1" in ran.out and "Windows-1252" in ran.out
    assert "douches_du_square_test_75013" in ran.out
    said = await read_all(talk, "douche 13e")
    assert said.has("Douches du Square Test", "3 rue des Essais", "0145678901")


async def test_a_wrong_row_is_refused_by_its_line_and_changes_nothing(talk: Talk, tmp_path: Path) -> None:
    await voisins(talk, "places", "export", str(tmp_path / "lieux.csv"))
    rows = read_csv(tmp_path / "lieux.csv")
    before = await places_table(talk)
    rows[2]["tue"] = "le matin"
    rows[4]["services"] = "douche chaude"
    rows[5]["verified"] = "hier"
    rows[6]["phone"] = "12"
    rows[7]["postcode"] = "75099"
    rows[8]["key"] = rows[9]["key"]
    write_csv(tmp_path / "lieux.csv", rows)
    ran = await voisins(talk, "places", "import", str(tmp_path / "lieux.csv"))
    assert ran.code == 1, ran.err  # refused rows: a script sees it
    assert "Refusés : 7" in ran.out
    for line, reason in (
        (4, "colonne tue"),
        (6, "services"),
        (7, "date de vérification"),
        (8, "numéro de téléphone"),
        (9, "75099"),
        (10, "aussi à la ligne 11"),
        (11, "aussi à la ligne 10"),
    ):
        assert f"Ligne {line} : " in ran.out and reason in ran.out, (line, reason, ran.out)
    assert await places_table(talk) == before


async def test_an_edited_place_is_answered_with_its_new_hours(talk: Talk, tmp_path: Path) -> None:
    """Staff change a place's hours and phone in the spreadsheet; the bot says them at the next question."""
    await voisins(talk, "places", "export", str(tmp_path / "lieux.csv"))
    rows = read_csv(tmp_path / "lieux.csv")
    row = next(r for r in rows if r["key"] == "bains_douches_butte_aux_cailles")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        row[day] = "00:00-23:59"
    write_csv(tmp_path / "lieux.csv", rows)
    ran = await voisins(talk, "places", "import", str(tmp_path / "lieux.csv"))
    assert "Mis à jour : 1" in ran.out, ran.out
    said = await read_all(talk, "douche 13e")
    line = next(t for t in said.text.split("\n") if "Butte-aux-Cailles" in t)
    assert "jour et nuit" in line, said.text


async def test_check_marks_a_place_verified_today_and_the_answer_says_the_month(talk: Talk) -> None:
    said = await talk("douche 10e")
    assert said.has("verifie 03/2022")
    ran = await voisins(talk, "places", "check", "esi_bichat")
    assert ran.code == 0, ran.err
    assert "ESI Bichat" in ran.out and "vérifié le" in ran.out
    stored = next(s for s in await directory.stored(talk.core.store) if s.place.key == "esi_bichat")
    assert stored.place.status == "checked" and stored.origin == "staff"
    ran = await voisins(talk, "places", "check", "esi_bicht")
    assert ran.code == 1 and "esi_bichat" in ran.err and "rien n'a été modifié" in ran.err


async def test_a_place_staff_checked_is_kept_when_the_bot_starts_again(talk: Talk) -> None:
    """The file seeds the places at each start, but never undoes what staff did."""
    await voisins(talk, "places", "check", "esi_bichat")
    await talk.restart()
    stored = next(s for s in await directory.stored(talk.core.store) if s.place.key == "esi_bichat")
    assert stored.place.status == "checked"


async def test_the_monday_notice_lists_places_not_verified_for_six_months(talk: Talk, clock: FakeClock) -> None:
    """On Monday from 09:00, each staff member gets one notice a week, short enough for two SMS."""
    store = talk.core.store
    hook = StaleNotice(store, clock, talk.settings)
    old = await store.fetchall("SELECT key FROM places WHERE verified_on < '2026-06-01' ORDER BY verified_on, key")
    assert old, "places.yaml has places last checked years ago"
    assert await hook.queue_due(MONDAY_9H - timedelta(minutes=1)) == 0
    assert await hook.queue_due(MONDAY_9H) >= 1
    rows = await store.fetchall("SELECT cause, body FROM outbox WHERE cause LIKE 'places:stale:%'")
    assert [row[0] for row in rows] == [f"places:stale:2026-W50:{rows[0][0].rsplit(':', 1)[1]}"]
    body = str(rows[0][1])
    assert f"{len(old)} pas vérifiés depuis plus de 6 mois" in body
    first = str(old[0][0])
    assert "voisins places check" in body and f"({first}), vérifié 03/2022" in body
    assert is_gsm(body) and septets(body) <= PAGE_SEPTETS
    assert await hook.queue_due(MONDAY_9H + timedelta(hours=5)) == 0  # once a week
    assert await hook.queue_due(MONDAY_9H + timedelta(days=2)) == 0  # on Mondays only
    await voisins(talk, "places", "check", first)
    assert await hook.queue_due(MONDAY_9H + timedelta(days=9)) == 0  # not sent yet that week, but a Wednesday
    assert await hook.queue_due(MONDAY_9H + timedelta(days=7)) == 1
    body = str((await store.fetchall("SELECT body FROM outbox WHERE cause LIKE 'places:stale:2026-W51:%'"))[0][0])
    assert f"{len(old) - 1} pas vérifiés" in body and first not in body


async def test_no_stale_place_no_notice(talk: Talk, tmp_path: Path) -> None:
    store = talk.core.store
    old = await store.fetchall("SELECT key FROM places WHERE verified_on < '2026-06-01'")
    ran = await voisins(talk, "places", "check", *(str(row[0]) for row in old))
    assert ran.code == 0 and ran.out.count("vérifié le") == len(old), ran.err
    assert await StaleNotice(store, talk.clock, talk.settings).queue_due(MONDAY_9H) == 0


SAMPLE = Path(__file__).parent / "data" / "datainclusion"


async def test_a_datainclusion_export_imports_and_its_places_are_answered(talk: Talk) -> None:
    """The sample export (written by the v1 schema) imports, refused records by line; its places are then
    listed by their rules: a shower read in a description, a women's place only to women asking."""
    files = (str(SAMPLE / "structures.json"), str(SAMPLE / "services.json"))
    ran = await voisins(talk, "places", "import", *files)
    assert ran.code == 0, ran.err
    assert "Lieux créés : 7" in ran.out and "Refusés : 3" in ran.out and "Ignorés (hors Paris" in ran.out
    assert "Ligne 8 : structures.json : le champ code_postal" in ran.out
    said = await read_all(talk, "douche 10e")
    assert said.has("Accueil de jour La Boussole"), said.text
    assert not (await read_all(talk, "douche 11e")).has("Espace Femmes Solidaires")
    assert (await read_all(talk, "douche pour femmes 11e")).has("Espace Femmes Solidaires")
    assert (await read_all(talk, "bagagerie 18e")).has("Halte de nuit Chapelle")
    csv_files = (str(SAMPLE / "structures.csv"), str(SAMPLE / "services.csv"))
    ran = await voisins(talk, "places", "import", *csv_files)
    assert "Inchangés : 7" in ran.out, ran.out
