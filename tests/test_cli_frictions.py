"""The staff's command line as a new staff member meets it: French answers, one language, the examples work.

Every test runs the real ``voisins`` command in a process; the [y/N] questions are answered at a real
terminal (a pseudo-terminal), since they are only asked when someone is there to answer.
"""

from __future__ import annotations

import csv
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import people
from handlers.trocshop.cli import AMOUNT_EXAMPLES, FLOOR_EXAMPLE
from tests.commands import Ran, bot_env, voisins
from tests.conftest import opened_store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
HEADER = "name;phone;telegram_id;roles;language;member_code"
# Words of English sentences the command line used to print among French ones.
ENGLISH = re.compile(
    r"\b(written|credited|Balance|balance may|postings|Not a|No registered|Place account|notes in"
    r" circulation|Unknown language|issuing|anonymous)\b"
)


async def at_terminal(tmp_path: Path, *args: str, typed: str, env: dict[str, str] | None = None) -> Ran:
    """Run ``voisins ARGS`` with a terminal as its input, where ``typed`` is what the person types."""
    return await voisins(tmp_path, *args, stdin=typed.encode(), env=env, terminal=True)


async def karim(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "run.db") as store:
        await people.add_person(store, NOW, "Karim", {"resident"}, phone="+33639980002", member_code="GV-K7P2")


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


async def person(tmp_path: Path, phone: str) -> people.Person | None:
    async with opened_store(tmp_path / "run.db") as store, store.transaction() as db:
        found = await people.find_person_id(db, phone=phone)
        return await people.get_person(db, found) if found is not None else None


# Yes or no -------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["oui", "O", "y"])
async def test_an_export_replaces_the_file_on_a_french_yes(tmp_path: Path, answer: str) -> None:
    """`[o/N]` in French: OUI, O (and yes, y) replace the file."""
    target = tmp_path / "liste.csv"
    target.write_text("ancien")
    ran = await at_terminal(tmp_path, "people", "export", str(target), typed=f"{answer}\n")
    assert ran.code == 0, ran.err
    assert "existe déjà. Le remplacer ? [o/N]" in ran.out
    assert target.read_bytes().startswith(b"\xef\xbb\xbfname;")


@pytest.mark.parametrize("answer", ["non", "n", ""])
async def test_an_export_keeps_the_file_on_a_no(tmp_path: Path, answer: str) -> None:
    """NON, N, no or just Enter keep the file."""
    target = tmp_path / "liste.csv"
    target.write_text("ancien")
    ran = await at_terminal(tmp_path, "people", "export", str(target), typed=f"{answer}\n")
    assert ran.code == 1
    assert target.read_text() == "ancien"


async def test_another_answer_asks_again_in_the_same_language(tmp_path: Path) -> None:
    """An answer that is neither yes nor no is asked again, in French; in English with DEFAULT_LANGUAGE=en."""
    target = tmp_path / "liste.csv"
    target.write_text("ancien")
    ran = await at_terminal(tmp_path, "people", "export", str(target), typed="peut-être\noui\n")
    assert ran.code == 0, ran.err
    assert "Répondez oui ou non" in ran.out and ran.out.count("[o/N]") == 2
    assert "Error" not in ran.out + ran.err
    target.write_text("old")
    english = await at_terminal(
        tmp_path, "people", "export", str(target), typed="maybe\nn\n", env=bot_env(tmp_path, DEFAULT_LANGUAGE="en")
    )
    assert english.code == 1
    assert "[y/N]" in english.out and "Please answer yes or no" in english.out
    assert target.read_text() == "old"


async def test_a_broadcast_is_sent_on_oui(tmp_path: Path) -> None:
    """`voisins broadcast send` takes OUI as its yes."""
    await karim(tmp_path)
    args = ("broadcast", "send", "--audience", "everyone", "--text", "Fête jeudi", "--no-wait")
    said_no = await voisins(tmp_path, *args, stdin=b"non\n")
    assert said_no.code == 1 and "Rien n'a été envoyé" in said_no.out
    said_yes = await voisins(tmp_path, *args, stdin=b"oui\n")
    assert said_yes.code == 0, said_yes.out + said_yes.err
    assert "en file" in said_yes.out


