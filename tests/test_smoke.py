"""First checks of the engine through the terminal channel."""

from tests.conftest import Talk


async def test_menu_is_shown_for_menu_word(talk: Talk) -> None:
    """ "menu" brings the main menu with the language entry."""
    said = await talk("menu")
    assert said.has("Langue / Language")


async def test_language_choice_switches_to_english(talk: Talk) -> None:
    """Choosing English from the language menu answers in English from then on."""
    await talk("langue")
    said = await talk.choose(2)
    assert said.has("I will answer you in English")
    assert (await talk("aide")).has("Type your question")
