"""AIDE over every channel: a registered person is told what their roles let them do, as numbered choices
on one SMS page; someone unknown keeps the help and the menu as they were."""

from __future__ import annotations

import pytest

from bot.app import build_core
from bot.clock import FakeClock
from bot.config import Settings
from bot.dispatch import Router
from bot.sms_text import PAGE_SEPTETS, is_gsm, septets
from handlers import registry
from tests.conftest import Said, Talk
from tests.helpers import register_here

EVERY_ROLE = {"resident", "worker", "volunteer", "staff", "admin"}


def offered(said: Said) -> list[str]:
    """The numbered choices, as buttons (Telegram) or as the lines of the SMS or terminal text."""
    lines = [line for text in said.texts for line in text.splitlines()]
    return said.buttons or [line for line in lines if line[:1].isdigit() and line[1:2] == " "]


def one_sms_page(talk: Talk, said: Said) -> None:
    if talk.channel == "sms":
        assert len(said.texts) == 1 and not said.has("SUITE"), said.text
        assert is_gsm(said.texts[0]) and septets(said.texts[0]) <= PAGE_SEPTETS, said.text


@pytest.mark.parametrize(
    ("roles", "present", "absent"),
    [
        ({"resident", "worker"}, ["SOLDE", "HISTORIQUE", "PAYER", "PLANNING", "INSCRIPTION"], ["PERMANENCE"]),
        ({"resident"}, ["SOLDE", "HISTORIQUE", "PAYER", "INSCRIPTION"], ["PLANNING", "PERMANENCE"]),
        ({"volunteer"}, ["SOLDE", "PAYER", "INSCRIPTION", "PERMANENCE"], ["PLANNING"]),
        (EVERY_ROLE, ["SOLDE", "HISTORIQUE", "PAYER", "PLANNING", "INSCRIPTION", "PERMANENCE"], []),
    ],
)
async def test_aide_says_what_the_roles_allow(
    talk: Talk, roles: set[str], present: list[str], absent: list[str]
) -> None:
    """Each word is offered only to whom it serves, numbered like the menu, on one SMS page."""
    await register_here(talk, "karim", roles, "Karim")
    said = await talk("aide", who="karim")
    assert said.has("Ecrivez votre question", "MENU", "STOP", "112"), said.text
    choices = offered(said)
    for word in present:
        assert any(word in choice for choice in choices), (word, said.text)
    for word in absent:
        assert not any(word in choice for choice in choices), (word, said.text)
    assert not said.has("Que cherchez-vous"), said.text  # its own choices, not the main menu's
    one_sms_page(talk, said)


async def test_the_choices_of_aide_answer(talk: Talk) -> None:
    """A number (or a button) after AIDE does what its line says: the balance, how to pay, the planning."""
    await register_here(talk, "karim", {"resident", "worker"}, "Karim")
    await talk("aide", who="karim")
    assert (await talk.choose(1, who="karim")).has("Trocshop : votre solde est de")
    await talk("aide", who="karim")
    assert (await talk.choose(3, who="karim")).has("Pour payer, ecrivez par exemple")
    await talk("aide", who="karim")
    said = await talk.choose(4, who="karim")
    assert not said.has("reservee") and not said.has("Que cherchez-vous"), said.text
    await talk("aide", who="karim")
    assert (await talk.choose(5, who="karim")).has("nom ou prenom")  # INSCRIPTION starts a sign-up


async def test_aide_in_english_for_a_registered_person(talk: Talk) -> None:
    """Sam reads English and has every role: the words of his choices are the English ones, on one SMS page."""
    await register_here(talk, "sam", EVERY_ROLE, "Sam", language="en")
    said = await talk("help", who="sam")
    assert said.has("Type your question", "BALANCE: my Trocshop balance", "PAY: pay in time", "SIGN UP"), said.text
    assert said.has("MY SHIFTS: my shifts", "NEXT MEETING"), said.text
    one_sms_page(talk, said)


async def test_aide_of_someone_unknown_is_unchanged(talk: Talk) -> None:
    """An unknown person still gets the help text and the main menu."""
    said = await talk("aide", who="stranger")
    assert said.has("Ecrivez votre question avec vos mots (ex. : douche", "LANGUE", "Que cherchez-vous"), said.text
    assert not said.has("SOLDE")


async def test_a_help_entry_naming_no_action_stops_the_start(settings: Settings, clock: FakeClock) -> None:
    """A help entry must name an action a router answers: a typo fails at start, not in a conversation."""
    intruder = Router("intruder")
    intruder.help_entry("intruder.nothing", "account.help", order=1)
    with pytest.raises(ValueError, match="help entries"):
        await build_core(settings, clock, [*registry.routers(), intruder])


async def test_every_help_entry_is_allowed_to_whom_it_is_shown(talk: Talk) -> None:
    """For every role alone, each offered choice runs without a refusal (the guard and AIDE agree)."""
    refusals = ("reservee a l'equipe", "il faut etre inscrit", "pour les salaries")
    for role in sorted(EVERY_ROLE):
        await register_here(talk, role, {role}, role.title())
        count = len(offered(await talk("aide", who=role)))
        for n in range(1, count + 1):
            await talk("aide", who=role)
            said = await talk.choose(n, who=role)
            assert not any(said.has(r) for r in refusals), (role, n, said.text)
            await talk("menu", who=role)
