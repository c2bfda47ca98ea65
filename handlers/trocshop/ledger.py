"""The Trocshop's time ledger: double entry, append-only, in whole minutes.

Every operation is one journal entry whose postings sum to zero, written inside the caller's
``BEGIN IMMEDIATE`` transaction, so a balance is read and changed under the same write lock and
no two payments can both spend the same minutes. A request carries an idempotency key: the same
key a second time returns the entry already written instead of paying twice. Mistakes are undone
by a reversing entry that points to the original; nothing is ever edited or deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import iso
from bot.i18n import I18n
from bot.text import fold

CATEGORIES = ("activity", "exchange", "purchase", "notes", "correction")
DENOMINATIONS = (15, 30, 60)
DEFAULT_PLACES = ("la Lingerie", "la Ressourcerie Créative", "la boutique du Trocshop")
_PLACE_ARTICLES = ("la ", "le ", "l ", "les ", "the ")


@dataclass(frozen=True, slots=True)
class Problem:
    """One way the books are wrong, as a catalog key: the command line and the console say it in
    their reader's language. ``count`` picks the plural form; ``kind`` is an account's kind."""

    key: str
    params: Mapping[str, object]
    count: int | None = None

    def said(self, i18n: I18n, language: str) -> str:
        """The problem as one line in ``language``, the account's kind in words ("personne")."""
        values = dict(self.params)
        if "kind" in values:
            values["kind"] = i18n.t(language, f"trocshop_cli.kind_{values['kind']}")
        if self.count is None:
            return i18n.t(language, self.key, **values)
        return i18n.plural(language, self.key, self.count, **values)


