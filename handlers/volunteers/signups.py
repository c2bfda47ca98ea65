"""Volunteer sign-ups: what a person offers, kept per person, readable by them and by staff.

Anyone may sign up, a guest too (a person exists from their first message): a would-be volunteer
has no member code yet and should not need one. Withdrawing deletes the row, so nothing is kept
about someone who changed their mind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite
from rapidfuzz import fuzz, process

from bot.clock import iso
from bot.i18n import I18n
from bot.people import privacy
from bot.text import clean, fold

MAX_NAME = 80
MAX_AVAILABILITY = 200

# The activities of the site's call for volunteers, in its order; labels are in the catalogs and the
# words people type for them in the keyword files, both under volunteers.activity_<key>.
ACTIVITIES = ("furniture", "gardening", "signs", "bar", "kitchen", "photos", "french", "music", "computing")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Signup:
    id: int
    person_id: int
    name: str
    activities: tuple[str, ...]
    availability: str
    consent: bool
    reminders: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: aiosqlite.Row) -> Signup:
        return cls(
            id=row["id"],
            person_id=row["person_id"],
            name=row["name"],
            activities=tuple(row["activities"].split()),
            availability=row["availability"],
            consent=bool(row["consent"]),
            reminders=bool(row["reminders"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @property
    def gets_reminders(self) -> bool:
        return self.consent and self.reminders


def parse_activities(text: str, i18n: I18n) -> tuple[str, ...]:
    """Numbers of the list ("1 3", "2,5 et 7") or words ("jardin, cuisine"), typos tolerated; () when none."""
    keys = list(ACTIVITIES)
    # In the list's order, so a typo as close to two activities' words goes to the first, every time.
    vocabulary = {word: key for key in keys for word in sorted(i18n.words(f"volunteers.activity_{key}"))}
    long_words = [word for word in vocabulary if len(word) >= 5]
    chosen: set[str] = set()
    for number in _NUMBER.findall(text):
        if 1 <= int(number) <= len(keys):
            chosen.add(keys[int(number) - 1])
    for word in fold(text).split():
        if word in i18n.words("volunteers.all"):
            chosen.update(keys)
        elif word in vocabulary:
            chosen.add(vocabulary[word])
        elif len(word) >= 5:
            match = process.extractOne(word, long_words, scorer=fuzz.ratio, score_cutoff=80)
            if match is not None:
                chosen.add(vocabulary[match[0]])
    return tuple(key for key in keys if key in chosen)


def clean_name(text: str) -> str | None:
    name = clean(text, limit=MAX_NAME * 2)
    return name if 1 < len(name) <= MAX_NAME and any(ch.isalpha() for ch in name) else None


def clean_availability(text: str) -> str | None:
    availability = clean(text, limit=MAX_AVAILABILITY * 2)
    return availability if 0 < len(availability) <= MAX_AVAILABILITY else None


def activity_labels(i18n: I18n, language: str, activities: Sequence[str]) -> str:
    return ", ".join(i18n.t(language, f"volunteers.activity_{key}") for key in activities)


async def get(db: aiosqlite.Connection, person_id: int) -> Signup | None:
    async with db.execute("SELECT * FROM volunteer_signups WHERE person_id = ?", (person_id,)) as cursor:
        row = await cursor.fetchone()
    return Signup.of(row) if row else None


async def save(
    db: aiosqlite.Connection,
    now: datetime,
    person_id: int,
    *,
    name: str,
    activities: Sequence[str],
    availability: str,
    consent: bool,
) -> tuple[Signup, bool]:
    """Create or replace a person's sign-up; True when it is new (staff are told of new ones only)."""
    existing = await get(db, person_id)
    if existing is None:
        await db.execute(
            "INSERT INTO volunteer_signups (person_id, name, activities, availability, consent, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (person_id, name, " ".join(activities), availability, int(consent), iso(now), iso(now)),
        )
    else:
        await db.execute(
            "UPDATE volunteer_signups SET name = ?, activities = ?, availability = ?, consent = ?, updated_at = ?"
            " WHERE person_id = ?",
            (name, " ".join(activities), availability, int(consent), iso(now), person_id),
        )
    signup = await get(db, person_id)
    assert signup is not None
    return signup, existing is None


async def set_reminders(db: aiosqlite.Connection, now: datetime, person_id: int, on: bool) -> bool:
    """STOP RAPPELS / RAPPELS; False when the person has no sign-up."""
    cursor = await db.execute(
        "UPDATE volunteer_signups SET reminders = ?, updated_at = ? WHERE person_id = ?", (int(on), iso(now), person_id)
    )
    return cursor.rowcount > 0


async def withdraw(db: aiosqlite.Connection, person_id: int) -> bool:
    cursor = await db.execute("DELETE FROM volunteer_signups WHERE person_id = ?", (person_id,))
    return cursor.rowcount > 0


async def listing(db: aiosqlite.Connection) -> list[tuple[Signup, aiosqlite.Row]]:
    """Every sign-up, oldest first, with the person's code, status and a phone and Telegram id if any."""
    async with db.execute(
        "SELECT s.*, p.member_code, p.status,"
        " (SELECT address FROM identities i WHERE i.person_id = s.person_id AND i.channel = 'sms'"
        "  ORDER BY i.id LIMIT 1) AS phone,"
        " (SELECT address FROM identities i WHERE i.person_id = s.person_id AND i.channel = 'telegram'"
        "  ORDER BY i.id LIMIT 1) AS telegram"
        " FROM volunteer_signups s JOIN persons p ON p.id = s.person_id ORDER BY s.created_at, s.id"
    ) as cursor:
        return [(Signup.of(row), row) for row in await cursor.fetchall()]


async def export(db: aiosqlite.Connection, person_id: int) -> dict[str, Any]:
    """A person's sign-up, for MES DONNEES."""
    signup = await get(db, person_id)
    if signup is None:
        return {}
    return {
        "name": signup.name,
        "activities": list(signup.activities),
        "availability": signup.availability,
        "consent": signup.consent,
        "reminders": signup.reminders,
        "signed_up_at": signup.created_at,
    }


async def erase(db: aiosqlite.Connection, person_id: int) -> None:
    """The sign-up goes; a meeting's reason that staff wrote naming the person becomes a neutral text."""
    await withdraw(db, person_id)
    erasure = privacy.erasure()
    for select, update in (
        (
            "SELECT id, reason FROM meeting_extras WHERE reason IS NOT NULL",
            "UPDATE meeting_extras SET reason = ? WHERE id = ?",
        ),
        (
            "SELECT meeting, reason FROM meeting_cancellations WHERE reason IS NOT NULL",
            "UPDATE meeting_cancellations SET reason = ? WHERE meeting = ?",
        ),
    ):
        async with db.execute(select) as cursor:
            naming = [(erasure.neutral, row[0]) async for row in cursor if erasure.mentions.found(row[1])]
        await db.executemany(update, naming)
