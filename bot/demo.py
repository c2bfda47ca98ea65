"""Demo data for the embedded default: a few people, so every feature can be tried from the terminal.

The people are data (data/demo/people.yaml), like everything a newcomer may want to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml

from bot import people
from bot.dispatch import Router
from bot.i18n import I18n
from bot.people import Role
from bot.store import Store

PEOPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "demo" / "people.yaml"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    phone: str
    roles: frozenset[Role]
    language: str
    member_code: str


@cache
def demo_people() -> tuple[DemoPerson, ...]:
    """The demo people as the file lists them; a wrong role fails here, at start-up."""
    raw = yaml.safe_load(PEOPLE_FILE.read_text(encoding="utf-8"))
    return tuple(
        DemoPerson(
            str(entry["name"]),
            str(entry["phone"]),
            frozenset(Role(role) for role in entry["roles"]),
            str(entry["language"]),
            str(entry["member_code"]),
        )
        for entry in raw["people"]
    )


async def seed(store: Store, now: datetime, routers: list[Router], i18n: I18n) -> bool:
    """Seed once: only a database with nobody registered gets the demo people and features' data."""
    if await people.count_people(store):
        return False
    for person in demo_people():
        language = person.language if person.language in i18n.languages else i18n.default_language
        await people.add_person(
            store, now, person.name, person.roles, phone=person.phone, language=language, member_code=person.member_code
        )
    for router in routers:
        for seeder in router.demo_seeders:
            await seeder(store, now)
    return True
