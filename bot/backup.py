"""``voisins backup``: a consistent copy of the live database, taken while the bot runs.

SQLite's online backup API copies the database page by page. Between two steps the bot may
write; SQLite then restarts the copy from the first page, and a busy bot could keep it restarting
for ever. So the copy reads inside one read transaction: in WAL mode a reader never blocks the
bot's writes, and every step sees the same snapshot, so the copy is the database as it was at
that one moment. A short sleep between steps leaves the disk to the bot.

The copy is written to a temporary file beside the target, checked (``PRAGMA integrity_check``),
flushed to disk, and only then given its name, so a backup file is never half-written.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PAGES_PER_STEP = 256  # 1 MB with SQLite's default 4 KB pages
PAUSE_SECONDS = 0.005


class BackupError(Exception):
    """A backup that could not be made; ``key`` (a catalog message id) and ``params`` say why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    counts: dict[str, int]


def default_name(now: datetime) -> str:
    """``voisins-20261125-100000.db``: sorts by date, and two backups a second apart do not clash."""
    return f"voisins-{now:%Y%m%d-%H%M%S}.db"


def target_path(database: Path, path: Path | None, now: datetime) -> Path:
    """Where the copy goes: PATH, or a dated file inside PATH when it is a folder (var/backups/ by default)."""
    if path is None:
        folder = database.parent / "backups"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError("core.backup_folder_failed", folder=folder, reason=exc.strerror or exc) from None
        return folder / default_name(now)
    if path.is_dir():
        return path / default_name(now)
    return path


def backup(database: Path, target: Path, *, overwrite: bool = False) -> Backup:
    """Copy ``database`` to ``target``; raises :class:`BackupError` with a clear reason, leaving nothing behind."""
    if not database.is_file():
        raise BackupError("core.backup_no_database", file=database)
    if target.exists() and not overwrite:
        raise BackupError("core.backup_exists", file=target)
    if target.exists() and target.resolve() == database.resolve():
        raise BackupError("core.backup_is_database")
    if not target.parent.is_dir():
        raise BackupError("core.backup_no_folder", folder=target.parent)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        _copy(database, Path(temporary))
        counts = _check(Path(temporary))
        _flush(Path(temporary))
        if overwrite:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)  # fails if the name was taken meanwhile: never overwrite by accident
            except FileExistsError:
                raise BackupError("core.backup_exists", file=target) from None
            os.unlink(temporary)
    except sqlite3.Error as exc:
        raise BackupError("core.backup_failed", reason=exc) from None
    except OSError as exc:
        raise BackupError("core.backup_unwritten", reason=exc.strerror or exc) from None
    finally:
        for leftover in (temporary, temporary + "-wal", temporary + "-shm", temporary + "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
    return Backup(target, target.stat().st_size, counts)


def _copy(database: Path, temporary: Path) -> None:
    # mode=rw: a mistyped DATABASE_PATH must not create an empty database and back it up.
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=10)
    try:
        source.execute("BEGIN")
        source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        copy = sqlite3.connect(temporary, isolation_level=None)
        try:
            source.backup(copy, pages=PAGES_PER_STEP, progress=lambda *_: time.sleep(PAUSE_SECONDS))
        finally:
            copy.close()
        source.execute("COMMIT")
    finally:
        source.close()


def _check(path: Path) -> dict[str, int]:
    """The copy's integrity, and how many rows each table holds (what the staff can compare)."""
    copy = sqlite3.connect(path, isolation_level=None)
    try:
        result = [row[0] for row in copy.execute("PRAGMA integrity_check").fetchall()]
        if result != ["ok"]:
            raise BackupError("The copy failed its integrity check: " + "; ".join(result[:5]))
        tables = [
            row[0]
            for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {}
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            counts[table] = int(copy.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0])  # noqa: S608
        # The copy carries the source's WAL flag; fold everything into the one file we keep.
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.execute("PRAGMA journal_mode=DELETE")
        return counts
    finally:
        copy.close()


def _flush(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())