async def test_a_shift_question_takes_o(tmp_path: Path) -> None:
    """`voisins shifts cancel` at a terminal takes O as its yes (then finds no such shift), NON as its no."""
    said_no = await at_terminal(tmp_path, "shifts", "cancel", "999", "--reason", "gel", typed="non\n")
    said_yes = await at_terminal(tmp_path, "shifts", "cancel", "999", "--reason", "gel", typed="o\n")
    assert said_no.code == said_yes.code == 1
    assert "[o/N]" in said_yes.out and said_yes.out.count("[o/N]") == 1
    assert said_no.err.strip().splitlines()[-1] not in said_yes.err
    assert "Annuler le créneau n°999 et prévenir les personnes inscrites ? [o/N]" in said_yes.out
    assert said_no.err.strip().splitlines()[-1] == "Rien n'a changé (confirmez dans un terminal, ou ajoutez --yes)."


# One language per output ---------------------------------------------------------------------


async def test_trocshop_commands_speak_french(tmp_path: Path) -> None:
    """Credit, floor, balance, place and export say it all in French, with the refusals."""
    await karim(tmp_path)
    outputs = [
        await voisins(tmp_path, "troc", "credit", "GV-K7P2", "1h30", "--reason", "atelier"),
        await voisins(tmp_path, "troc", "credit", "GV-K7P2", "30", "--reason", "x", "--key", "k1"),
        await voisins(tmp_path, "troc", "credit", "GV-K7P2", "30", "--reason", "x", "--key", "k1"),
        await voisins(tmp_path, "troc", "credit", "GV-HHHH", "30", "--reason", "x"),
        await voisins(tmp_path, "troc", "credit", "GV-K7P2", "beaucoup", "--reason", "x"),
        await voisins(tmp_path, "troc", "floor", "GV-K7P2", "-30"),
        await voisins(tmp_path, "troc", "balance"),
        await voisins(tmp_path, "troc", "place", "Ressourcerie"),
        await voisins(tmp_path, "troc", "export", str(tmp_path / "journal.csv")),
    ]
    said = "\n".join(ran.out + ran.err for ran in outputs)
    assert ENGLISH.search(said) is None, said
    assert "Crédit de 1 h 30" in outputs[0].out and "Solde : 1 h 30" in outputs[0].out
    assert "déjà enregistrée" in outputs[2].out
    assert "Aucune personne inscrite" in outputs[3].err
    assert "Ce n'est pas une durée : beaucoup" in outputs[4].err
    assert "descendre jusqu'à -30 min" in outputs[5].out
    assert "émission" in outputs[6].out and "billets en circulation" in outputs[6].out
    english = await voisins(tmp_path, "troc", "balance", env=bot_env(tmp_path, DEFAULT_LANGUAGE="en"))
    assert "issuing" in english.out and "notes in circulation" in english.out


async def test_people_commands_speak_french(tmp_path: Path) -> None:
    """A wrong phone or language for `people add` and `chat --as` are said in French, like the rest."""
    phone = await voisins(tmp_path, "people", "add", "--name", "Awa", "--phone", "12", "--role", "admin")
    assert phone.code == 2 and "Ce n'est pas un numéro de téléphone : 12" in phone.err
    language = await voisins(tmp_path, "people", "add", "--name", "Awa", "--role", "admin", "--language", "de")
    assert language.code == 2 and "Langue inconnue : de" in language.err
    chat = await voisins(tmp_path, "chat", "--as", "hello")
    assert chat.code == 2 and "Ce n'est pas un numéro de téléphone : hello" in chat.err
    added = await voisins(tmp_path, "people", "add", "--name", "Awa", "--role", "staff", "--role", "admin")
    assert added.code == 0 and "Équipe, Administrateur" in added.out
    listed = await voisins(tmp_path, "people", "list")
    assert "Code membre" in listed.out and "Téléphone" in listed.out
    said = "\n".join(ran.out + ran.err for ran in (phone, language, chat, added, listed))
    assert ENGLISH.search(said) is None, said


