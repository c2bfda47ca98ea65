"""The roster as a CSV file: staff keep their list of people in a spreadsheet and import or export it.

Plain functions over the store, so the command line and the chat say the same thing. Every reason
(a refused file, a rejected row) is a catalog key with parameters, never text, so a report is
shown in the reader's language.

Decisions, made for a social worker with a French Excel (the file itself, its encodings,
separators and formula cells, is :mod:`bot.csvfiles`'s, shared with every other import and export):

- A file that was read as Windows-1252 is said in the report, and a refused file says how to save it.
- Header names may be French (``Téléphone``, ``Nom``); roles too (``bénévole``); a language is a code of
  ``LANGUAGES`` or its name in any of them (``anglais``, ``English``, ``español``).
- French phone numbers are written as ``06 12 34 56 78`` (text for Excel, which would drop the
  0 or the +), other numbers as ``0044 ...``. The same file imports back unchanged.
- Each row is its own transaction: a rejected row writes nothing, an interrupted import leaves
  whole rows only, and importing again finishes the job (the import is idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import aiosqlite
import phonenumbers

from bot import csvfiles, people
from bot.csvfiles import (
    EXPORT_DELIMITER,
    CsvFileError,
    Rejected,
    RowReport,
    column_name,
    read_table,
    safe_cell,
    unquote_cell,
)
from bot.i18n import I18n
from bot.messages import Channel
from bot.people import PeopleError, Role
from bot.store import Store
from bot.text import clean, fold

COLUMNS = ("name", "phone", "telegram_id", "roles", "language", "member_code")
ROLE_SEPARATOR = ";"
MAX_NAME = 80

# Header names a French spreadsheet may carry, folded (see bot.text.fold) with "_" for spaces.
COLUMN_ALIASES = {
    "nom": "name",
    "prenom_nom": "name",
    "nom_prenom": "name",
    "telephone": "phone",
    "tel": "phone",
    "portable": "phone",
    "telegram": "telegram_id",
    "id_telegram": "telegram_id",
    "role": "roles",
    "langue": "language",
    "lang": "language",
    "code": "member_code",
    "code_membre": "member_code",
}

# What staff type for a role, folded; the Role values always work.
ROLE_WORDS: dict[str, Role] = {
    **{role.value: role for role in Role},
    "residente": Role.RESIDENT,
    "heberge": Role.RESIDENT,
    "hebergee": Role.RESIDENT,
    "travailleur": Role.WORKER,
    "travailleuse": Role.WORKER,
    "conciergerie": Role.WORKER,
    "benevole": Role.VOLUNTEER,
    "equipe": Role.STAFF,
    "administrateur": Role.ADMIN,
    "administratrice": Role.ADMIN,
}

_PHONE_CHARACTERS = re.compile(r"^[0-9 +.()/-]+$")
_TELEGRAM_ID = re.compile(r"^([0-9]{1,15})(?:\.0+)?$")  # a spreadsheet may write 123456789.0
_ROLE_SPLIT = re.compile(r"[;,/|+\s]+")
# Columns where a role name is never a value: one found there is the roles cell, split by the separator.
_NO_ROLE_HERE = frozenset({"phone", "telegram_id", "language", "member_code"})


class RowError(PeopleError):
    """One row is rejected; its transaction rolls back, so it writes nothing."""


@dataclass(frozen=True)
class RosterFile:
    """A decoded, checked file: its rows by spreadsheet line number (the header is line 1)."""

    encoding: str
    delimiter: str
    rows: list[tuple[int, dict[str, str]]]
    ignored_columns: tuple[str, ...] = ()
    cells: dict[int, int] = field(default_factory=dict)  # line -> cells, for rows longer than the header

    @property
    def guessed_encoding(self) -> bool:
        """True when the file was not Unicode and was read as Windows-1252: accents are worth a look."""
        return self.encoding == "cp1252"


@dataclass(frozen=True)
class Created:
    """A person an import registered, with the member code staff now hand out to them."""

    line: int
    name: str
    member_code: str


@dataclass
class ImportReport(RowReport[Rejected]):
    created: int = 0
    updated: int = 0
    dry_run: bool = False
    new: list[Created] = field(default_factory=list)  # empty in a dry run: its codes are not kept

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


@dataclass(frozen=True)
class Entry:
    """One row, checked: what the file says about a person."""

    name: str
    phone: str | None
    telegram_id: str | None
    roles: frozenset[str]
    language: str | None
    member_code: str | None


# Reading --------------------------------------------------------------------------------------


def _column(name: str) -> str:
    key = column_name(name)
    return COLUMN_ALIASES.get(key, key)


def parse(data: bytes) -> RosterFile:
    """Decode, find the separator and check the header; CsvFileError names what is wrong."""
    table = read_table(data, COLUMNS, _column)
    missing = table.missing(COLUMNS)
    if missing:
        raise CsvFileError(
            "people.roster_missing_columns", columns=", ".join(missing), header=EXPORT_DELIMITER.join(COLUMNS)
        )
    ignored = tuple(
        name for name, column in zip(table.header, table.columns, strict=True) if column not in COLUMNS and name
    )
    table = replace(table, records=[(line, _roles_rejoined(record, table.columns)) for line, record in table.records])
    return RosterFile(table.encoding, table.delimiter, table.rows(COLUMNS), ignored, table.long_rows())


def _roles_rejoined(record: list[str], columns: Sequence[str]) -> list[str]:
    """``resident;worker`` typed unquoted in a ``;`` file (or ``resident,worker`` in a ``,`` file) is
    two cells, and the language column reads "worker". The cells after the roles cell that name roles
    only go back into it when the row is too long or a role lands where none can be; when a column
    the import ignores follows the roles, the row is read as written."""
    at = columns.index("roles")
    end = at
    while end < len(record) and only_roles(record[end]):
        end += 1
    if end - at < 2:
        return record
    following = columns[at + 1] if at + 1 < len(columns) else None
    if len(record) <= len(columns) and following not in _NO_ROLE_HERE:
        return record
    return [*record[:at], ROLE_SEPARATOR.join(cell.strip() for cell in record[at:end]), *record[end:]]


# Checking one row ---------------------------------------------------------------------------


def parse_phone(value: str) -> str | None:
    """06..., +33 6..., 0033 6..., 6 12... (Excel drops the 0), 336... (Excel drops the +): E.164 or None."""
    value = value.strip()
    if not value or not _PHONE_CHARACTERS.match(value):
        return None
    return people.normalise_phone(value)


def parse_roles(value: str) -> tuple[frozenset[str], list[str]]:
    """The roles named in a cell, and the words that are no role."""
    roles: set[str] = set()
    unknown: list[str] = []
    for word in _ROLE_SPLIT.split(value.strip()):
        if not word:
            continue
        role = role_from_word(word)
        if role is None:
            unknown.append(word)
        else:
            roles.add(role.value)
    return frozenset(roles), unknown


def only_roles(cell: str) -> bool:
    """True when the cell names roles and nothing else."""
    roles, unknown = parse_roles(cell)
    return bool(roles) and not unknown


def role_from_word(word: str) -> Role | None:
    """A role from its value or its French name, with or without accents or a plural s."""
    key = fold(word).replace(" ", "")
    return ROLE_WORDS.get(key) or (ROLE_WORDS.get(key[:-1]) if key.endswith("s") else None)


def ordered_roles(roles: Iterable[str]) -> list[str]:
    """Roles in the order of :class:`Role` (resident first), as every list shows them."""
    wanted = set(roles)
    return [role.value for role in Role if role.value in wanted]


def _name(value: str) -> str:
    return unquote_cell(clean(value, limit=MAX_NAME * 2))


def check_row(cells: Mapping[str, str], i18n: I18n) -> Entry:
    """One row's cells as an :class:`Entry`; RowError says the first thing wrong."""
    name = _name(cells["name"])
    if not name:
        raise RowError("people.row_no_name")
    if len(name) > MAX_NAME:
        raise RowError("people.row_long_name", max=MAX_NAME)
    phone = None
    if cells["phone"].strip():
        phone = parse_phone(cells["phone"])
        if phone is None:
            raise RowError("people.row_bad_phone", value=clean(cells["phone"], 40))
    telegram_id = None
    if cells["telegram_id"].strip():
        match = _TELEGRAM_ID.match(cells["telegram_id"].strip())
        if match is None:
            raise RowError("people.row_bad_telegram", value=clean(cells["telegram_id"], 40))
        telegram_id = match.group(1)
    language = None
    typed = cells["language"].strip()
    if typed:
        codes = i18n.languages
        language = next((code for code in (typed, fold(typed)) if code in codes), None) or i18n.language_named(typed)
        if language is None and only_roles(typed):
            raise RowError("people.row_role_in_language", value=clean(typed, 20))
        if language is None:
            raise RowError("people.row_bad_language", value=clean(typed, 20), known=", ".join(codes))
    roles, unknown = parse_roles(cells["roles"])
    if unknown:
        known = ", ".join(role.value for role in Role)
        raise RowError("people.row_unknown_role", role=clean(", ".join(unknown), 60), known=known)
    member_code = None
    if cells["member_code"].strip():
        member_code = people.normalise_member_code(cells["member_code"])
        if member_code is None:
            raise RowError("people.row_bad_code", value=clean(cells["member_code"], 20))
    return Entry(name, phone, telegram_id, roles, language, member_code)


