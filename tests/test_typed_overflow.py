"""Anything a person or a staff member can type gets an answer, never the generic error and a traceback.

Every registered command of every router (the dispatcher's own table, so a command added later is
tried too) is sent with hostile arguments: dates at the ends of the calendar or that do not exist,
numbers too big for SQLite or for a float, negative numbers, digits ``int()`` cannot read, very long
words. Each goes where a command reads an argument (alone, everywhere, after a valid code, number,
date or time), and when the command asked a question, the same word is typed again as the answer.
A refusal is fine; the generic "a problem on our side" answer, or an ERROR logged with a traceback, is
a bug.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import people
from bot.clock import FakeClock
from bot.dispatch import required_roles
from bot.i18n import I18n
from bot.text import FIRST_YEAR, LAST_YEAR
from tests.commands import voisins
from tests.conftest import ConsoleTalk, Said, Talk, make_settings, talking

HOSTILE = (
    "9999-12-31",
    "0001-01-01",
    "31/12/9999",
    "31/12/0001",
    "2026-02-30",
    "9999-W52",
    "0001-W01",
    "9999-12",
    "99999999999999999999999",
    "-1",
    "1e309",
    "²",  # a digit for str.isdigit(), not for int()
    "99:99-99:99",
    "²²²²²²",  # six of them: a link code for str.isdigit()
    "GV-" + "K" * 500,
    "x" * 3000,
)
# Where a command reads its arguments: alone, in every place, or after valid ones (a member code, a
# shift number, a date, two dates, a time, a whole shift), so that each later parser is reached too.
TEMPLATES = (
    "{command} {word}",
    "{command} {word} {word} {word} {word}",
    "{command} GV-K7P2 {word}",
    "{command} {word} GV-K7P2",
    "{command} 1 {word}",
    "{command} 2026-12-02 {word}",
    "{command} 2026-12-02 2026-12-09 {word}",
    "{command} {word} 11:30 14:30 cantine lingerie 4",
    "{command} 2/12 11:30 14:30 cantine lingerie {word}",
    "{command} semaine {word}",
)
STAFF = frozenset({"staff", "admin"})
RESIDENT = frozenset({"resident", "worker", "volunteer"})
GUEST: frozenset[str] = frozenset()  # someone who only ever wrote: LIER, sign-up, orientation


def generic_errors() -> set[str]:
    """The generic error's text in every language: whatever language a command switched to."""
    i18n = I18n("fr")
    return {i18n.t(language, "core.error") for language in i18n.languages}


async def become(talk: Talk, who: str, roles: frozenset[str]) -> int:
    """``who`` on the talk's channel is a registered person with ``roles``, or (no roles) a guest who wrote once."""
    if not roles:
        await talk("bonjour", who=who)
        found = await talk.core.store.fetchone(
            "SELECT person_id FROM identities WHERE channel = ? AND address = ?",
            (talk.identity_channel.value, talk.address(who)),
        )
        assert found is not None
        return int(found[0])
    now = talk.core.clock.now()
    async with talk.core.store.transaction() as db:
        person_id = await people.register(db, now, "Tester", set(roles), "fr")
        await people.attach_identity(db, now, person_id, talk.identity_channel, talk.address(who))
    return person_id


async def reset(talk: Talk, person_id: int) -> None:
    """A fresh conversation in French, not opted out: each command is tried from the same place."""
    async with talk.core.store.transaction() as db:
        await db.execute("DELETE FROM conversations WHERE person_id = ?", (person_id,))
        await db.execute("UPDATE identities SET opted_out_at = NULL WHERE person_id = ?", (person_id,))
        await db.execute("UPDATE persons SET language = 'fr' WHERE id = ?", (person_id,))