# The examples work -----------------------------------------------------------------------------


async def test_every_example_of_the_trocshop_help_works(tmp_path: Path) -> None:
    """The amounts shown by `troc credit --help` and the floor of `troc floor --help` work as written."""
    await karim(tmp_path)
    credit_help = await voisins(tmp_path, "troc", "credit", "--help")
    floor_help = await voisins(tmp_path, "troc", "floor", "--help")
    for example in AMOUNT_EXAMPLES:
        assert example in credit_help.out
        ran = await voisins(tmp_path, "troc", "credit", "GV-K7P2", example, "--reason", "atelier")
        assert ran.code == 0, (example, ran.err)
    assert str(FLOOR_EXAMPLE) in floor_help.out
    lowered = await voisins(tmp_path, "troc", "floor", "GV-K7P2", str(FLOOR_EXAMPLE))
    assert lowered.code == 0, lowered.err
    assert f"{FLOOR_EXAMPLE} min" in lowered.out
    unknown = await voisins(tmp_path, "troc", "floor", "GV-K7P2", "-60", "--bogus")
    assert unknown.code == 2


async def test_the_readme_examples_work(tmp_path: Path) -> None:
    """`voisins chat --as 06 39 98 00 02` and the README's `voisins people` and `troc` lines run as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (chat_line,) = re.findall(r"`voisins (chat --as [^`]+)`", readme)
    chat = await voisins(tmp_path, *shlex.split(chat_line), stdin=b"aide\n/quit\n")
    assert chat.code == 0, chat.err
    assert "crivez votre question" in chat.out  # Karim, the demo person with that number, reads French
    async with opened_store(tmp_path / "run.db") as store:
        row = await store.fetchone("SELECT COUNT(*) FROM identities WHERE address = '+33639980002'")
    assert row is not None and row[0] == 1
    write(tmp_path / "roster.csv", [HEADER, "Fatou Sow;06 39 98 00 51;;resident;fr;"])
    lines = re.findall(r"^\.venv/bin/voisins ((?:people|troc) .*?)(?:\s+#.*)?$", readme, re.MULTILINE)
    assert len(lines) >= 6
    for line in lines:
        ran = await voisins(tmp_path, *shlex.split(line))
        assert ran.code == 0, (line, ran.err)


async def test_chat_as_takes_a_number_with_spaces(tmp_path: Path) -> None:
    """Unquoted `--as 06 39 98 00 03` is one number; words after `chat` without --as are refused in French."""
    ran = await voisins(tmp_path, "chat", "--as", "06", "39", "98", "00", "03", stdin=b"aide\n/quit\n")
    assert ran.code == 0, ran.err
    assert "Type your question" in ran.out  # the demo person with that number chose English
    stray = await voisins(tmp_path, "chat", "06", "39")
    assert stray.code == 2 and "voisins chat --as 06 39 98 00 02" in stray.err


# troc export is an export like the others ------------------------------------------------------


async def test_troc_export_asks_and_writes_a_french_excel_csv(tmp_path: Path) -> None:
    """`;` and a BOM by default, --separator `,`; an existing file is kept unless asked or --overwrite."""
    await karim(tmp_path)
    assert (await voisins(tmp_path, "troc", "credit", "GV-K7P2", "1h", "--reason", "=jardin")).code == 0
    journal = tmp_path / "journal.csv"
    first = await voisins(tmp_path, "troc", "export", str(journal))
    assert first.code == 0, first.err
    data = journal.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfentry;created_at;")
    with journal.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert sorted(int(r["minutes"]) for r in rows) == [-60, 60] and {r["memo"] for r in rows} == {"'=jardin"}
    kept = await voisins(tmp_path, "troc", "export", str(journal), "--separator", ",")
    assert kept.code == 1 and "existe déjà" in kept.err and journal.read_bytes() == data
    asked = await at_terminal(tmp_path, "troc", "export", str(journal), "--separator", ",", typed="o\n")
    assert asked.code == 0, asked.err
    assert journal.read_bytes().startswith(b"\xef\xbb\xbfentry,created_at,")
    forced = await voisins(tmp_path, "troc", "export", str(journal), "--overwrite")
    assert forced.code == 0 and journal.read_bytes() == data


# people import ---------------------------------------------------------------------------------


async def test_an_import_with_a_rejected_row_exits_1_and_prints_the_new_codes(tmp_path: Path) -> None:
    """A rejected row makes the exit code 1; every person created is printed with their member code."""
    file = write(
        tmp_path / "liste.csv",
        [HEADER, "Fatou Sow;06 39 98 00 51;;resident;fr;", "Jo;12345;;resident;fr;", "Ali;06 39 98 00 52;;worker;;"],
    )
    ran = await at_terminal(tmp_path, "people", "import", str(file), typed="")
    assert ran.code == 1, ran.out
    fatou = await person(tmp_path, "+33639980051")
    ali = await person(tmp_path, "+33639980052")
    assert fatou is not None and ali is not None
    for created in (fatou, ali):
        assert created.member_code is not None
        assert re.search(rf"{created.name}\s.*{created.member_code}", ran.out), ran.out
    assert "Code membre" in ran.out
    clean = write(tmp_path / "propre.csv", [HEADER, "Fatou Sow;06 39 98 00 51;;resident;fr;"])
    again = await voisins(tmp_path, "people", "import", str(clean))
    assert again.code == 0, again.out
    assert "Code membre" not in again.out  # nobody new
    dry = await voisins(tmp_path, "people", "import", str(file), "--dry-run")
    assert dry.code == 1


# How staff write several roles; the phone's last digits tell the rows apart.
SEVERAL_ROLES = [
    "Karim;06 39 98 00 61;;resident;worker;fr;",  # the roles' ";" split the cell, the code cell left empty
    "Karim;06 39 98 00 62;;resident;worker;fr",  # ... and no ";" for the empty code
    "Karim;06 39 98 00 63;;resident;worker;fr;GV-K7P2",  # ... with a code
    "Karim;06 39 98 00 64;;resident,worker;fr;",
    "Karim;06 39 98 00 65;;resident/worker;fr;",
    "Karim;06 39 98 00 66;;resident + worker;fr;",
    "Karim;06 39 98 00 67;;resident worker;fr;",
    'Karim;06 39 98 00 68;;"resident;worker";fr;',
]


async def test_several_roles_however_they_are_separated(tmp_path: Path) -> None:
    """`resident;worker` unquoted in a `;` file, or roles split by `,` `/` `+` or spaces: both roles, language fr."""
    ran = await voisins(tmp_path, "people", "import", str(write(tmp_path / "liste.csv", [HEADER, *SEVERAL_ROLES])))
    assert ran.code == 0, ran.out
    for row in SEVERAL_ROLES:
        found = await person(tmp_path, "+336399800" + row.split(";")[1][-2:])
        assert found is not None and found.roles == {"resident", "worker"} and found.language == "fr", row


async def test_a_role_left_in_the_language_column_says_how_to_write_roles(tmp_path: Path) -> None:
    """When the file cannot be read back unambiguously, the refusal says how to write several roles."""
    header = "name;phone;telegram_id;language;roles;member_code"
    ran = await voisins(
        tmp_path, "people", "import", str(write(tmp_path / "l.csv", [header, "Karim;06 39 98 00 02;;worker;fr;"]))
    )
    assert ran.code == 1
    assert "« worker » est un rôle" in ran.out and "resident/worker" in ran.out
