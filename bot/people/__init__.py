"""Persons, their identities on each channel, roles, language and opt-out; member codes and their lookup.

A person is who we serve; an identity is a (channel, address) pair. An unknown sender becomes a
``guest`` person on first contact, so their language and conversation survive a restart.

The package holds everything else about people, each in its module: the roster as a spreadsheet
(:mod:`bot.people.roster`), ``voisins people`` (:mod:`bot.people.cli`, registered by the people
feature like any command group) and data rights, export and erasure (:mod:`bot.people.privacy`).
Features reach persons through it; a staff command names someone with :func:`by_code`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import aiosqlite
import phonenumbers

from bot.clock import iso
from bot.messages import Channel
from bot.store import Store
from bot.text import fold

# Letters and digits that cannot be confused aloud or in handwriting (no 0/O/Q, 1/I/L, Z, 5/S, B).
MEMBER_CODE_ALPHABET = "ACDEFGHJKMNPRTUVWXY2346789"
MEMBER_CODE_PREFIX = "GV-"


class Role(StrEnum):
    RESIDENT = "resident"
    WORKER = "worker"
    VOLUNTEER = "volunteer"
    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str | None
    member_code: str | None
    language: str | None
    status: str
    roles: frozenset[str]

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {Role.STAFF, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Identity:
    id: int
    channel: Channel
    address: str
    person_id: int
    language_hint: str | None
    opted_out: bool
    unreachable: bool


def normalise_phone(text: str, region: str = "FR") -> str | None:
    """A phone number in E.164 (``+33612345678``), or None when it cannot be one."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # "Possible", not "valid": the ranges kept for fiction (demo data, tests) are not assigned.
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def new_member_code() -> str:
    return MEMBER_CODE_PREFIX + "".join(secrets.choice(MEMBER_CODE_ALPHABET) for _ in range(4))


# Every message reads these: ``execute_fetchall`` is one trip to aiosqlite's thread where
# execute, fetch and close are three (about 0.1 ms each on a small server).


async def _roles(db: aiosqlite.Connection, person_id: int) -> frozenset[str]:
    rows = await db.execute_fetchall("SELECT role FROM person_roles WHERE person_id = ?", (person_id,))
    return frozenset(row[0] for row in rows)


async def _person(db: aiosqlite.Connection, person_id: int) -> Person:
    rows = list(
        await db.execute_fetchall(
            "SELECT id, name, member_code, language, status FROM persons WHERE id = ?", (person_id,)
        )
    )
    if not rows:
        raise LookupError(f"no person {person_id}")
    row = rows[0]
    return Person(row[0], row[1], row[2], row[3], row[4], await _roles(db, person_id))


# Channels whose address is a phone number someone else verified: they join the SMS identity's person.
SAME_PHONE = (Channel.WHATSAPP,)


async def _same_phone(db: aiosqlite.Connection, channel: Channel, address: str) -> int | None:
    """The person who has this number for SMS, when ``channel`` is a verified phone number (WhatsApp)."""
    if channel not in SAME_PHONE:
        return None
    rows = await db.execute_fetchall(
        "SELECT person_id FROM identities WHERE channel = ? AND address = ?", (Channel.SMS.value, address)
    )
    found = next(iter(rows), None)
    return int(found[0]) if found is not None else None


def _identity(row: aiosqlite.Row) -> Identity:
    return Identity(
        id=row["id"],
        channel=Channel(row["channel"]),
        address=row["address"],
        person_id=row["person_id"],
        language_hint=row["language_hint"],
        opted_out=row["opted_out_at"] is not None,
        unreachable=row["unreachable_at"] is not None,
    )


