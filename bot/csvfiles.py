"""CSV files as staff's spreadsheets read and write them: one way for every import and export.

Decisions, made for a social worker with a French Excel:

- Reading: UTF-8 (with or without the BOM Excel writes for "CSV UTF-8") or UTF-16 with a BOM
  ("Texte Unicode"). A file that is not UTF-8 is read as Windows-1252, what a French Excel writes for
  "CSV (séparateur : point-virgule)", and :attr:`Table.guessed_encoding` says so. A workbook (.xlsx,
  .xls), a binary file or a file mixing encodings is refused (:class:`CsvFileError`).
- The separator is Excel's own ``sep=`` first line when there is one, else whichever of ``,``, ``;``
  or tab finds the most expected columns in the header line.
- Rows are known by their spreadsheet line (the header is line 1), blank rows skipped, so a report
  names the line staff see.
- Writing: UTF-8 with a BOM and ``;``, CRLF, so a double click opens it in columns with its accents
  in a French Excel; a cell Excel would run as a formula gets a leading quote.
- A file is written beside its target then renamed, readable by its owner only; an export never
  replaces an existing file unless asked.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import typer

from bot.cli_support import ask_yes_no, plain_console, settings_or_exit
from bot.config import Settings
from bot.i18n import I18n
from bot.text import fold

EXPORT_DELIMITER = ";"
EXPORT_ENCODING = "utf-8-sig"
DELIMITERS = (",", ";", "\t")
# Excel runs a cell starting with these as a formula: written with a leading quote, read back without.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Two-byte UTF-8 sequences (é is C3 A9) in a file that is not UTF-8: parts of it were.
_UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")

Why = TypeVar("Why")


class Separator(StrEnum):
    semicolon = ";"
    comma = ","


# The options every staff import and export command takes, said the same way everywhere.
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check the file and print the report without saving anything.")]
ExportSeparator = Annotated[
    Separator, typer.Option("--separator", help="';' opens in columns in a French Excel; ',' elsewhere.")
]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace the file if it exists.")]


class CsvFileError(Exception):
    """The whole file is refused and nothing is read from it; ``key`` is a catalog message id."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# Reading --------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read with; CsvFileError when it is not a text file."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvFileError("people.roster_workbook")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise CsvFileError("people.roster_encoding") from None
    if b"\x00" in data:
        raise CsvFileError("people.roster_binary")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _UTF8_PAIR.search(data):
        raise CsvFileError("people.roster_mixed_encoding")
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise CsvFileError("people.roster_encoding") from None


def column_name(cell: str) -> str:
    """A header cell as a column name: "Code membre" -> "code_membre", "Téléphone" -> "telephone"."""
    return fold(cell).replace(" ", "_")


@dataclass(frozen=True)
class Table:
    """A decoded file: its header and its non-blank records by spreadsheet line (the header is line 1)."""

    encoding: str
    delimiter: str
    header: list[str]  # the header cells as written
    columns: list[str]  # their names, as the reader's ``name`` function read them
    records: list[tuple[int, list[str]]]

    @property
    def guessed_encoding(self) -> bool:
        """True when the file was not Unicode and was read as Windows-1252: accents are worth a look."""
        return self.encoding == "cp1252"

    def missing(self, wanted: Sequence[str]) -> list[str]:
        return [column for column in wanted if column not in self.columns]

    def rows(self, wanted: Sequence[str], *, strip: bool = False) -> list[tuple[int, dict[str, str]]]:
        """The ``wanted`` cells of each row by line; a short row reads as empty cells."""
        position = {column: self.columns.index(column) for column in wanted}
        rows = []
        for line, record in self.records:
            padded = record + [""] * (len(self.columns) - len(record))
            cells = {column: padded[index] for column, index in position.items()}
            rows.append((line, {k: v.strip() for k, v in cells.items()} if strip else cells))
        return rows

    def long_rows(self) -> dict[int, int]:
        """Line -> number of cells, for the rows with something written beyond the header's last column."""
        width = len(self.columns)
        return {
            line: len(record)
            for line, record in self.records
            if len(record) > width and any(cell.strip() for cell in record[width:])
        }


def read_table(data: bytes, expected: Sequence[str], name: Callable[[str], str] = column_name) -> Table:
    """Decode, find the separator (the one that finds most ``expected`` columns) and read every record.

    CsvFileError when the file is no text or holds nothing. Which columns are missing is the
    caller's to say (:meth:`Table.missing`), each import in its own words.
    """
    text, encoding = decode(data)
    if not text.strip():
        raise CsvFileError("people.roster_empty")
    first = text.split("\n", 1)
    hint = first[0].rstrip("\r\n ")
    if hint.lower().startswith("sep=") and len(hint) == 5:
        delimiter = hint[4]  # Excel's own hint; Excel does not show that line
        text = first[1] if len(first) > 1 else ""
    else:
        wanted = set(expected)
        delimiter = max(
            DELIMITERS,
            key=lambda d: len({name(cell) for cell in next(csv.reader([first[0]], delimiter=d), [])} & wanted),
        )
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    except csv.Error:
        raise CsvFileError("people.roster_binary") from None
    if not records:
        raise CsvFileError("people.roster_empty")
    body = [(line, record) for line, record in enumerate(records[1:], start=2) if any(cell.strip() for cell in record)]
    return Table(encoding, delimiter, records[0], [name(cell) for cell in records[0]], body)


