"""Persons, their identities on each channel, roles, language and opt-out.

A person is who we serve; an identity is a (channel, address) pair. An unknown sender becomes a
``guest`` person on first contact, so their language and conversation survive a restart.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import aiosqlite
import phonenumbers

from bot.clock import iso
from bot.messages import Channel
from bot.store import Store

# Letters and digits that cannot be confused aloud or on a keypad (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
MEMBER_CODE_ALPHABET = "ACDEFGHJKMNPRTUVWXY34679"
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


async def _roles(db: aiosqlite.Connection, person_id: int) -> frozenset[str]:
    async with db.execute("SELECT role FROM person_roles WHERE person_id = ?", (person_id,)) as cursor:
        return frozenset(row[0] for row in await cursor.fetchall())


async def _person(db: aiosqlite.Connection, person_id: int) -> Person:
    async with db.execute(
        "SELECT id, name, member_code, language, status FROM persons WHERE id = ?", (person_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise LookupError(f"no person {person_id}")
    return Person(row[0], row[1], row[2], row[3], row[4], await _roles(db, person_id))


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
    """The person behind an address, created as a guest on first contact."""
    async with store.transaction() as db:
        async with db.execute(
            "SELECT * FROM identities WHERE channel = ? AND address = ?", (channel.value, address)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
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
        async with db.execute(
            "SELECT * FROM identities WHERE channel = ? AND address = ?", (channel.value, address)
        ) as cursor:
            identity = _identity(await cursor.fetchone())  # type: ignore[arg-type]
        person = await _person(db, identity.person_id)
    return person, identity


async def set_language(store: Store, person_id: int, language: str) -> None:
    await store.execute("UPDATE persons SET language = ? WHERE id = ?", (language, person_id))


async def set_opted_out(store: Store, identity_id: int, when: datetime | None) -> None:
    """STOP (``when`` set) or START (None) for one identity: other channels keep their own choice."""
    await store.execute(
        "UPDATE identities SET opted_out_at = ? WHERE id = ?", (iso(when) if when else None, identity_id)
    )


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
    """Register a person with their identities; the phone must already be E.164."""
    async with store.transaction() as db:
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
        await db.executemany(
            "INSERT INTO person_roles (person_id, role) VALUES (?, ?)",
            [(person_id, str(r)) for r in sorted(set(roles))],
        )
        for channel, address in ((Channel.SMS, phone), (Channel.TELEGRAM, telegram_id)):
            if address:
                await db.execute(
                    "INSERT INTO identities (channel, address, person_id, created_at) VALUES (?, ?, ?, ?)",
                    (channel.value, address, person_id, iso(now)),
                )
    return person_id


async def count_people(store: Store) -> int:
    row = await store.fetchone("SELECT COUNT(*) FROM persons WHERE status != 'guest'")
    return int(row[0]) if row else 0
