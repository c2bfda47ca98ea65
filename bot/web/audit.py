"""The console's audit log: who changed what, when, with the value before and after.

Written inside the change's own transaction, so a change is never without its line nor a line
without its change. Admins read it on ``/console/audit``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import iso
from bot.store import Store


async def record(
    db: aiosqlite.Connection,
    now: datetime,
    person_id: int,
    action: str,
    target: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """One line: ``action`` is a catalog-free name (``trocshop.credit``), ``target`` what it touched
    (``person:12``, ``broadcast:3``); ``before`` and ``after`` are stored as JSON."""
    await db.execute(
        "INSERT INTO console_audit (at, person_id, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
        (
            iso(now),
            person_id,
            action,
            target,
            None if before is None else json.dumps(before, ensure_ascii=False, default=str),
            None if after is None else json.dumps(after, ensure_ascii=False, default=str),
        ),
    )


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str | None
    who_id: int | None
    action: str
    target: str | None
    before: str | None
    after: str | None


async def latest(store: Store, limit: int = 200, offset: int = 0) -> list[Line]:
    rows = await store.fetchall(
        "SELECT a.at, a.person_id, p.name, a.action, a.target, a.before, a.after FROM console_audit a"
        " LEFT JOIN persons p ON p.id = a.person_id ORDER BY a.id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [
        Line(
            datetime.fromisoformat(r["at"]),
            r["name"],
            r["person_id"],
            r["action"],
            r["target"],
            r["before"],
            r["after"],
        )
        for r in rows
    ]