# Writing ------------------------------------------------------------------------------------


async def replace_identity(
    db: aiosqlite.Connection, now: datetime, person_id: int, channel: Channel, address: str
) -> bool:
    """Make ``address`` the person's one identity on ``channel``, inside the caller's transaction.

    False when it already was one of theirs (nothing changes). Otherwise the person's other
    identities on that channel are removed: a lost or stolen phone must stop receiving their
    reminders. One that belongs to another registered person raises PeopleError.
    """
    async with db.execute(
        "SELECT address FROM identities WHERE person_id = ? AND channel = ?", (person_id, channel.value)
    ) as cursor:
        own = {row[0] for row in await cursor.fetchall()}
    if address in own:
        return False
    await people.attach_identity(db, now, person_id, channel, address)
    await db.execute(
        "DELETE FROM identities WHERE person_id = ? AND channel = ? AND address != ?",
        (person_id, channel.value, address),
    )
    if channel is Channel.SMS:  # the old number's WhatsApp goes with it
        for old in own:
            await db.execute(
                "DELETE FROM identities WHERE person_id = ? AND channel = ? AND address = ?",
                (person_id, Channel.WHATSAPP.value, old),
            )
    return True


async def member_code_of(db: aiosqlite.Connection, person_id: int) -> str:
    async with db.execute("SELECT member_code FROM persons WHERE id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row and row[0] else "?"


async def _by_name(db: aiosqlite.Connection, name: str) -> int | None:
    """A row with no code, phone or Telegram id is recognised by its name, when only one person has it."""
    async with db.execute(
        "SELECT id FROM persons WHERE status = 'active' AND name = ? COLLATE NOCASE", (name,)
    ) as cursor:
        found = [int(row[0]) for row in await cursor.fetchall()]
    if len(found) > 1:
        raise RowError("people.row_same_name", count=len(found), name=name)
    return found[0] if found else None


async def _match(db: aiosqlite.Connection, entry: Entry) -> int | None:
    """The registered person a row is about: member code, else phone, else Telegram id, else name."""
    by_phone = await people.find_person_id(db, phone=entry.phone) if entry.phone else None
    by_telegram = await people.find_person_id(db, telegram_id=entry.telegram_id) if entry.telegram_id else None
    if entry.member_code:
        target = await people.find_person_id(db, member_code=entry.member_code)
    elif entry.phone or entry.telegram_id:
        target = by_phone or by_telegram
    else:
        target = await _by_name(db, entry.name)
    if by_phone is not None and by_phone != target:
        raise RowError("people.row_phone_taken", code=await member_code_of(db, by_phone))
    if by_telegram is not None and by_telegram != target:
        raise RowError("people.row_telegram_taken", code=await member_code_of(db, by_telegram))
    return target


async def _apply(db: aiosqlite.Connection, now: datetime, entry: Entry) -> tuple[str, int]:
    """Create or update one person from one row: 'created', 'updated' or 'unchanged', and who."""
    target = await _match(db, entry)
    if target is None:
        if not entry.roles:
            raise RowError("people.row_no_role")
        person_id = await people.register(db, now, entry.name, entry.roles, entry.language, entry.member_code)
        for channel, address in ((Channel.SMS, entry.phone), (Channel.TELEGRAM, entry.telegram_id)):
            if address:
                await replace_identity(db, now, person_id, channel, address)
        return "created", person_id
    person = await people.get_person(db, target)
    changed = False
    if not entry.roles and person.roles:
        raise RowError("people.row_no_role")  # an empty cell never takes every role away
    if entry.roles and entry.roles != person.roles:
        await people.set_roles(db, target, entry.roles)
        changed = True
    if entry.name != person.name:
        await db.execute("UPDATE persons SET name = ? WHERE id = ?", (entry.name, target))
        changed = True
    if entry.language and entry.language != person.language:
        await db.execute("UPDATE persons SET language = ? WHERE id = ?", (entry.language, target))
        changed = True
    for channel, address in ((Channel.SMS, entry.phone), (Channel.TELEGRAM, entry.telegram_id)):
        if address and await replace_identity(db, now, target, channel, address):
            changed = True
    return ("updated" if changed else "unchanged"), target


class _DryRun(Exception):
    """Rolls a row back after it was applied, to report without writing."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _keys(entry: Entry) -> list[tuple[str, str]]:
    keys = [(kind, value) for kind, value in (("code", entry.member_code), ("phone", entry.phone)) if value]
    if entry.telegram_id:
        keys.append(("telegram", entry.telegram_id))
    if not keys:
        keys.append(("name", entry.name.casefold()))
    return keys


async def import_roster(
    store: Store,
    now: datetime,
    roster: RosterFile,
    i18n: I18n,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update one person per row, each row in its own transaction.

    A second row naming the same member code, phone, Telegram id (or, without any of these, the
    same name) as an earlier accepted row is rejected: the file says two things about one person.
    ``progress`` is called after each row with the number of rows done.
    """
    report = ImportReport(dry_run=dry_run)
    seen: dict[tuple[str, str], int] = {}
    for done, (line, cells) in enumerate(roster.rows, start=1):
        try:
            if line in roster.cells:
                raise RowError("people.row_cells", count=roster.cells[line], expected=len(COLUMNS))
            entry = check_row(cells, i18n)
            for key in _keys(entry):
                if key in seen:
                    raise RowError(f"people.row_duplicate_{key[0]}", line=seen[key])
            code = None
            try:
                async with store.transaction() as db:
                    outcome, person_id = await _apply(db, now, entry)
                    if dry_run:
                        raise _DryRun(outcome)
                    if outcome == "created":
                        code = await member_code_of(db, person_id)
            except _DryRun as rolled_back:
                outcome = rolled_back.outcome
        except PeopleError as exc:
            report.rejected.append(Rejected(line, exc.key, dict(exc.params)))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
            if code is not None:
                report.new.append(Created(line, entry.name, code))
            for key in _keys(entry):
                seen[key] = line
        if progress is not None:
            progress(done)
    return report


# Export -------------------------------------------------------------------------------------


def display_phone(e164: str) -> str:
    """How a person reads a number: ``06 12 34 56 78`` in France, ``+44 7911 123456`` abroad."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(number, style.NATIONAL if number.country_code == 33 else style.INTERNATIONAL)


def format_phone(e164: str) -> str:
    """How a number is exported: as shown, but ``0044 ...`` for ``+44 ...``.

    Never a leading + (Excel reads it as a formula) nor digits only (Excel drops the leading 0).
    """
    shown = display_phone(e164)
    return "00" + shown[1:] if shown.startswith("+") else shown


async def roster_rows(store: Store) -> list[dict[str, str]]:
    """Every registered person (never a guest) as CSV cells, in the order they were registered."""
    persons = await store.fetchall(
        "SELECT id, name, member_code, language FROM persons WHERE status = 'active' ORDER BY id"
    )
    roles: dict[int, set[str]] = {}
    for row in await store.fetchall(
        "SELECT r.person_id, r.role FROM person_roles r JOIN persons p ON p.id = r.person_id WHERE p.status = 'active'"
    ):
        roles.setdefault(row[0], set()).add(row[1])
    identities: dict[tuple[int, str], str] = {}
    for row in await store.fetchall(
        "SELECT i.person_id, i.channel, i.address FROM identities i JOIN persons p ON p.id = i.person_id"
        " WHERE p.status = 'active' AND i.channel IN (?, ?) ORDER BY i.id",
        (Channel.SMS.value, Channel.TELEGRAM.value),
    ):
        identities.setdefault((row[0], row[1]), row[2])
    rows = []
    for person in persons:
        phone = identities.get((person["id"], Channel.SMS.value))
        rows.append(
            {
                "name": safe_cell(person["name"] or ""),
                "phone": format_phone(phone) if phone else "",
                "telegram_id": identities.get((person["id"], Channel.TELEGRAM.value), ""),
                "roles": ROLE_SEPARATOR.join(ordered_roles(roles.get(person["id"], ()))),
                "language": person["language"] or "",
                "member_code": person["member_code"] or "",
            }
        )
    return rows


def to_csv(rows: Iterable[Mapping[str, str]], delimiter: str = EXPORT_DELIMITER) -> bytes:
    """The roster file's bytes (see :mod:`bot.csvfiles`): the same file imports back unchanged."""
    return csvfiles.to_csv(COLUMNS, rows, delimiter=delimiter)
