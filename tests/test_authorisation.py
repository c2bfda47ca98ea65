"""Every staff command, tried by a resident, a volunteer and an unknown sender over each channel: refused."""

from __future__ import annotations

import pytest

from bot.dispatch import STAFF_ROLES, required_roles
from bot.people import add_person, attach_identity
from tests.conftest import Talk

# Tables a refused command must leave as they were (conversations and inbound ids change per message).
WATCHED = ("persons", "person_roles", "identities", "outbox", "link_codes", "identity_links")
ARGUMENTS = " GV-K7P2 06 39 98 00 02"


def staff_commands(talk: Talk) -> list[str]:
    return sorted(
        name
        for name, handler in talk.core.dispatcher.commands.items()
        if required_roles(handler) <= STAFF_ROLES and required_roles(handler)
    )


def staff_actions(talk: Talk) -> list[str]:
    return sorted(
        key
        for key, handler in talk.core.dispatcher.actions.items()
        if required_roles(handler) and required_roles(handler) <= STAFF_ROLES
    )


async def snapshot(talk: Talk) -> dict[str, list[tuple[object, ...]]]:
    tables = {}
    for table in WATCHED:
        rows = await talk.core.store.fetchall(f"SELECT * FROM {table} ORDER BY 1")
        tables[table] = [tuple(row) for row in rows]
    return tables


async def become(talk: Talk, who: str, role: str | None) -> None:
    """``who`` on the talk's channel is a registered resident or volunteer, or (None) an unknown sender."""
    await talk("bonjour", who=who)
    if role is None:
        return
    person_id = await add_person(talk.core.store, talk.core.clock.now(), f"A {role}", {role})
    async with talk.core.store.transaction() as db:
        await attach_identity(db, talk.core.clock.now(), person_id, talk.identity_channel, talk.address(who))


async def test_there_are_staff_commands_to_check(talk: Talk) -> None:
    """The matrix below is not empty: staff commands are registered with their roles."""
    assert "/code" in staff_commands(talk)


@pytest.mark.parametrize("role", ["resident", "volunteer", None], ids=["resident", "volunteer", "unknown"])
async def test_every_staff_command_is_refused_to_others(talk: Talk, role: str | None) -> None:
    """Each staff command, with plausible arguments, gets the staff-only refusal and changes nothing."""
    await become(talk, "someone", role)
    for command in staff_commands(talk):
        before = await snapshot(talk)
        said = await talk(command + ARGUMENTS, who="someone")
        assert said.has("réservée à l'équipe", "Rien n'a été modifié"), (command, said.text)
        assert await snapshot(talk) == before, command


@pytest.mark.parametrize("role", ["resident", "volunteer", None], ids=["resident", "volunteer", "unknown"])
async def test_forged_staff_buttons_are_refused(talk: Talk, role: str | None) -> None:
    """A staff button's data sent by someone else (a forged Telegram callback) is refused too."""
    if talk.channel == "sms":
        pytest.skip("SMS has no buttons: a digit is read against the person's own last menu")
    await become(talk, "someone", role)
    for key in staff_actions(talk):
        before = await snapshot(talk)
        said = await talk.press(f"{key}:1", who="someone")
        assert said.has("réservée à l'équipe"), (key, said.text)
        assert await snapshot(talk) == before, key