async def identify(
    store: Store, channel: Channel, address: str, now: datetime, language_hint: str | None = None
) -> tuple[Person, Identity]:
    """The person behind an address, created as a guest on first contact.

    A WhatsApp number is the phone number WhatsApp verified: on first contact it joins the person who
    has that number for SMS. Each WhatsApp message also opens the 24 hours in which a free-form
    message may be sent back (``last_inbound_at``); the first is the person's opt-in.
    """
    query = "SELECT * FROM identities WHERE channel = ? AND address = ?"  # unique: one row at most
    async with store.transaction() as db:
        row = next(iter(await db.execute_fetchall(query, (channel.value, address))), None)
        if row is None:
            person_id = await _same_phone(db, channel, address)
            if person_id is None:
                cursor = await db.execute("INSERT INTO persons (status, created_at) VALUES ('guest', ?)", (iso(now),))
                person_id = cursor.lastrowid
            assert person_id is not None
            await db.execute(
                "INSERT INTO identities (channel, address, person_id, language_hint, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (channel.value, address, person_id, language_hint, iso(now)),
            )
        elif language_hint and language_hint != row["language_hint"]:
            await db.execute("UPDATE identities SET language_hint = ? WHERE id = ?", (language_hint, row["id"]))
            row = None
        if channel is Channel.WHATSAPP:
            await db.execute(
                "UPDATE identities SET last_inbound_at = ?, opted_in_at = COALESCE(opted_in_at, ?)"
                " WHERE channel = ? AND address = ?",
                (iso(now), iso(now), channel.value, address),
            )
            row = None
        if row is None:  # read back what was just written; a known, unchanged identity is read once
            row = next(iter(await db.execute_fetchall(query, (channel.value, address))))
        identity = _identity(row)
        person = await _person(db, identity.person_id)
    return person, identity


async def set_language(store: Store, person_id: int, language: str) -> None:
    await store.execute("UPDATE persons SET language = ? WHERE id = ?", (language, person_id))


async def set_opted_out(store: Store, identity_id: int, when: datetime | None) -> None:
    """STOP (``when`` set) or START (None) for one identity: other channels keep their own choice."""
    await store.execute(
        "UPDATE identities SET opted_out_at = ? WHERE id = ?", (iso(when) if when else None, identity_id)
    )


class PeopleError(ValueError):
    """A registration that would break a rule (an identity already someone else's, a taken code).

    ``key`` is a catalog message id, so the chat and the command line say the same thing.
    """

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


MEMBER_CODE_PATTERN = re.compile(rf"^{MEMBER_CODE_PREFIX}[{MEMBER_CODE_ALPHABET}]{{4}}$")


def normalise_member_code(text: str) -> str | None:
    """``gv k7p2``, ``GV-K7P2`` or ``k7p2`` -> ``GV-K7P2``; None when it cannot be a member code."""
    compact = re.sub(r"[^A-Za-z0-9]", "", text).upper()
    if compact.startswith("GV"):
        compact = compact[2:]
    code = MEMBER_CODE_PREFIX + compact
    return code if MEMBER_CODE_PATTERN.match(code) else None


async def get_person(db: aiosqlite.Connection, person_id: int) -> Person:
    return await _person(db, person_id)


async def get_people(db: aiosqlite.Connection, person_ids: Iterable[int]) -> list[Person]:
    """Several people in two queries, in the order of ``person_ids`` (those gone are left out)."""
    wanted = list(dict.fromkeys(person_ids))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    roles: dict[int, set[str]] = {}
    for person_id, role in await db.execute_fetchall(
        f"SELECT person_id, role FROM person_roles WHERE person_id IN ({marks})",  # noqa: S608 (only ? marks)
        wanted,
    ):
        roles.setdefault(int(person_id), set()).add(str(role))
    rows = await db.execute_fetchall(
        f"SELECT id, name, member_code, language, status FROM persons WHERE id IN ({marks})",  # noqa: S608
        wanted,
    )
    found = {int(r[0]): Person(r[0], r[1], r[2], r[3], r[4], frozenset(roles.get(int(r[0]), ()))) for r in rows}
    return [found[i] for i in wanted if i in found]


