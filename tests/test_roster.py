"""The roster in a spreadsheet: ``voisins people add / import / export`` as staff run them, and bot.people.roster."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import people
from bot.i18n import I18n
from bot.messages import Channel
from bot.people import roster
from bot.store import Store
from tests.commands import Ran, bot_env
from tests.commands import voisins as run_voisins
from tests.conftest import STORE_FILE

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HEADER = "name,phone,telegram_id,roles,language,member_code"


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The machine's environment without any bot setting, on a database in ``tmp_path``."""
    return bot_env(tmp_path, database=STORE_FILE)


async def voisins(tmp_path: Path, *args: str, stdin: bytes = b"") -> Ran:
    """Run ``voisins ARGS`` in ``tmp_path`` (no .env there), as staff do in a terminal."""
    return await run_voisins(tmp_path, *args, stdin=stdin, env=cli_env(tmp_path))


async def dump(store: Store) -> list[tuple[object, ...]]:
    """Everything the roster is made of, to compare two states of the database."""
    rows: list[tuple[object, ...]] = []
    for sql in (
        "SELECT id, name, member_code, language, status, created_at FROM persons ORDER BY id",
        "SELECT person_id, role FROM person_roles ORDER BY person_id, role",
        "SELECT id, channel, address, person_id, created_at FROM identities ORDER BY id",
    ):
        rows.extend(tuple(row) for row in await store.fetchall(sql))
    return rows


async def person_by_phone(store: Store, phone: str) -> people.Person | None:
    async with store.transaction() as db:
        person_id = await people.find_person_id(db, phone=phone)
        return await people.get_person(db, person_id) if person_id is not None else None


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


MIXED = [
    HEADER,
    "Karim Benali,06 39 98 00 02,,resident;worker,fr,",  # 2: good, 06 format
    "Sam Taylor,+33 6 39 98 00 03,5001,résident,en,",  # 3: good, +33 format, a French role name
    "Lucie Martin,0033 6 39 98 00 04,,Bénévoles,,GV-MRT4",  # 4: good, 0033, plural French role, a given code
    "Karim B.,0639980002,,resident,fr,",  # 5: the same phone as line 2
    "Jo Bad,12345,,resident,fr,",  # 6: not a phone number
    "Chef Paul,06 39 98 00 06,,chef;resident,fr,",  # 7: unknown role
    "Awa Again,06 39 98 00 01,,staff,fr,GV-NEW2",  # 8: a new person with the admin's phone
    ",,,,,",  # 9: an empty row, skipped
    "Nadia Zeroless,639980010,,worker,fr,",  # 10: Excel dropped the leading 0
    "Tele Gram,,1.23457E+11,volunteer,fr,",  # 11: Excel turned the Telegram id into a float
    "Hans,06 39 98 00 12,,resident,de,",  # 12: unknown language
    "Code Bad,06 39 98 00 13,,resident,fr,GV-0000",  # 13: not a member code
    ",06 39 98 00 14,,resident,fr,",  # 14: no name
    "No Role,06 39 98 00 15,,,fr,",  # 15: no role for a new person
]


async def test_add_creates_the_first_admin(tmp_path: Path, store: Store) -> None:
    """`voisins people add` registers the first admin with their phone and prints the member code; no demo data."""
    ran = await voisins(
        tmp_path, "people", "add", "--name", "Awa", "--phone", "06 39 98 00 01", "--role", "staff", "--role", "admin"
    )
    assert ran.code == 0, ran.err
    person = await person_by_phone(store, "+33639980001")
    assert person is not None
    assert person.roles == {"staff", "admin"} and person.is_staff
    assert person.member_code and person.member_code in ran.out
    assert await people.count_people(store) == 1


async def test_add_refuses_a_wrong_phone_and_writes_nothing(tmp_path: Path, store: Store) -> None:
    """A phone number that cannot be one is refused with a clear message; nobody is created."""
    ran = await voisins(tmp_path, "people", "add", "--name", "Awa", "--phone", "12", "--role", "admin")
    assert ran.code == 2
    assert "Ce n'est pas un numéro de téléphone : 12" in ran.err
    assert await people.count_people(store) == 0


