"""Login without passwords, and the sessions of the staff console.

A staff member types their phone number or member code; a six-digit code goes to them through the
bot (Telegram when they have it, else SMS), through the outbox like any message. Whoever is typed,
the answer is the same, and an attempt row is written for unknown people too, so neither the page
nor the rate limit tells who is staff. Only hashes of the attempt token, the code and the session
token are kept: a copy of the database opens no session.

Limits: a code lives ``CODE_MINUTES`` and takes ``CODE_TRIES`` guesses; a person gets at most
``CODES_PER_PERSON`` codes and a client ``ATTEMPTS_PER_CLIENT`` attempts per ``LIMIT_WINDOW``. So one
person's code, one in a million, is guessed with a chance of about 1.5e-5 per window at most.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import people
from bot.clock import iso
from bot.i18n import I18n
from bot.outbox import enqueue_for_person
from bot.people import Person
from bot.store import Store

CODE_MINUTES = 10
CODE_TRIES = 5
CODES_PER_PERSON = 3
ATTEMPTS_PER_CLIENT = 20
LIMIT_WINDOW = timedelta(minutes=15)
CONSOLE_ROLES = frozenset({people.Role.STAFF.value, people.Role.ADMIN.value})
# A session's last use is written at most this often: reading a page is not a write each time.
SEEN_EVERY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_use_console(person: Person) -> bool:
    return person.status == "active" and bool(person.roles & CONSOLE_ROLES)


@dataclass(frozen=True)
class Attempt:
    """What the code page needs: the opaque token of this attempt (the person is never named)."""

    token: str
    limited: bool = False


async def start_login(store: Store, i18n: I18n, now: datetime, typed: str, client: str) -> Attempt:
    """An attempt for whatever was typed; a code is queued only for an active staff member or admin.

    ``limited`` when this client asked too often: nothing is sent and the page says to wait, whoever
    was typed. A person who already got their codes of the window gets none, silently: the page
    must not tell a staff member's number from anyone else's.
    """
    token = secrets.token_urlsafe(24)
    since = iso(now - LIMIT_WINDOW)
    async with store.transaction() as db:
        async with db.execute(
            "SELECT COUNT(*) FROM console_logins WHERE client = ? AND created_at > ?", (client, since)
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None and int(row[0]) >= ATTEMPTS_PER_CLIENT:
            return Attempt(token, limited=True)
        person = await people.by_code(db, typed.strip()[:40], phone=True)
        staff = person if person is not None and may_use_console(person) else None
        limited = False
        if staff is not None:
            async with db.execute(
                "SELECT COUNT(*) FROM console_logins WHERE person_id = ? AND created_at > ?", (staff.id, since)
            ) as cursor:
                row = await cursor.fetchone()
            limited = row is not None and int(row[0]) >= CODES_PER_PERSON
        code = f"{secrets.randbelow(10**6):06d}"
        cursor = await db.execute(
            "INSERT INTO console_logins (attempt_hash, person_id, code_hash, client, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                digest(token),
                None if staff is None or limited else staff.id,
                None if staff is None or limited else digest(token + code),
                client,
                iso(now),
                iso(now + timedelta(minutes=CODE_MINUTES)),
            ),
        )
        if staff is not None and not limited:
            await enqueue_for_person(
                db,
                now,
                i18n,
                staff.id,
                cause=f"console:login:{cursor.lastrowid}",
                key="console.login_code_message",
                params={"code": code, "minutes": CODE_MINUTES},
            )
    return Attempt(token)


async def check_code(store: Store, now: datetime, token: str, code: str) -> Person | None:
    """The staff member whose code this is, once; every wrong guess counts, and the fifth ends the attempt."""
    typed = "".join(ch for ch in code if ch.isdigit())
    async with store.transaction() as db:
        async with db.execute(
            "SELECT id, person_id, code_hash, tries, expires_at, used_at FROM console_logins WHERE attempt_hash = ?",
            (digest(token),),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row["used_at"] is not None or row["tries"] >= CODE_TRIES:
            return None
        if datetime.fromisoformat(row["expires_at"]) <= now:
            return None
        await db.execute("UPDATE console_logins SET tries = tries + 1 WHERE id = ?", (row["id"],))
        expected = row["code_hash"]
        if expected is None or not hmac.compare_digest(expected, digest(token + typed)):
            return None
        await db.execute("UPDATE console_logins SET used_at = ? WHERE id = ?", (iso(now), row["id"]))
        person = await people.get_person(db, int(row["person_id"]))
    return person if may_use_console(person) else None


@dataclass(frozen=True)
class Session:
    token_hash: str
    person: Person
    csrf: str
    language: str | None


async def open_session(store: Store, now: datetime, person: Person) -> tuple[str, Session]:
    """A new session for a staff member who just proved their code: the cookie's token and the session."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    await store.execute(
        "INSERT INTO console_sessions (token_hash, person_id, csrf, language, created_at, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (digest(token), person.id, csrf, person.language, iso(now), iso(now)),
    )
    return token, Session(digest(token), person, csrf, person.language)


async def session_of(
    store: Store, now: datetime, token: str | None, idle: timedelta, absolute: timedelta
) -> Session | None:
    """The live session of this cookie, with the person read again (roles taken away end it at once)."""
    if not token:
        return None
    hashed = digest(token)
    row = await store.fetchone(
        "SELECT person_id, csrf, language, created_at, seen_at FROM console_sessions WHERE token_hash = ?", (hashed,)
    )
    if row is None:
        return None
    seen = datetime.fromisoformat(row["seen_at"])
    if seen + idle <= now or datetime.fromisoformat(row["created_at"]) + absolute <= now:
        await store.execute("DELETE FROM console_sessions WHERE token_hash = ?", (hashed,))
        return None
    async with store.transaction() as db:
        person = await people.get_person(db, int(row["person_id"]))
        if not may_use_console(person):
            await db.execute("DELETE FROM console_sessions WHERE token_hash = ?", (hashed,))
            return None
        if now - seen >= SEEN_EVERY:
            await db.execute("UPDATE console_sessions SET seen_at = ? WHERE token_hash = ?", (iso(now), hashed))
    return Session(hashed, person, row["csrf"], row["language"])


async def set_language(store: Store, session: Session, language: str) -> None:
    await store.execute("UPDATE console_sessions SET language = ? WHERE token_hash = ?", (language, session.token_hash))


async def close_session(store: Store, session: Session) -> None:
    await store.execute("DELETE FROM console_sessions WHERE token_hash = ?", (session.token_hash,))


async def purge(store: Store, now: datetime, absolute: timedelta) -> None:
    """Old attempts and sessions: nothing of a login stays longer than it can be used or counted."""
    async with store.transaction() as db:
        await db.execute("DELETE FROM console_logins WHERE created_at < ?", (iso(now - max(LIMIT_WINDOW, absolute)),))
        await db.execute("DELETE FROM console_sessions WHERE created_at < ?", (iso(now - absolute),))
