"""The places in the database: what the answers show, what staff import, export and check.

places.yaml is the seed (see migration 0013): a place staff never touched follows the file at every
start, so a release that corrects it reaches every site; a place staff imported or checked is theirs.
Every entry is checked as the file's are (:func:`content.check_place`) before it is written, so the
answers never meet a half-described place. A running bot reads the table again when its revision
moved: an import made from the command line is answered at the next question.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import aiosqlite

from bot.clock import iso
from bot.csvfiles import Rejected, RowReport
from bot.store import Store
from handlers.orientation import content
from handlers.orientation.content import DayCentre

# "Not verified for over six months": the weekly notice lists places last checked before this many days.
STALE_AFTER = timedelta(days=183)


class Origin(StrEnum):
    SEED = "seed"  # from places.yaml, never edited: follows the file
    STAFF = "staff"  # imported from a spreadsheet or checked by staff
    DATAINCLUSION = "datainclusion"  # imported from a data·inclusion export


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Stored:
    """A place as the table holds it: the checked place, its fields as written, and the day it was checked."""

    place: DayCentre
    entry: dict[str, Any]
    origin: str
    verified_on: date


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False)


def normal(entry: dict[str, Any]) -> dict[str, Any]:
    """Every field present, as the file and the spreadsheet write them alike (a name for the short name)."""
    fields = {name: entry.get(name) for name in sorted(content.FIELDS)}
    fields["short_name"] = fields["short_name"] or fields["name"]
    if fields["source_date"] is not None:
        fields["source_date"] = str(fields["source_date"])
    for name in ("services", "appointment", "meals"):
        fields[name] = list(fields[name] or ())
    return fields


def month_start(entry: dict[str, Any]) -> date:
    """The first day of the entry's ``verified`` month: the day a month-only date counts from."""
    year, month = (int(part) for part in str(entry["verified"]).split("-"))
    return date(year, month, 1)


async def _row(db: aiosqlite.Connection, key: str) -> aiosqlite.Row | None:
    async with db.execute("SELECT entry, origin, verified_on FROM places WHERE key = ?", (key,)) as cursor:
        return await cursor.fetchone()


async def put(
    db: aiosqlite.Connection,
    entry: dict[str, Any],
    origin: Origin,
    now: datetime,
    verified_on: date | None = None,
    *,
    write: bool = True,
) -> Outcome:
    """Create or replace one place (already checked) inside the caller's transaction; with ``write``
    False (a dry run), only say what it would do.

    The same entry again changes nothing, not even its origin: importing an export back is a no-op.
    ``verified_on`` defaults to the day already stored when the month did not change, else the month's start.
    """
    entry = normal(entry)
    key = str(entry["key"])
    text = _canonical(entry)
    row = await _row(db, key)
    if verified_on is None:
        stored = date.fromisoformat(row[2]) if row is not None else None
        month = month_start(entry)
        verified_on = stored if stored is not None and stored.replace(day=1) == month else month
    if row is not None and row[0] == text and row[2] == verified_on.isoformat():
        return Outcome.UNCHANGED
    if not write:
        return Outcome.CREATED if row is None else Outcome.UPDATED
    if row is None:
        await db.execute(
            "INSERT INTO places (key, entry, origin, verified_on, revision, updated_at)"
            " VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(revision), 0) + 1 FROM places), ?)",
            (key, text, origin.value, verified_on.isoformat(), iso(now)),
        )
        return Outcome.CREATED
    await db.execute(
        "UPDATE places SET entry = ?, origin = ?, verified_on = ?, updated_at = ?,"
        " revision = (SELECT MAX(revision) + 1 FROM places) WHERE key = ?",
        (text, origin.value, verified_on.isoformat(), iso(now), key),
    )
    return Outcome.UPDATED


async def seed(store: Store, now: datetime) -> int:
    """Add the file's new places and follow its changes to places staff never edited; how many rows changed."""
    changed = 0
    async with store.transaction() as db:
        async with db.execute("SELECT key, origin FROM places") as cursor:
            origins = {str(row[0]): str(row[1]) for row in await cursor.fetchall()}
        for entry in content.seed_entries():
            if origins.get(str(entry["key"]), Origin.SEED) != Origin.SEED:
                continue
            if await put(db, entry, Origin.SEED, now, month_start(entry)) is not Outcome.UNCHANGED:
                changed += 1
    return changed