async def test_import_a_mixed_file_reports_each_row(tmp_path: Path, store: Store) -> None:
    """Good rows are created, each rejected row is named with its spreadsheet line and reason; twice changes nothing."""
    await voisins(tmp_path, "people", "add", "--name", "Awa", "--phone", "06 39 98 00 01", "--role", "admin")
    file = write(tmp_path / "liste.csv", MIXED)
    ran = await voisins(tmp_path, "people", "import", str(file))
    assert ran.code == 1, ran.err  # rows were rejected
    out = ran.out
    assert "Import de liste.csv (encodage utf-8, séparateur : virgule)" in out
    assert "Créées : 4. Mises à jour : 0. Inchangées : 0. Refusées : 9." in out
    assert "Ligne 5 : même numéro de téléphone qu'à la ligne 2" in out
    assert "Ligne 6 : numéro de téléphone incorrect : 12345" in out
    assert "Ligne 7 : rôle inconnu : chef" in out
    assert "Ligne 8 : ce numéro appartient déjà à une autre personne inscrite (GV-" in out
    assert "Ligne 9 " not in out
    assert "Ligne 11 : identifiant Telegram incorrect : 1.23457E+11" in out
    assert "Ligne 12 : langue inconnue : de" in out
    assert "Ligne 13 : code membre incorrect : GV-0000" in out
    assert "Ligne 14 : le nom manque" in out
    assert "Ligne 15 : aucun rôle" in out

    karim = await person_by_phone(store, "+33639980002")
    assert karim is not None and karim.name == "Karim Benali" and karim.roles == {"resident", "worker"}
    sam = await person_by_phone(store, "+33639980003")
    assert sam is not None and sam.roles == {"resident"} and sam.language == "en"
    async with store.transaction() as db:
        assert await people.find_person_id(db, telegram_id="5001") == sam.id
    lucie = await person_by_phone(store, "+33639980004")
    assert lucie is not None and lucie.member_code == "GV-MRT4" and lucie.roles == {"volunteer"}
    assert lucie.language is None
    nadia = await person_by_phone(store, "+33639980010")
    assert nadia is not None and nadia.roles == {"worker"}
    awa = await person_by_phone(store, "+33639980001")
    assert awa is not None and awa.name == "Awa" and awa.roles == {"admin"}
    assert await people.count_people(store) == 5

    before = await dump(store)
    again = await voisins(tmp_path, "people", "import", str(file))
    assert again.code == 1, again.err
    assert "Créées : 0. Mises à jour : 0. Inchangées : 4. Refusées : 9." in again.out
    assert await dump(store) == before


async def test_a_missing_column_refuses_the_whole_file(tmp_path: Path, store: Store) -> None:
    """Without the language column nothing is imported; the message names the column and the header wanted."""
    file = write(
        tmp_path / "sans-langue.csv", ["name,phone,telegram_id,roles,member_code", "Karim,0639980002,,resident,"]
    )
    ran = await voisins(tmp_path, "people", "import", str(file))
    assert ran.code == 1
    assert "Colonnes manquantes : language." in ran.err
    assert "name;phone;telegram_id;roles;language;member_code" in ran.err
    assert await people.count_people(store) == 0


async def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    """A file that does not exist is named in a clear message, with exit code 1."""
    ran = await voisins(tmp_path, "people", "import", str(tmp_path / "nowhere.csv"))
    assert ran.code == 1
    assert "Impossible de lire" in ran.err and "nowhere.csv" in ran.err


