"""Demo data for the embedded default: a few people, so every feature can be tried from the terminal.

The phone numbers are in the ranges the French regulator keeps for fiction (06 39 98 ...).
"""

from __future__ import annotations

from datetime import datetime

from bot import people
from bot.dispatch import Router
from bot.people import Role
from bot.store import Store

DEMO_PEOPLE = (
    ("Awa Diallo (équipe)", "+33639980001", {Role.STAFF, Role.ADMIN}, "fr", "GV-EKP3"),
    ("Karim Benali", "+33639980002", {Role.RESIDENT, Role.WORKER}, "fr", "GV-K7P2"),
    ("Sam Taylor", "+33639980003", {Role.RESIDENT}, "en", "GV-TAY3"),
    ("Lucie Martin", "+33639980004", {Role.VOLUNTEER}, "fr", "GV-MRT4"),
)


async def seed(store: Store, now: datetime, routers: list[Router]) -> bool:
    """Seed once: only a database with nobody registered gets the demo people and features' data."""
    if await people.count_people(store):
        return False
    for name, phone, roles, language, code in DEMO_PEOPLE:
        await people.add_person(store, now, name, roles, phone=phone, language=language, member_code=code)
    for router in routers:
        for seeder in router.demo_seeders:
            await seeder(store, now)
    return True
