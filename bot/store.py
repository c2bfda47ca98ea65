"""The SQLite store: one aiosqlite connection, numbered migrations, ``BEGIN IMMEDIATE`` transactions.

One connection serves the whole process; an asyncio lock serialises its use, so a transaction
never interleaves with another coroutine's statements on the same connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "data" / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

Params = Sequence[Any] | dict[str, Any]

FULL = "full"
READ_ONLY = "read-only"
# Less free space than this on the database's file system counts as full for /healthz.
MIN_FREE_BYTES = 64 * 1024


def unwritable_reason(exc: BaseException) -> str | None:
    """``FULL`` or ``READ_ONLY`` when SQLite refused a write for lack of space or of permission.

    Those are the site's bad days (a full disk, a volume mounted read-only): the person gets a
    "try again later" rather than a crash, and ``/healthz`` says why.
    """
    code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.Error) else None
    if code is None:
        return None
    primary = code & 0xFF  # extended codes (SQLITE_READONLY_DBMOVED...) keep the primary one in the low byte
    if primary == sqlite3.SQLITE_FULL:
        return FULL
    if primary == sqlite3.SQLITE_READONLY:
        return READ_ONLY
    return None


class Store:
    """The database of the bot. Use :meth:`open`, then ``async with store.transaction() as db``."""

    def __init__(self, path: Path | str, migrations_dir: Path = MIGRATIONS_DIR) -> None:
        self.path = str(path)
        self.migrations_dir = migrations_dir
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        # Why the last write failed (FULL, READ_ONLY), until a write succeeds again: for /healthz.
        self.write_failure: str | None = None

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None, timeout=10)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=10000")
            await db.execute("PRAGMA secure_delete=ON")
            await db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await db.close()  # a read-only or full disk: its thread would keep the process alive
            raise
        self._db = db
        await self.migrate()

    async def close(self) -> None:
        """Close the connection: aiosqlite's thread would otherwise keep the process alive."""
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    def _migrations(self) -> list[tuple[int, Path]]:
        found = []
        for path in sorted(self.migrations_dir.glob("*.sql")):
            match = _MIGRATION_NAME.match(path.name)
            if not match:
                raise RuntimeError(f"migration file name must look like 0001_name.sql: {path.name}")
            found.append((int(match.group(1)), path))
        return found

    async def migrate(self) -> None:
        """Apply the migrations not applied yet, each in its own transaction."""
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        async with self.db.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        for version, path in self._migrations():
            if version in applied:
                continue
            script = path.read_text(encoding="utf-8")
            async with self._lock:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(script):
                        await self.db.execute(statement)
                    await self.db.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, path.name)
                    )
                except BaseException:
                    await self.db.execute("ROLLBACK")
                    raise
                await self.db.execute("COMMIT")
            log.info("applied migration %s", path.name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read-then-write transaction: ``BEGIN IMMEDIATE`` takes the write lock before reading."""
        if self._owner is not None and self._owner is asyncio.current_task():
            raise RuntimeError("a transaction is already open in this task: use its connection")
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                changes = self.db.total_changes
                try:
                    await self.db.execute("BEGIN IMMEDIATE")
                    yield self.db
                    await self.db.execute("COMMIT")
                except BaseException as exc:
                    self._write_failed(exc)
                    # SQLite rolls back by itself on a full disk: a second ROLLBACK would hide why.
                    if self.db.in_transaction:
                        await self.db.execute("ROLLBACK")
                    raise
                if self.db.total_changes > changes:
                    self._write_succeeded()
            finally:
                self._owner = None

    def _write_failed(self, exc: BaseException) -> None:
        reason = unwritable_reason(exc)
        if reason is not None and reason != self.write_failure:
            log.error("the database cannot be written (%s): %s", reason, self.path)
        self.write_failure = reason or self.write_failure

    def _write_succeeded(self) -> None:
        if self.write_failure is not None:
            log.warning("the database can be written again: %s", self.path)
            self.write_failure = None

    async def unwritable(self) -> str | None:
        """Why writes fail now (``FULL``, ``READ_ONLY``), or None; cheap enough for every ``/healthz``.

        While all is well it writes nothing: the last write's outcome and the file system's free
        space and read-only flag. After a failed write it tries a tiny one (a table created and
        dropped in one transaction), so the answer clears once space or permission is back, even
        when no message comes to write something.
        """
        if self.write_failure is not None:
            with contextlib.suppress(sqlite3.Error):
                async with self.transaction() as db:
                    await db.execute("CREATE TABLE health_probe (x)")
                    await db.execute("DROP TABLE health_probe")
                self._write_succeeded()
        return self.write_failure or self._file_system()

    def _file_system(self) -> str | None:
        if self.path == ":memory:":
            return None
        try:
            stat = os.statvfs(Path(self.path).parent)
        except OSError:
            return None
        if stat.f_flag & os.ST_RDONLY:
            return READ_ONLY
        # root may use the blocks reserved for it (and SQLite with it); anyone else may not
        blocks = stat.f_bfree if os.geteuid() == 0 else stat.f_bavail
        return FULL if blocks * stat.f_frsize < MIN_FREE_BYTES else None

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads wait for another task's transaction, but not for the reader's own one."""
        if self._owner is not None and self._owner is asyncio.current_task():
            yield self.db
            return
        async with self._lock:
            yield self.db

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._reading() as db, db.execute(sql, params) as cursor:
            row: aiosqlite.Row | None = await cursor.fetchone()
            return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._reading() as db:
            return list(await db.execute_fetchall(sql, params))  # one trip to aiosqlite's thread, not three

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement in its own transaction; returns the number of rows changed."""
        async with self.transaction() as db, db.execute(sql, params) as cursor:
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as db:
            await db.executemany(sql, rows)

    async def ping(self) -> bool:
        row = await self.fetchone("SELECT 1")
        return row is not None


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements; SQLite's own parser says where one ends (triggers too)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip().strip(";").strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not current.strip().startswith("--"):
        statements.append(current.strip())
    return statements
