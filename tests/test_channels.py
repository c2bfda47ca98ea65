"""The engine over every channel: menus, numbers and buttons, languages, STOP / START, bad input, restarts."""

from __future__ import annotations

import pytest

from bot.sms_text import is_gsm, segments, septets
from tests.conftest import Said, Talk

BAD_INPUTS = [
    "",
    " ",
    "x" * 5000,
    "🙂🙂🙂",
    "\x00\x07\x1b[31m bonjour \x7f",
    "<script>alert('x')</script><b>douche</b>",
    "'; DROP TABLE persons; --",
    "Robert'); DELETE FROM identities WHERE ('1'='1",
]


async def test_menu_word_and_zero_bring_the_main_menu(talk: Talk) -> None:
    """ "menu", "MENU" and "0" always bring the main menu, with its choices."""
    for word in ("menu", "MENU", "0"):
        said = await talk(word)
        assert said.has("Que cherchez-vous"), said.text
        assert said.buttons or said.has("1 "), said.text


async def test_slash_commands(talk: Talk) -> None:
    """/start welcomes, /help helps, /menu shows the menu, /language offers the languages."""
    assert (await talk("/start")).has("Bonjour, je suis le bot des Grands Voisins")
    assert (await talk("/help")).has("MENU : le menu")
    assert (await talk("/menu")).has("Que cherchez-vous")
    said = await talk("/language")
    assert said.has("Français", "English")


async def test_a_number_is_understood_against_the_last_menu(talk: Talk) -> None:
    """After the language menu, "2" (or the second button) means English; the choice is kept."""
    await talk("LANGUE")
    said = await talk.choose(2)
    assert said.has("I will answer you in English")
    assert (await talk("help")).has("Type your question")
    assert (await talk("menu")).has("What are you looking for")


async def test_language_is_per_person(talk: Talk) -> None:
    """One person choosing English changes nothing for another person."""
    await talk("language", who="sam")
    await talk.choose(2, who="sam")
    assert (await talk("aide", who="sam")).has("Type your question")
    assert (await talk("aide", who="karim")).has("Écrivez votre question")


async def test_a_number_without_menu_is_not_a_choice(talk: Talk) -> None:
    """A digit out of the last menu's range gets the short menu, not an error."""
    await talk("langue")
    said = await talk("7")
    assert said.has("Que cherchez-vous")


async def test_restart_in_the_middle_of_a_menu_keeps_the_place(talk: Talk) -> None:
    """The last menu is in the store: after a restart, "2" still picks its second choice."""
    await talk("langue")
    await talk.restart()
    said = await talk.choose(2)
    assert said.has("I will answer you in English")


async def test_stop_and_start(talk: Talk) -> None:
    """STOP opts out with a confirmation; START opts back in; the identity row says so."""
    said = await talk("STOP")
    assert said.has("vous ne recevrez plus de messages")
    row = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE channel = ? AND address = ?",
        ("console" if talk.channel == "console" else talk.channel, talk.address("alice")),
    )
    assert row is not None and row[0] is not None
    said = await talk("START")
    assert said.has("vous recevez de nouveau nos messages")
    row = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE address = ?", (talk.address("alice"),)
    )
    assert row is not None and row[0] is None


@pytest.mark.parametrize("word", ["arret", "ARRÊT", "stopall", "Unsubscribe", "cancel", "end", "quit"])
async def test_every_opt_out_word(talk: Talk, word: str) -> None:
    """Each opt-out word Twilio and French users know marks the person opted out."""
    assert (await talk(word)).has("vous ne recevrez plus de messages")


async def test_yes_opts_in_only_an_opted_out_person(talk: Talk) -> None:
    """YES undoes STOP, but for anyone else it is not an opt-in (it answers questions elsewhere)."""
    said = await talk("yes")
    assert not said.has("vous recevez de nouveau nos messages")
    await talk("stop")
    assert (await talk("YES")).has("vous recevez de nouveau nos messages")


@pytest.mark.parametrize("word", ["aide", "HELP", "info"])
async def test_help_words(talk: Talk, word: str) -> None:
    """AIDE, HELP and INFO explain how to use the bot."""
    assert (await talk(word)).has("Écrivez votre question avec vos mots")


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
async def test_bad_input_gets_a_clear_answer(talk: Talk, text: str) -> None:
    """Empty, huge, emoji-only, control characters, HTML or SQL-looking text: an answer, never an error."""
    said = await talk(text)
    assert said.texts, "no answer"
    # The menu, or an answer to what could be read: the 115, or the showers of "<b>douche</b>".
    assert said.has("Que cherchez-vous") or said.has("115") or said.has("Douches"), said.text
    assert not said.has("problème de notre côté")
    tables = await talk.core.store.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert {"persons", "identities", "conversations"} <= {row[0] for row in tables}


async def test_unknown_text_gets_a_short_menu(talk: Talk) -> None:
    """What is not understood gets a short answer with the emergency and 115 numbers and the menu."""
    said = await talk("xqzw plouf")
    assert said.has("Je n'ai pas compris", "115", "Que cherchez-vous")


def _sms_sized(said: Said) -> None:
    for text in said.texts:
        assert is_gsm(text), text
        assert septets(text) <= 306, (septets(text), text)


async def test_sms_answers_are_gsm7_and_two_segments_at_most(talk: Talk) -> None:
    """Over SMS every answer is GSM-7 and fits in two segments (the rest waits for SUITE); the menu of
    languages names each in its own script, so it is UCS-2, in three segments at most."""
    if talk.channel != "sms":
        pytest.skip("SMS rendering only")
    for text in ("/start", "aide", "menu", "stop", "start", "xqzw"):
        _sms_sized(await talk(text))
    for page in (await talk("langue")).texts:
        assert segments(page).count <= 3, (segments(page), page)


async def test_cancel_in_the_middle_of_a_step_cancels_it_without_opting_out(talk: Talk) -> None:
    """CANCEL while the bot waits for an answer cancels that conversation; the person is not opted out."""
    await talk("lier")
    said = await talk("cancel")
    assert said.has("C'est annulé")
    row = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE address = ?", (talk.address("alice"),)
    )
    assert row is not None and row[0] is None
    assert (await talk("STOP")).has("vous ne recevrez plus de messages")