async def test_a_french_excel_file_in_windows_1252_is_read_and_flagged(tmp_path: Path, store: Store) -> None:
    """Excel's "CSV (point-virgule)": Windows-1252 and ';' are read, accents intact, and the report says so."""
    lines = [
        "Nom;Téléphone;telegram_id;Rôles;Langue;code_membre",
        "Hélène Dupré;06 39 98 00 21;;bénévole;français;",
        "François Œuvray;06 39 98 00 22;;résident;fr;",
    ]
    file = write(tmp_path / "excel.csv", lines, encoding="cp1252")
    ran = await voisins(tmp_path, "people", "import", str(file))
    assert ran.code == 0, ran.err
    assert "encodage cp1252, séparateur : point-virgule" in ran.out
    assert "lu comme un CSV d'Excel (Windows-1252)" in ran.out
    assert "Créées : 2." in ran.out
    helene = await person_by_phone(store, "+33639980021")
    assert helene is not None and helene.name == "Hélène Dupré" and helene.roles == {"volunteer"}
    francois = await person_by_phone(store, "+33639980022")
    assert francois is not None and francois.name == "François Œuvray"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml", "classeur Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "classeur Excel"),
        (b"name,phone\x00\x01\x02", "pas un fichier texte CSV"),
        (
            (HEADER + "\nH\xc3\xa9l\xc3\xa8ne,,,resident,fr,\nCl\xe9o,,,resident,fr,\n").encode("latin-1"),
            "deux encodages",
        ),
        (b"", "Le fichier est vide"),
    ],
    ids=["xlsx", "xls", "binary", "mixed-encoding", "empty"],
)
async def test_a_file_that_is_no_csv_is_refused_with_advice(
    tmp_path: Path, store: Store, data: bytes, message: str
) -> None:
    """A workbook, a binary, a file mixing encodings or an empty file: refused, saying what to do, nothing written."""
    file = tmp_path / "liste.csv"
    file.write_bytes(data)
    ran = await voisins(tmp_path, "people", "import", str(file))
    assert ran.code == 1
    assert message in ran.err
    assert await people.count_people(store) == 0


async def test_export_then_import_changes_nothing(tmp_path: Path, store: Store) -> None:
    """Export opens well in Excel (BOM, ';', 06 numbers), has no guest, and imports back unchanged, byte for byte."""
    await voisins(tmp_path, "people", "add", "--name", "Awa", "--phone", "06 39 98 00 01", "--role", "admin")
    rows = [
        HEADER,
        "Karim Benali,06 39 98 00 02,,resident;worker,fr,GV-K7P2",
        "Sam Taylor,+44 7911 123456,5001,resident,en,",
        '=HYPERLINK("http://x"),,,volunteer,,',
        "Jean Sans Tel,,,resident,,",
    ]
    assert (await voisins(tmp_path, "people", "import", str(write(tmp_path / "in.csv", rows)))).code == 0
    await people.identify(store, Channel.SMS, "+33639980555", NOW)  # a guest: someone who only wrote

    first = await voisins(tmp_path, "people", "export", str(tmp_path / "out.csv"))
    assert first.code == 0, first.err
    assert first.out.strip() == f"Personnes inscrites exportées dans {tmp_path / 'out.csv'} : 5."
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfname;phone;telegram_id;roles;language;member_code\r\n")
    text = data.decode("utf-8-sig")
    assert "Karim Benali;06 39 98 00 02;;resident;worker;fr;GV-K7P2" not in text  # roles are one quoted cell
    assert 'Karim Benali;06 39 98 00 02;;"resident;worker";fr;GV-K7P2' in text
    assert "Sam Taylor;0044 7911 123456;5001;resident;en;GV-" in text
    assert "'=HYPERLINK" in text  # Excel would run it as a formula
    assert "06 39 98 05 55" not in text and "+33639980555" not in text
    assert oct((tmp_path / "out.csv").stat().st_mode & 0o777) == "0o600"

    before = await dump(store)
    again = await voisins(tmp_path, "people", "import", str(tmp_path / "out.csv"))
    assert again.code == 0, again.err
    assert "Créées : 0. Mises à jour : 0. Inchangées : 5. Refusées : 0." in again.out
    assert await dump(store) == before
    second = await voisins(tmp_path, "people", "export", str(tmp_path / "out2.csv"))
    assert second.code == 0
    assert (tmp_path / "out2.csv").read_bytes() == data


async def test_export_never_overwrites_without_being_asked(tmp_path: Path) -> None:
    """An existing file is kept unless --overwrite is given (or the person answers yes in a terminal)."""
    target = tmp_path / "liste.csv"
    target.write_text("precious")
    refused = await voisins(tmp_path, "people", "export", str(target))
    assert refused.code == 1
    assert "existe déjà" in refused.err and "--overwrite" in refused.err
    assert target.read_text() == "precious"
    done = await voisins(tmp_path, "people", "export", str(target), "--overwrite", "--separator", ",")
    assert done.code == 0, done.err
    assert target.read_bytes().startswith(b"\xef\xbb\xbf" + HEADER.encode())