def unquote_cell(text: str) -> str:
    """What :func:`safe_cell` wrote, read back: "'=A1" -> "=A1"."""
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_START else text


# A report, row by row ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A row an import refused: its line, and why as a catalog key with its parameters."""

    line: int
    key: str
    params: Mapping[str, object]


@dataclass
class RowReport(Generic[Why]):
    """What an import did with its rows: those already there, and each refused one with its line."""

    unchanged: int = 0
    rejected: list[Why] = field(default_factory=list)


# Writing ------------------------------------------------------------------------------------


def safe_cell(text: str) -> str:
    """A cell typed as "=...", "+33...", "-1" or "@..." stays text in a spreadsheet, never a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, object] | Sequence[object]],
    *,
    delimiter: str = EXPORT_DELIMITER,
    encoding: str = EXPORT_ENCODING,
) -> bytes:
    """The file's bytes: the header, then one line per row (a dict by column, or cells in order), CRLF."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = [row.get(column, "") for column in columns] if isinstance(row, Mapping) else row
        writer.writerow([safe_cell(cell) if isinstance(cell, str) else cell for cell in cells])
    return out.getvalue().encode(encoding)


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: a failure never leaves half a file.

    The file is readable by its owner only: exports hold names and phone numbers.
    """
    path = path.resolve()
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def keep_existing_file(file: Path, overwrite: bool, i18n: I18n) -> None:
    """An export never replaces a file unasked: --overwrite, or a yes at a terminal; otherwise exit 1."""
    if file.exists() and not overwrite:
        lang = i18n.default_language
        if not (sys.stdin.isatty() and ask_yes_no(i18n.t(lang, "people.export_replace", file=file), i18n)):
            typer.echo(i18n.t(lang, "people.export_exists", file=file), err=True)
            raise typer.Exit(1)


def save_export(file: Path, data: bytes, i18n: I18n) -> None:
    """Write an export for a staff command; a full disk or a folder one may not write in is one line, exit 1."""
    try:
        write_atomically(file, data)
    except OSError as exc:
        error = exc.strerror or exc
        typer.echo(i18n.t(i18n.default_language, "people.roster_unwritable", file=file, error=error), err=True)
        raise typer.Exit(1) from None


def export_command(
    file: Path,
    overwrite: bool,
    make: Callable[[Settings, I18n], Coroutine[Any, Any, tuple[bytes, int]]],
    done: str,
) -> None:
    """A staff command's export: ask before replacing ``file``, make its bytes and row count, write it,
    then say ``done`` (a catalog key given ``count`` and ``file``)."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    keep_existing_file(file, overwrite, i18n)
    data, count = asyncio.run(make(settings, i18n))
    save_export(file, data, i18n)
    plain_console().print(i18n.t(i18n.default_language, done, count=count, file=file))


def print_report(
    i18n: I18n,
    *,
    title: str,
    counts: str,
    rejected: Sequence[Rejected],
    dry_run: bool,
    notes: Sequence[str] = (),
) -> None:
    """An import's report for a staff command, in ``DEFAULT_LANGUAGE``: its title and notes (the
    encoding guessed, the columns ignored), the counts, each refused row by its line, then what to do."""
    lang = i18n.default_language
    out = plain_console()
    out.print(title)
    for note in notes:
        out.print(note)
    out.print(counts)
    for row in rejected:
        out.print(i18n.t(lang, "people.report_line", line=row.line, reason=i18n.t(lang, row.key, **row.params)))
    if rejected:
        out.print(i18n.t(lang, "people.report_fix_and_retry"))
    if dry_run:
        out.print(i18n.t(lang, "people.report_dry_run"))


def table_notes(
    i18n: I18n, file: Path, encoding: str, delimiter: str, guessed: bool, ignored: Sequence[str]
) -> list[str]:
    """The title of a CSV import's report and what is worth a look: a guessed encoding, ignored columns."""
    lang = i18n.default_language
    separator = i18n.t(lang, {",": "people.sep_comma", ";": "people.sep_semicolon"}.get(delimiter, "people.sep_tab"))
    lines = [i18n.t(lang, "people.report_title", file=file.name, encoding=encoding, separator=separator)]
    if guessed:
        lines.append(i18n.t(lang, "people.report_cp1252"))
    if ignored:
        lines.append(i18n.t(lang, "people.report_ignored_columns", columns=", ".join(ignored)))
    return lines


def read_or_exit(file: Path, i18n: I18n) -> bytes:
    """A staff command's input file, or one line saying why it cannot be read and exit 1."""
    try:
        return file.read_bytes()
    except OSError as exc:
        error = exc.strerror or exc
        typer.echo(i18n.t(i18n.default_language, "people.roster_unreadable", file=file, error=error), err=True)
        raise typer.Exit(1) from None
