"""The SQLite store: one aiosqlite connection, numbered migrations, ``BEGIN IMMEDIATE`` transactions.

One connection serves the whole process; an asyncio lock serialises its use, so a transaction
never interleaves with another coroutine's statements on the same connection.
"""

from __future__ import annotations

import asyncio
import logging
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


class Store:
    """The database of the bot. Use :meth:`open`, then ``async with store.transaction() as db``."""

    def __init__(self, path: Path | str, migrations_dir: Path = MIGRATIONS_DIR) -> None:
        self.path = str(path)
        self.migrations_dir = migrations_dir
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None, timeout=10)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=10000")
        await db.execute("PRAGMA secure_delete=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
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
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                except BaseException:
                    await self.db.execute("ROLLBACK")
                    raise
                await self.db.execute("COMMIT")
            finally:
                self._owner = None

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