class LedgerError(ValueError):
    """An operation the books refuse; ``key`` is a catalog message id shared by chat and command line."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class Written:
    """The entry for a request; ``created`` is False when the same key had already been written."""

    entry_id: int
    created: bool


@dataclass(frozen=True, slots=True)
class Movement:
    entry_id: int
    minutes: int
    category: str
    memo: str
    created_at: str
    other: str | None  # the other side's label or member code, when there is one
    other_kind: str | None
    reverses: int | None


def place_key(name: str) -> str:
    """A place as people type it: "Lingerie", "la lingerie", "LINGERIE" are the same place."""
    folded = fold(name)
    for article in _PLACE_ARTICLES:
        if folded.startswith(article):
            folded = folded[len(article) :]
            break
    return folded


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[object] = ()) -> aiosqlite.Row | None:
    async with db.execute(sql, params) as cursor:
        row: aiosqlite.Row | None = await cursor.fetchone()
        return row


async def _all(db: aiosqlite.Connection, sql: str, params: Sequence[object] = ()) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def system_account(db: aiosqlite.Connection, kind: str, now: datetime) -> int:
    """The issuing account (no floor: minutes are created there) or the notes in circulation."""
    row = await _one(db, "SELECT id FROM troc_accounts WHERE kind = ?", (kind,))
    if row is not None:
        return int(row[0])
    floor = None if kind == "issuing" else 0
    cursor = await db.execute(
        "INSERT INTO troc_accounts (kind, label, floor, created_at) VALUES (?, ?, ?, ?)", (kind, kind, floor, iso(now))
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def person_account(db: aiosqlite.Connection, person_id: int, now: datetime) -> int:
    """A person's account, opened on first use; it carries no name, the persons row does."""
    row = await _one(db, "SELECT id FROM troc_accounts WHERE person_id = ?", (person_id,))
    if row is not None:
        return int(row[0])
    cursor = await db.execute(
        "INSERT INTO troc_accounts (kind, person_id, floor, created_at) VALUES ('person', ?, 0, ?)",
        (person_id, iso(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def find_person_account(db: aiosqlite.Connection, person_id: int) -> int | None:
    row = await _one(db, "SELECT id FROM troc_accounts WHERE person_id = ?", (person_id,))
    return int(row[0]) if row else None


async def add_place(db: aiosqlite.Connection, name: str, now: datetime) -> int:
    """A place people can pay (staff add them); the same name twice is the same place."""
    key = place_key(name)
    if not key:
        raise LedgerError("trocshop.place_name_empty")
    row = await _one(db, "SELECT id FROM troc_accounts WHERE kind = 'place' AND folded = ?", (key,))
    if row is not None:
        return int(row[0])
    cursor = await db.execute(
        "INSERT INTO troc_accounts (kind, label, folded, floor, created_at) VALUES ('place', ?, ?, 0, ?)",
        (name.strip(), key, iso(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def find_place(db: aiosqlite.Connection, text: str) -> tuple[int, str] | None:
    """A place whose name is the text, or the only place whose name contains it ("ressourcerie")."""
    key = place_key(text)
    if not key:
        return None
    rows = await _all(db, "SELECT id, label, folded FROM troc_accounts WHERE kind = 'place' ORDER BY id")
    exact = [r for r in rows if r["folded"] == key]
    if exact:
        return int(exact[0]["id"]), str(exact[0]["label"])
    partial = [r for r in rows if key in r["folded"] or (len(r["folded"]) > 3 and r["folded"] in key)]
    if len(partial) == 1 and len(key) >= 3:
        return int(partial[0]["id"]), str(partial[0]["label"])
    return None


async def counterparties(db: aiosqlite.Connection, account_id: int) -> list[int]:
    """The persons this account has paid or been paid by, latest first: the only ones a payer may name."""
    rows = await _all(
        db,
        "SELECT a.person_id FROM troc_postings p JOIN troc_entries e ON e.id = p.entry_id"
        " JOIN troc_postings q ON q.entry_id = e.id AND q.account_id != p.account_id"
        " JOIN troc_accounts a ON a.id = q.account_id"
        " WHERE p.account_id = ? AND e.category = 'exchange' AND a.kind = 'person'"
        " GROUP BY a.person_id ORDER BY MAX(e.id) DESC",
        (account_id,),
    )
    return [int(r[0]) for r in rows]


async def places(db: aiosqlite.Connection) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in await _all(db, "SELECT id, label FROM troc_accounts WHERE kind = 'place'")]


async def set_floor(db: aiosqlite.Connection, account_id: int, floor: int | None) -> None:
    """Staff may let an account go below zero (or raise its floor); the current balance must respect it."""
    row = await _one(db, "SELECT balance, kind FROM troc_accounts WHERE id = ?", (account_id,))
    if row is None:
        raise LedgerError("trocshop.unknown_account")
    if row["kind"] in ("issuing", "notes"):
        raise LedgerError("trocshop.system_floor")
    if floor is not None and row["balance"] < floor:
        raise LedgerError("trocshop.floor_above_balance")
    await db.execute("UPDATE troc_accounts SET floor = ? WHERE id = ?", (floor, account_id))


async def balance(db: aiosqlite.Connection, account_id: int) -> int:
    row = await _one(db, "SELECT balance FROM troc_accounts WHERE id = ?", (account_id,))
    return int(row[0]) if row else 0


async def existing(db: aiosqlite.Connection, key: str) -> int | None:
    row = await _one(db, "SELECT id FROM troc_entries WHERE idem_key = ?", (key,))
    return int(row[0]) if row else None


async def post(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    key: str,
    category: str,
    postings: Mapping[int, int],
    actor: int | None,
    memo: str = "",
    reverses: int | None = None,
    notes: Mapping[int, int] | None = None,
) -> Written:
    """Write one balanced entry, or return the one already written under ``key``.

    Refuses (LedgerError, nothing written) an unbalanced entry, a zero posting, an unknown
    category, any posting that would take an account below its floor, and notes handed back
    (a deposit, a withdrawal reversed) of a value fewer of which are out there.
    """
    found = await existing(db, key)
    if found is not None:
        return Written(found, created=False)
    if category not in CATEGORIES:
        raise LedgerError("trocshop.bad_category")
    if not postings or any(m == 0 for m in postings.values()) or sum(postings.values()) != 0:
        raise LedgerError("trocshop.unbalanced")
    for account_id, minutes in postings.items():
        row = await _one(db, "SELECT balance, floor FROM troc_accounts WHERE id = ?", (account_id,))
        if row is None:
            raise LedgerError("trocshop.unknown_account")
        if row["floor"] is not None and row["balance"] + minutes < row["floor"]:
            raise LedgerError("trocshop.not_enough", account=account_id, balance=row["balance"])
    if notes and any(count < 0 for count in notes.values()):
        out = await notes_in_circulation(db)
        for denomination, count in sorted(notes.items()):
            if out.get(denomination, 0) + count < 0:
                raise LedgerError("trocshop.notes_not_out", value=denomination, out=out.get(denomination, 0))
    cursor = await db.execute(
        "INSERT INTO troc_entries (idem_key, category, memo, actor_person_id, reverses_entry_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (key, category, memo, actor, reverses, iso(now)),
    )
    entry_id = cursor.lastrowid
    assert entry_id is not None
    for account_id, minutes in postings.items():
        await db.execute(
            "INSERT INTO troc_postings (entry_id, account_id, minutes) VALUES (?, ?, ?)",
            (entry_id, account_id, minutes),
        )
        await db.execute("UPDATE troc_accounts SET balance = balance + ? WHERE id = ?", (minutes, account_id))
    for denomination, count in (notes or {}).items():
        if count:
            await db.execute(
                "INSERT INTO troc_note_moves (entry_id, denomination, count) VALUES (?, ?, ?)",
                (entry_id, denomination, count),
            )
    return Written(entry_id, created=True)


def _positive(minutes: int) -> None:
    if minutes <= 0:
        raise LedgerError("trocshop.amount_positive")


async def transfer(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    key: str,
    source: int,
    target: int,
    minutes: int,
    actor: int | None,
    category: str = "exchange",
    memo: str = "",
) -> Written:
    """Minutes from one account to another (a person paying a person or a place)."""
    found = await existing(db, key)
    if found is not None:
        return Written(found, created=False)
    _positive(minutes)
    if source == target:
        raise LedgerError("trocshop.pay_self")
    return await post(
        db, now, key=key, category=category, postings={source: -minutes, target: minutes}, actor=actor, memo=memo
    )


async def credit(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    key: str,
    person_id: int,
    minutes: int,
    actor: int | None,
    category: str = "activity",
    memo: str = "",
) -> Written:
    """Staff credit a person for taking part: the minutes are issued by the Trocshop."""
    found = await existing(db, key)
    if found is not None:
        return Written(found, created=False)
    _positive(minutes)
    issuing = await system_account(db, "issuing", now)
    account = await person_account(db, person_id, now)
    return await post(
        db, now, key=key, category=category, postings={issuing: -minutes, account: minutes}, actor=actor, memo=memo
    )


def notes_total(notes: Mapping[int, int]) -> int:
    if any(d not in DENOMINATIONS for d in notes) or any(c < 0 for c in notes.values()):
        raise LedgerError("trocshop.bad_notes")
    total = sum(d * c for d, c in notes.items())
    if total <= 0:
        raise LedgerError("trocshop.bad_notes")
    return total


async def move_notes(
    db: aiosqlite.Connection,
    now: datetime,
    *,
    key: str,
    person_id: int,
    notes: Mapping[int, int],
    withdraw: bool,
    actor: int | None,
) -> Written:
    """A withdrawal turns account minutes into paper notes; a deposit turns notes back into minutes."""
    found = await existing(db, key)
    if found is not None:
        return Written(found, created=False)
    total = notes_total(notes)
    circulation = await system_account(db, "notes", now)
    account = await person_account(db, person_id, now)
    sign = 1 if withdraw else -1
    return await post(
        db,
        now,
        key=key,
        category="notes",
        postings={account: -sign * total, circulation: sign * total},
        actor=actor,
        memo="withdrawal" if withdraw else "deposit",
        notes={d: sign * c for d, c in notes.items() if c},
    )


async def reverse(
    db: aiosqlite.Connection, now: datetime, *, key: str, entry_id: int, reason: str, actor: int | None
) -> Written:
    """A correction entry with every posting of the original negated; an entry is reversed at most once."""
    found = await existing(db, key)
    if found is not None:
        return Written(found, created=False)
    original = await _one(db, "SELECT id, reverses_entry_id FROM troc_entries WHERE id = ?", (entry_id,))
    if original is None:
        raise LedgerError("trocshop.no_entry", entry=entry_id)
    if original["reverses_entry_id"] is not None:
        raise LedgerError("trocshop.reverse_of_reversal", entry=entry_id)
    if await _one(db, "SELECT 1 FROM troc_entries WHERE reverses_entry_id = ?", (entry_id,)) is not None:
        raise LedgerError("trocshop.already_reversed", entry=entry_id)
    if not reason.strip():
        raise LedgerError("trocshop.reason_needed")
    postings: dict[int, int] = {}
    for row in await _all(db, "SELECT account_id, minutes FROM troc_postings WHERE entry_id = ?", (entry_id,)):
        postings[row[0]] = postings.get(row[0], 0) - row[1]
    notes: dict[int, int] = {}
    for row in await _all(db, "SELECT denomination, count FROM troc_note_moves WHERE entry_id = ?", (entry_id,)):
        notes[row[0]] = notes.get(row[0], 0) - row[1]
    return await post(
        db,
        now,
        key=key,
        category="correction",
        postings={a: m for a, m in postings.items() if m},
        actor=actor,
        memo=reason.strip(),
        reverses=entry_id,
        notes=notes,
    )


async def notes_in_circulation(db: aiosqlite.Connection) -> dict[int, int]:
    """How many paper notes of each denomination are out there right now."""
    counts = {d: 0 for d in DENOMINATIONS}
    for row in await _all(db, "SELECT denomination, SUM(count) FROM troc_note_moves GROUP BY denomination"):
        counts[int(row[0])] = int(row[1])
    return counts


async def entry_parties(db: aiosqlite.Connection, entry_id: int) -> list[tuple[int, int, int | None]]:
    """(account id, minutes, person id) of each posting of an entry: whom to tell."""
    rows = await _all(
        db,
        "SELECT p.account_id, p.minutes, a.person_id FROM troc_postings p JOIN troc_accounts a ON a.id = p.account_id"
        " WHERE p.entry_id = ? ORDER BY p.id",
        (entry_id,),
    )
    return [(int(r[0]), int(r[1]), r[2]) for r in rows]


async def history(db: aiosqlite.Connection, account_id: int, limit: int, offset: int = 0) -> list[Movement]:
    """The account's latest movements, newest first, with the other side of each (``offset``: a later page)."""
    rows = await _all(
        db,
        "SELECT e.id, p.minutes, e.category, e.memo, e.created_at, e.reverses_entry_id,"
        " (SELECT COALESCE(o.label, op.member_code) FROM troc_postings q JOIN troc_accounts o ON o.id = q.account_id"
        "  LEFT JOIN persons op ON op.id = o.person_id"
        "  WHERE q.entry_id = e.id AND q.account_id != p.account_id ORDER BY q.id LIMIT 1) AS other,"
        " (SELECT o.kind FROM troc_postings q JOIN troc_accounts o ON o.id = q.account_id"
        "  WHERE q.entry_id = e.id AND q.account_id != p.account_id ORDER BY q.id LIMIT 1) AS other_kind"
        " FROM troc_postings p JOIN troc_entries e ON e.id = p.entry_id"
        " WHERE p.account_id = ? ORDER BY e.id DESC LIMIT ? OFFSET ?",
        (account_id, limit, offset),
    )
    return [
        Movement(
            int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]), r["other"], r["other_kind"], r["reverses_entry_id"]
        )
        for r in rows
    ]


async def check(db: aiosqlite.Connection) -> list[Problem]:
    """Every way the books could be wrong, one line each; an empty list proves them."""
    problems: list[Problem] = []
    for row in await _all(
        db,
        "SELECT e.id, COALESCE(SUM(p.minutes), 0), COUNT(p.id) FROM troc_entries e"
        " LEFT JOIN troc_postings p ON p.entry_id = e.id GROUP BY e.id",
    ):
        if row[1] != 0 or row[2] < 2:
            problems.append(Problem("trocshop_cli.check_unbalanced", {"entry": row[0], "sum": row[1]}, row[2]))
    for row in await _all(
        db,
        "SELECT a.id, a.kind, a.balance, a.floor, COALESCE((SELECT SUM(minutes) FROM troc_postings"
        " WHERE account_id = a.id), 0) FROM troc_accounts a ORDER BY a.id",
    ):
        account, kind, kept, floor, summed = row[0], row[1], row[2], row[3], row[4]
        if kept != summed:
            problems.append(
                Problem(
                    "trocshop_cli.check_balance",
                    {"account": account, "kind": kind, "kept": kept, "summed": summed},
                )
            )
        if floor is not None and summed < floor:
            problems.append(
                Problem(
                    "trocshop_cli.check_floor",
                    {"account": account, "kind": kind, "balance": summed, "floor": floor},
                )
            )
    for row in await _all(
        db,
        "SELECT r.id, r.reverses_entry_id FROM troc_entries r WHERE r.reverses_entry_id IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM troc_postings p WHERE p.entry_id = r.id AND p.minutes != -(SELECT"
        " COALESCE(SUM(o.minutes), 0) FROM troc_postings o WHERE o.entry_id = r.reverses_entry_id"
        " AND o.account_id = p.account_id)) ",
    ):
        problems.append(Problem("trocshop_cli.check_mirror", {"entry": row[0], "reversed": row[1]}))
    counts = await notes_in_circulation(db)
    for denomination, count in counts.items():
        if count < 0:
            problems.append(Problem("trocshop_cli.check_notes_negative", {"denomination": denomination}, count))
    paper = sum(d * c for d, c in counts.items())
    notes_row = await _one(db, "SELECT id FROM troc_accounts WHERE kind = 'notes'")
    in_account = 0
    if notes_row is not None:
        total = await _one(
            db, "SELECT COALESCE(SUM(minutes), 0) FROM troc_postings WHERE account_id = ?", (notes_row[0],)
        )
        in_account = int(total[0]) if total else 0
    if paper != in_account:
        problems.append(Problem("trocshop_cli.check_notes_total", {"paper": paper, "held": in_account}))
    for row in await _all(
        db,
        "SELECT e.id, COALESCE((SELECT SUM(denomination * count) FROM troc_note_moves m WHERE m.entry_id = e.id), 0),"
        " COALESCE((SELECT SUM(p.minutes) FROM troc_postings p JOIN troc_accounts a ON a.id = p.account_id"
        " WHERE p.entry_id = e.id AND a.kind = 'notes'), 0) FROM troc_entries e",
    ):
        if row[1] != row[2]:
            problems.append(
                Problem("trocshop_cli.check_notes_moved", {"entry": row[0], "worth": row[1], "moved": row[2]})
            )
    return problems


async def export_rows(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """The whole journal, one row per posting, for the staff's spreadsheet."""
    return await _all(
        db,
        "SELECT e.id AS entry, e.created_at, e.category, e.memo, e.reverses_entry_id AS reverses,"
        " e.idem_key, actor.member_code AS actor, a.id AS account, a.kind,"
        " COALESCE(a.label, who.member_code) AS account_label, p.minutes,"
        " (SELECT group_concat(m.count || 'x' || m.denomination, ' ') FROM troc_note_moves m"
        "  WHERE m.entry_id = e.id) AS notes"
        " FROM troc_entries e JOIN troc_postings p ON p.entry_id = e.id JOIN troc_accounts a ON a.id = p.account_id"
        " LEFT JOIN persons who ON who.id = a.person_id LEFT JOIN persons actor ON actor.id = e.actor_person_id"
        " ORDER BY e.id, p.id",
    )