async def check(store: Store, key: str, today: date, now: datetime) -> Stored | None:
    """Mark a place verified today (status checked); None when no place has this key."""
    async with store.transaction() as db:
        row = await _row(db, key)
        if row is None:
            return None
        entry = json.loads(row[0])
        entry["verified"] = f"{today.year:04d}-{today.month:02d}"
        entry["status"] = "checked"
        await put(db, entry, Origin.STAFF, now, today)
    return Stored(content.check_place(entry, key), entry, Origin.STAFF, today)


def _stored(row: aiosqlite.Row) -> Stored:
    entry = json.loads(row[0])
    return Stored(content.check_place(entry, str(entry.get("key"))), entry, str(row[1]), date.fromisoformat(row[2]))


async def stored(store: Store) -> list[Stored]:
    """Every place with its fields and origin, by arrondissement then name (the export's order)."""
    rows = await store.fetchall("SELECT entry, origin, verified_on FROM places")
    found = [_stored(row) for row in rows]
    return sorted(found, key=lambda s: (s.place.arrondissement or 99, s.place.name, s.place.key))


async def keys(store: Store) -> list[str]:
    return [str(row[0]) for row in await store.fetchall("SELECT key FROM places ORDER BY key")]


async def stale(db: aiosqlite.Connection, today: date) -> list[Stored]:
    """Places not verified for over six months, the oldest first."""
    async with db.execute(
        "SELECT entry, origin, verified_on FROM places WHERE verified_on < ? ORDER BY verified_on, key",
        ((today - STALE_AFTER).isoformat(),),
    ) as cursor:
        rows = await cursor.fetchall()
    return [_stored(row) for row in rows]


_cache: weakref.WeakKeyDictionary[Store, tuple[tuple[object, ...], tuple[DayCentre, ...]]] = weakref.WeakKeyDictionary()


async def current(store: Store) -> tuple[DayCentre, ...]:
    """The places the answers show, read again only when the table changed since the last question."""
    row = await store.fetchone("SELECT COUNT(*), MAX(revision) FROM places")
    signature = tuple(row) if row is not None else ()
    cached = _cache.get(store)
    if cached is not None and cached[0] == signature:
        return cached[1]
    rows = await store.fetchall("SELECT key, entry FROM places ORDER BY key")
    places = tuple(content.check_place(json.loads(r[1]), str(r[0])) for r in rows)
    _cache[store] = (signature, places)
    return places


@dataclass
class ImportReport(RowReport[Rejected]):
    """What an import did, row by row; ``skipped`` counts records of an export that are not for us."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    keys: list[str] = field(default_factory=list)  # the places created or updated


async def import_places(
    store: Store,
    now: datetime,
    rows: Iterable[tuple[int, dict[str, Any] | Rejected, date | None]],
    origin: Origin,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Write each checked place in its own transaction (a refused row writes nothing; an interrupted
    import leaves whole places; the same file again changes nothing). A key on two lines is refused on
    both, each naming the other: which of them is right is for staff to say."""
    report = ImportReport()
    rows = list(rows)
    lines: dict[str, list[int]] = {}
    for line, entry, _ in rows:
        if not isinstance(entry, Rejected):
            lines.setdefault(str(entry["key"]), []).append(line)
    for line, entry, verified_on in rows:
        if isinstance(entry, Rejected):
            report.rejected.append(entry)
            continue
        key = str(entry["key"])
        others = [other for other in lines[key] if other != line]
        if others:
            report.rejected.append(Rejected(line, "places.row_duplicate_key", {"place": key, "other": others[0]}))
            continue
        async with store.transaction() as db:
            outcome = await put(db, entry, origin, now, verified_on, write=not dry_run)
        if outcome is Outcome.UNCHANGED:
            report.unchanged += 1
            continue
        report.keys.append(key)
        if outcome is Outcome.CREATED:
            report.created += 1
        else:
            report.updated += 1
    return report