async def asked(talk: Talk, person_id: int) -> bool:
    """The last answer left a question open (the next message goes to a step)."""
    row = await talk.core.store.fetchone("SELECT step FROM conversations WHERE person_id = ?", (person_id,))
    return row is not None and row[0] is not None


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Each ERROR logged with a traceback, as the exception and the line of our code that raised it."""
    found = []
    for record in caplog.records:
        if record.levelno < logging.ERROR or not record.exc_info or record.exc_info[1] is None:
            continue
        error = record.exc_info[1]
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if "/handlers/" in f.filename or "/bot/" in f.filename]
        where = (
            f"{Path(ours[-1].filename).parent.name}/{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        )
        found.append(f"{type(error).__name__} at {where}")
    return found


def commands(talk: Talk, roles: frozenset[str], template: str) -> list[str]:
    """Slash commands to try: every one with the first template, then only those ``roles`` may use."""
    found = []
    for name, handler in sorted(talk.core.dispatcher.commands.items()):
        needed = required_roles(handler)
        if name.startswith("/") and (template == TEMPLATES[0] or not needed or needed & roles):
            found.append(name)
    return found


async def failures_of(
    talk: Talk,
    roles: frozenset[str],
    templates: tuple[str, ...],
    caplog: pytest.LogCaptureFixture,
) -> list[str]:
    """As a person with ``roles``, what got the generic error or logged a traceback: the exception and where."""
    person_id = await become(talk, "tester", roles)
    errors = generic_errors()
    failures: list[str] = []
    for template, command in ((t, c) for t in templates for c in commands(talk, roles, t)):
        for word in HOSTILE:
            typed = template.format(command=command, word=word)
            messages = [typed]
            while messages:
                message = messages.pop(0)
                caplog.clear()
                said: Said = await talk(message, who="tester")
                raised = tracebacks(caplog)
                if raised or any(said.has(error) for error in errors):
                    step = "" if message == typed else f", then {word[:20]!r}"
                    failures.append(f"{', '.join(raised) or 'generic error'}: {typed[:70]!r}{step}")
                if message == typed and await asked(talk, person_id):
                    messages.append(word)  # the word again, as the answer to the question asked
            await reset(talk, person_id)
    return sorted(set(failures))


@pytest.fixture
async def console(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Talk]:
    """The whole matrix runs in the terminal: the handlers are the same on every channel."""
    async with talking(ConsoleTalk(make_settings(tmp_path), clock)) as talk:
        yield talk


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("roles", [STAFF, RESIDENT, GUEST], ids=["staff", "resident", "guest"])
async def test_no_command_overflows_on_hostile_arguments(
    console: Talk, roles: frozenset[str], template: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Far dates, huge numbers and long words after every command get an answer, not the generic error."""
    caplog.set_level(logging.WARNING)
    failures = await failures_of(console, roles, (template,), caplog)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("typed", "date"),
    [
        ("/permanence_ajouter 9999-12-31", "9999-12-31"),
        ("/permanence_ajouter 31/12/9999 19:00-20:30", "31/12/9999"),
        ("/tableau 0001-01-01", "0001-01-01"),
        ("/generer 9999-W52", "9999-W52"),
    ],
)
async def test_a_far_date_is_refused_with_the_years_allowed(talk: Talk, typed: str, date: str) -> None:
    """Over every channel, a staff member's far date is answered with the years a date may have."""
    await become(talk, "staff", STAFF)
    said = await talk(typed, who="staff")
    assert said.has(date, f"entre {FIRST_YEAR} et {LAST_YEAR}"), said.text
    assert not any(said.has(error) for error in generic_errors())


async def test_a_link_code_of_superscript_digits_is_refused(talk: Talk) -> None:
    """LIER, a member code, then six "²" (digits for ``str.isdigit``, not for ``int``): asked for six digits again."""
    await talk("bonjour", who="guest")
    assert (await talk("LIER", who="guest")).has("numéro")
    await talk("GV-K7P2", who="guest")
    said = await talk("²²²²²²", who="guest")
    assert said.has("Le code a 6 chiffres"), said.text
    assert not any(said.has(error) for error in generic_errors())


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("shifts", "roster", "--day", "9999-12-31"), f"entre {FIRST_YEAR} et {LAST_YEAR}"),
        (("shifts", "generate", "--week", "9999-W52"), f"entre {FIRST_YEAR} et {LAST_YEAR}"),
        (("shifts", "hours", "hours.csv", "--month", "9999-12"), f"entre {FIRST_YEAR} et {LAST_YEAR}"),
        (("permanence", "add", "9999-12-31", "--hours", "19:00-20:30"), f"entre {FIRST_YEAR} et {LAST_YEAR}"),
        (("shifts", "present", "99999999999999999999999"), "Invalid value for 'shift_id'"),
        (("broadcast", "status", "99999999999999999999999"), "Invalid value for 'broadcast_id'"),
    ],
    ids=["roster", "generate", "hours", "permanence", "shift-id", "broadcast-id"],
)
async def test_the_command_line_refuses_them_too(tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    """``voisins`` with a far date or a number beyond SQLite's integers: a clear line and a non-zero exit."""
    ran = await voisins(tmp_path, *args)
    assert ran.code != 0, ran.out
    assert said in ran.out + ran.err and "Traceback" not in ran.out + ran.err, ran.err