async def staff_ids(db: aiosqlite.Connection) -> list[int]:
    """The active staff members and admins, who get the notices meant for the team."""
    async with db.execute(
        "SELECT DISTINCT r.person_id FROM person_roles r JOIN persons p ON p.id = r.person_id"
        " WHERE r.role IN ('staff', 'admin') AND p.status = 'active' ORDER BY r.person_id"
    ) as cursor:
        return [int(row[0]) for row in await cursor.fetchall()]


def member_key(text: str) -> str | None:
    """A member code ("GV-K7P2") or an E.164 phone number ("+33..."), as typed; nobody is looked up.

    A phone needs eight digits at least, so that a word (a place's name) is never read as one.
    """
    code = normalise_member_code(text)
    if code is not None:
        return code
    if sum(ch.isdigit() for ch in text) >= 8:
        return normalise_phone(text)
    return None


def named(persons: Iterable[Person], text: str) -> list[Person]:
    """The active persons among ``persons`` whose name has every word typed ("sam", "haddad", "sam haddad").

    Only ever asked about persons the caller may already name (a payer's past counterparts): it is a
    match among them, never a search of everyone.
    """
    words = fold(text).split()
    if not words:
        return []
    return [p for p in persons if p.status == "active" and p.name and set(words) <= set(fold(p.name).split())]


async def by_code(db: aiosqlite.Connection, text: str, *, phone: bool = False) -> Person | None:
    """The registered person staff name by member code ("gv k7p2", "GV-K7P2", "k7p2"), or None.

    With ``phone``, a registered phone number names them too ("06 12 34 56 78", "+33 6...").
    """
    key = member_key(text) if phone else normalise_member_code(text)
    if key is None:
        return None
    by_phone = key.startswith("+")
    person_id = await find_person_id(db, phone=key) if by_phone else await find_person_id(db, member_code=key)
    return None if person_id is None else await _person(db, person_id)


async def require_by_code(
    db: aiosqlite.Connection, text: str, error: Callable[..., Exception], key: str, *, phone: bool = False
) -> Person:
    """:func:`by_code` for an operation that cannot go on without the person.

    Nobody found raises ``error(key, code=...)`` with what was typed (20 characters at most): each
    feature refuses in its own words and its own exception (``ShiftError``, ``LedgerError``...).
    """
    person = await by_code(db, text, phone=phone)
    if person is None:
        raise error(key, code=text[:20])
    return person


async def find_person_id(
    db: aiosqlite.Connection,
    *,
    member_code: str | None = None,
    phone: str | None = None,
    telegram_id: str | None = None,
) -> int | None:
    """A registered person (not a guest) by member code, E.164 phone or Telegram id."""
    params: tuple[str | None, ...]
    if member_code is not None:
        sql, params = "SELECT id FROM persons WHERE member_code = ? AND status = 'active'", (member_code,)
    else:
        channel, address = (Channel.SMS, phone) if phone is not None else (Channel.TELEGRAM, telegram_id)
        sql = (
            "SELECT p.id FROM identities i JOIN persons p ON p.id = i.person_id"
            " WHERE i.channel = ? AND i.address = ? AND p.status = 'active'"
        )
        params = (channel.value, address)
    async with db.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else None


async def register(
    db: aiosqlite.Connection,
    now: datetime,
    name: str,
    roles: Iterable[str] = (),
    language: str | None = None,
    member_code: str | None = None,
) -> int:
    """A new registered person, inside the caller's transaction; a member code is drawn when none is given."""
    if member_code is not None:
        async with db.execute("SELECT 1 FROM persons WHERE member_code = ?", (member_code,)) as cursor:
            if await cursor.fetchone() is not None:
                raise PeopleError("people.code_taken", code=member_code)
    while member_code is None:
        candidate = new_member_code()
        async with db.execute("SELECT 1 FROM persons WHERE member_code = ?", (candidate,)) as cursor:
            if await cursor.fetchone() is None:
                member_code = candidate
    cursor = await db.execute(
        "INSERT INTO persons (name, member_code, language, status, created_at) VALUES (?, ?, ?, 'active', ?)",
        (name, member_code, language, iso(now)),
    )
    person_id = cursor.lastrowid
    assert person_id is not None
    await set_roles(db, person_id, roles)
    return person_id


