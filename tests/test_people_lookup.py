"""The one member-code lookup every feature uses, and the CSV plumbing every import and export shares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import csvfiles, people
from bot.messages import Channel
from bot.store import Store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Refused(Exception):
    """A feature's own refusal, built as ``ShiftError`` or ``LedgerError`` are: a key and parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@pytest.fixture
async def store(store: Store) -> Store:
    """The shared database with Karim (GV-K7P2, a phone) registered and one guest who wrote once."""
    await people.add_person(store, NOW, "Karim", {"worker"}, phone="+33639980002", member_code="GV-K7P2")
    await people.identify(store, Channel.SMS, "+33639980099", NOW)
    return store


@pytest.mark.parametrize("typed", ["GV-K7P2", "gv k7p2", "gv-k7p2", "k7p2", " GV K7P2 ", "GVK7P2"])
async def test_a_member_code_is_found_however_staff_type_it(store: Store, typed: str) -> None:
    """Upper or lower case, with or without the GV prefix, dash or space: the same person."""
    async with store.transaction() as db:
        found = await people.by_code(db, typed)
    assert found is not None and found.name == "Karim" and found.member_code == "GV-K7P2"


@pytest.mark.parametrize("typed", ["GV-ZZZZ", "GV-K7P", "", "Lingerie", "06 39 98 00 02", "+33639980099"])
async def test_no_code_or_an_unknown_one_finds_nobody(store: Store, typed: str) -> None:
    """A code nobody has, something that is no code, and a phone without ``phone=True``: None."""
    async with store.transaction() as db:
        assert await people.by_code(db, typed) is None


async def test_a_phone_names_a_registered_person_only_when_asked(store: Store) -> None:
    """With ``phone``, a registered number names them; a guest's number and a short number never do."""
    async with store.transaction() as db:
        by_phone = await people.by_code(db, "06 39 98 00 02", phone=True)
        assert by_phone is not None and by_phone.member_code == "GV-K7P2"
        assert await people.by_code(db, "+33 6 39 98 00 99", phone=True) is None  # a guest
        assert await people.by_code(db, "Atelier 12", phone=True) is None
    assert people.member_key("06 39 98 00 02") == "+33639980002"
    assert people.member_key("gv k7p2") == "GV-K7P2"
    assert people.member_key("Lingerie 2") is None


async def test_require_raises_the_features_own_refusal(store: Store) -> None:
    """Nobody found raises the caller's error with its key and what was typed, cut to 20 characters."""
    async with store.transaction() as db:
        assert (await people.require_by_code(db, "k7p2", Refused, "feature.unknown")).name == "Karim"
        with pytest.raises(Refused) as refused:
            await people.require_by_code(db, "GV-ZZZZ and much more text", Refused, "feature.unknown")
    assert refused.value.key == "feature.unknown"
    assert refused.value.params == {"code": "GV-ZZZZ and much mor"}


# CSV files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        ("name;code\r\nÉlodie;GV-K7P2\r\n".encode("utf-8-sig"), "utf-8", ";"),
        ("name,code\nÉlodie,GV-K7P2\n".encode(), "utf-8", ","),
        ("name;code\r\nÉlodie;GV-K7P2\r\n".encode("cp1252"), "cp1252", ";"),
        ("name\tcode\r\nÉlodie\tGV-K7P2\r\n".encode("utf-16"), "utf-16", "\t"),
        ("sep=,\r\nname,code\r\nÉlodie,GV-K7P2\r\n".encode(), "utf-8", ","),
    ],
)
def test_a_spreadsheet_is_read_whatever_excel_saved(data: bytes, encoding: str, delimiter: str) -> None:
    """UTF-8 with or without BOM, Windows-1252, UTF-16, and Excel's sep= line; rows keep their line."""
    table = csvfiles.read_table(data, ("name", "code"))
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    assert table.rows(("name", "code")) == [(2, {"name": "Élodie", "code": "GV-K7P2"})]
    assert table.guessed_encoding == (encoding == "cp1252")


def test_blank_short_and_long_rows_keep_their_spreadsheet_line() -> None:
    """A blank row is skipped but counted; a short row reads as empty cells; a long one is named."""
    table = csvfiles.read_table(b"name;code\n\nAwa\nKarim;GV-K7P2;extra\n", ("name", "code"))
    assert table.rows(("code",)) == [(3, {"code": ""}), (4, {"code": "GV-K7P2"})]
    assert table.long_rows() == {4: 3}
    assert table.missing(("name", "phone")) == ["phone"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"PK\x03\x04workbook", "people.roster_workbook"),
        (b"name\x00code", "people.roster_binary"),
        ("é".encode() + "è".encode("cp1252"), "people.roster_mixed_encoding"),
        (b"  \r\n", "people.roster_empty"),
    ],
)
def test_a_file_that_is_no_csv_is_refused(data: bytes, key: str) -> None:
    """A workbook, a binary file, mixed encodings or nothing at all: refused with a catalog key."""
    with pytest.raises(csvfiles.CsvFileError) as refused:
        csvfiles.read_table(data, ("name",))
    assert refused.value.key == key


def test_a_written_cell_never_runs_as_a_formula() -> None:
    """=, +, -, @ at the start of a text cell get a quote (numbers stay numbers), and read back without."""
    data = csvfiles.to_csv(("a", "b", "c"), [["=1+1", -90, "@SUM(A1)"], {"a": "+33 6", "c": "plain"}])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig") == "a;b;c\r\n'=1+1;-90;'@SUM(A1)\r\n'+33 6;;plain\r\n"
    assert csvfiles.unquote_cell("'=1+1") == "=1+1" and csvfiles.unquote_cell("'Awa") == "'Awa"