async def test_a_long_import_shows_progress(tmp_path: Path, store: Store) -> None:
    """1,000 rows: a progress bar on stderr, every row created, the report complete."""
    rows = [HEADER] + [f"Personne {i},06 39 98 {i // 100:02d} {i % 100:02d},,resident,fr," for i in range(1000)]
    ran = await voisins(tmp_path, "people", "import", str(write(tmp_path / "big.csv", rows)))
    assert ran.code == 0, ran.err
    assert "1000/1000" in ran.err
    assert "Créées : 1000. Mises à jour : 0. Inchangées : 0. Refusées : 0." in ran.out
    assert await people.count_people(store) == 1000


async def test_list_shows_the_registered(tmp_path: Path) -> None:
    """`voisins people list` shows each registered person with their code and roles."""
    await voisins(tmp_path, "people", "add", "--name", "Awa [équipe]", "--role", "admin")
    ran = await voisins(tmp_path, "people", "list")
    assert ran.code == 0, ran.err
    assert "Awa [équipe]" in ran.out and "admin" in ran.out and "GV-" in ran.out


# bot.people.roster directly --------------------------------------------------------------------


async def imported(store: Store, lines: list[str], **options: bool) -> roster.ImportReport:
    data = ("\n".join(lines) + "\n").encode()
    return await roster.import_roster(store, NOW, roster.parse(data), I18n(), **options)


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "6 12 34 56 78",
        "612345678",
        "33612345678",
        "(0)6 12 34 56 78",
    ],
)
def test_french_phone_numbers_as_people_write_them(text: str) -> None:
    """Every way a French mobile is written in a spreadsheet, Excel's damage included, is the same number."""
    assert roster.parse_phone(text) == "+33612345678"


@pytest.mark.parametrize("text", ["", "12345", "06 12 AB CD EF", "0612345678901234", "appeler Karim", "=1+1"])
def test_what_is_no_phone_number(text: str) -> None:
    """Letters, too few or too many digits: not a phone number."""
    assert roster.parse_phone(text) is None


def test_roles_in_english_and_french() -> None:
    """Role values, French names with or without accents, plurals and several separators are understood."""
    roles, unknown = roster.parse_roles("Résidente; bénévoles, Équipe/admin TRAVAILLEUR")
    assert roles == {"resident", "volunteer", "staff", "admin", "worker"}
    assert unknown == []
    assert roster.parse_roles("resident;chef;cuisinier") == (frozenset({"resident"}), ["chef", "cuisinier"])


def test_the_separator_comes_from_the_header() -> None:
    """Comma, semicolon, tab, Excel's sep= line and UTF-16 ("Texte Unicode") are all read."""
    for delimiter in (",", ";", "\t"):
        parsed = roster.parse((delimiter.join(roster.COLUMNS) + "\nA,B" + "\n").encode())
        assert parsed.delimiter == delimiter
    parsed = roster.parse(("sep=;\n" + ";".join(roster.COLUMNS) + "\nKarim;0639980002;;resident;fr;\n").encode())
    assert parsed.delimiter == ";" and parsed.rows[0][0] == 2
    unicode_text = roster.parse(("\t".join(roster.COLUMNS) + "\r\nZoé\t\t\tresident\t\t\r\n").encode("utf-16"))
    assert unicode_text.encoding == "utf-16" and unicode_text.rows[0][1]["name"] == "Zoé"


async def test_a_rejected_row_writes_nothing(core_store: Store) -> None:
    """A row whose code is new but whose phone is someone else's creates nobody, not even half a person."""
    await people.add_person(core_store, NOW, "Karim", {"resident"}, phone="+33639980002", member_code="GV-K7P2")
    before = await dump(core_store)
    report = await imported(core_store, [HEADER, "Karim Bis,06 39 98 00 02,,resident,fr,GV-NEW2"])
    assert [(r.line, r.key) for r in report.rejected] == [(2, "people.row_phone_taken")]
    assert report.rejected[0].params == {"code": "GV-K7P2"}
    assert await dump(core_store) == before