async def set_roles(db: aiosqlite.Connection, person_id: int, roles: Iterable[str]) -> None:
    wanted = sorted({str(Role(r)) for r in roles})
    await db.execute("DELETE FROM person_roles WHERE person_id = ?", (person_id,))
    await db.executemany("INSERT INTO person_roles (person_id, role) VALUES (?, ?)", [(person_id, r) for r in wanted])


async def attach_identity(
    db: aiosqlite.Connection, now: datetime, person_id: int, channel: Channel, address: str
) -> bool:
    """Give a person an identity, inside the caller's transaction; False when it was already theirs.

    An identity that belonged to a guest (someone who wrote before being registered) moves to
    the person and the guest is removed; one that belongs to another registered person is refused.
    A phone number brings along the guest's WhatsApp identity of the same number.
    """
    attached = await _attach(db, now, person_id, channel, address)
    await _follow_phone(db, now, person_id, channel, address)
    return attached


async def _attach(db: aiosqlite.Connection, now: datetime, person_id: int, channel: Channel, address: str) -> bool:
    async with db.execute(
        "SELECT i.id, i.person_id, p.status FROM identities i JOIN persons p ON p.id = i.person_id"
        " WHERE i.channel = ? AND i.address = ?",
        (channel.value, address),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        await db.execute(
            "INSERT INTO identities (channel, address, person_id, created_at) VALUES (?, ?, ?, ?)",
            (channel.value, address, person_id, iso(now)),
        )
        return True
    identity_id, owner, status = row
    if owner == person_id:
        return False
    if status != "guest":
        raise PeopleError("people.identity_taken")
    await db.execute("UPDATE identities SET person_id = ? WHERE id = ?", (person_id, identity_id))
    async with db.execute("SELECT COUNT(*) FROM identities WHERE person_id = ?", (owner,)) as cursor:
        left = await cursor.fetchone()
    if left is not None and left[0] == 0:
        await db.execute("DELETE FROM persons WHERE id = ?", (owner,))
    return True


async def _follow_phone(
    db: aiosqlite.Connection, now: datetime, person_id: int, channel: Channel, address: str
) -> None:
    """A registered phone brings along the WhatsApp identity a guest wrote from with that number."""
    if channel is not Channel.SMS:
        return
    for other in SAME_PHONE:
        rows = await db.execute_fetchall(
            "SELECT 1 FROM identities i JOIN persons p ON p.id = i.person_id"
            " WHERE i.channel = ? AND i.address = ? AND p.status = 'guest' AND p.id != ?",
            (other.value, address, person_id),
        )
        if rows:
            await attach_identity(db, now, person_id, other, address)


async def add_person(
    store: Store,
    now: datetime,
    name: str,
    roles: Iterable[str] = (),
    phone: str | None = None,
    telegram_id: str | None = None,
    language: str | None = None,
    member_code: str | None = None,
) -> int:
    """Register a person with their identities in one transaction; the phone must already be E.164."""
    async with store.transaction() as db:
        person_id = await register(db, now, name, roles, language, member_code)
        if phone:
            await attach_identity(db, now, person_id, Channel.SMS, phone)
        if telegram_id:
            await attach_identity(db, now, person_id, Channel.TELEGRAM, telegram_id)
    return person_id


async def count_people(store: Store) -> int:
    row = await store.fetchone("SELECT COUNT(*) FROM persons WHERE status = 'active'")
    return int(row[0]) if row else 0