async def test_a_dry_run_reports_and_writes_nothing(core_store: Store) -> None:
    """--dry-run counts what would happen and leaves the database as it was."""
    before = await dump(core_store)
    report = await imported(core_store, [HEADER, "A,0639980031,,resident,,", "B,0639980032,,resident,,"], dry_run=True)
    assert (report.created, report.dry_run) == (2, True)
    assert await dump(core_store) == before


async def test_a_changed_phone_replaces_the_old_one(core_store: Store) -> None:
    """A new number in the file replaces the old one: a lost phone stops receiving the person's messages."""
    await imported(core_store, [HEADER, "Karim,0639980002,,resident,fr,GV-K7P2"])
    report = await imported(core_store, [HEADER, "Karim,0639980099,,resident;worker,fr,GV-K7P2"])
    assert (report.created, report.updated) == (0, 1)
    rows = await core_store.fetchall("SELECT address FROM identities WHERE channel = 'sms'")
    assert [row[0] for row in rows] == ["+33639980099"]


async def test_a_guest_number_moves_to_the_imported_person(core_store: Store) -> None:
    """Someone who wrote before being registered keeps their number: the guest becomes the person."""
    guest, _ = await people.identify(core_store, Channel.SMS, "+33639980041", NOW)
    report = await imported(core_store, [HEADER, "Fatou,06 39 98 00 41,,resident,fr,"])
    assert report.created == 1
    person = await person_by_phone(core_store, "+33639980041")
    assert person is not None and person.name == "Fatou" and person.id != guest.id
    assert await core_store.fetchone("SELECT 1 FROM persons WHERE id = ?", (guest.id,)) is None


async def test_rows_with_a_name_only(core_store: Store) -> None:
    """Without code, phone or Telegram a row is recognised by its name; two same names in the file are flagged."""
    lines = [HEADER, "Jean Sans Tel,,,resident,,", "Jean Sans Tel,,,volunteer,,"]
    first = await imported(core_store, lines)
    assert first.created == 1
    assert [(r.line, r.key, r.params) for r in first.rejected] == [(3, "people.row_duplicate_name", {"line": 2})]
    second = await imported(core_store, lines)
    assert (second.created, second.unchanged) == (0, 1)
    await people.add_person(core_store, NOW, "jean sans tel", {"worker"})
    third = await imported(core_store, lines[:2])
    assert [r.key for r in third.rejected] == ["people.row_same_name"]


async def test_a_row_longer_than_the_header_is_rejected(core_store: Store) -> None:
    """A name with an unquoted comma spills into the next cells: rejected, saying to check the separator."""
    report = await imported(core_store, [HEADER, "Benali, Karim,0639980002,,resident,fr,GV-K7P2"])
    assert [(r.key, r.params) for r in report.rejected] == [("people.row_cells", {"count": 7, "expected": 6})]


async def test_an_empty_roles_cell_never_takes_roles_away(core_store: Store) -> None:
    """An existing person's roles stay: an empty cell is rejected rather than read as "no role any more"."""
    await imported(core_store, [HEADER, "Karim,0639980002,,resident,fr,GV-K7P2"])
    report = await imported(core_store, [HEADER, "Karim,0639980002,,,fr,GV-K7P2"])
    assert [r.key for r in report.rejected] == ["people.row_no_role"]
    karim = await person_by_phone(core_store, "+33639980002")
    assert karim is not None and karim.roles == {"resident"}


def test_every_reason_is_in_the_catalogs() -> None:
    """Each reason the roster can give, built from a key at run time, exists in both languages."""
    i18n = I18n("fr")
    keys = {f"people.row_duplicate_{kind}" for kind in ("code", "phone", "telegram", "name")}
    keys |= {f"people.role_{role.value}" for role in people.Role}
    keys.add("people.language_none")  # the languages themselves are named by Babel
    for language in ("fr", "en"):
        assert {key for key in keys if not i18n.has(key, language)} == set()


@pytest.fixture
def core_store(store: Store) -> Store:
    """An empty database for the roster functions (the shared ``store``; no CLI runs on it in those tests)."""
    return store
