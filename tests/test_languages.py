"""A language added by data only: a catalog folder, its keyword files and one line of settings.

Spanish is made here in a copy of ``data/locales``: the French catalogs with "[es] " before each
text (so every answer shows which catalog it came from) and keyword files with Spanish words. Not
one line of code knows it; the bot is then talked to in it over every channel.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot import people
from bot.config import LOCALES_DIR, Settings
from bot.core import Core
from bot.i18n import I18n
from bot.messages import Channel, Inbound
from bot.people import roster
from bot.text import fold
from tests.commands import bot_env, voisins
from tests.conftest import Said, Talk
from tests.test_i18n import catalog_gaps, keyword_gaps, placeholder_mismatches

MARK = "[es] "
NUMBERED = re.compile(r"^\d+ \S")  # "3 Espanol": a choice, as an SMS shows it
# A few words a Spanish speaker types, beside the French ones the copy keeps (the keys must all be there).
SPANISH_WORDS = {
    "core.yes": ["sí", "vale"],
    "core.no": ["no"],
    "core.menu": ["menú", "inicio"],
    "account.help": ["ayuda"],
    "account.language": ["idioma"],
    "orientation.intent.shower": ["ducha", "duchas", "ducharme"],
}


def add_spanish(locales: Path) -> None:
    """``locales/es``: the French catalogs marked, the French keyword files plus Spanish words."""
    shutil.copytree(LOCALES_DIR, locales)
    french, spanish = locales / "fr", locales / "es"
    (spanish / "LC_MESSAGES").mkdir(parents=True)
    for path in sorted((french / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="es")
        for message in catalog:
            if message.id and isinstance(message.string, str):
                message.string = MARK + message.string
        with (spanish / "LC_MESSAGES" / path.name).open("wb") as fh:
            write_po(fh, catalog, width=0)
    shutil.copytree(french / "keywords", spanish / "keywords")
    lines = [f"{key}: [{', '.join(words)}]" for key, words in SPANISH_WORDS.items()]
    (spanish / "keywords" / "spanish_test.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(autouse=True)
def spanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every bot of these tests reads LANGUAGES=fr,en,es and LOCALES_DIR from the environment, as from .env."""
    locales = tmp_path / "locales"
    add_spanish(locales)
    monkeypatch.setenv("LANGUAGES", "fr,en,es")
    monkeypatch.setenv("LOCALES_DIR", str(locales))
    return locales


def spanish_only(said: Said) -> bool:
    """Every message and every choice came from the Spanish catalogs (or is a language's own name,
    or is said in every language).

    Folded, as SMS spells them (GSM-7: "Francais"); an SMS carries its choices as numbered lines.
    """
    names = {fold(name) for name in ("Français", "English", "Español")}
    marked = fold(MARK)

    def spanish(label: str) -> bool:
        # "Langue / Language / [es] Langue": the way to the languages is in all of them.
        return fold(label) in names or any(fold(part).startswith(marked) for part in label.split(" / "))

    choices = [button.split(" ", 1)[1] for button in said.buttons]
    for text in said.texts:
        lines = text.splitlines()
        choices += [line.split(" ", 1)[1] for line in lines if NUMBERED.match(line)]
        if not (NUMBERED.match(lines[0]) or spanish(lines[0])):
            return False
    return bool(said.texts) and all(spanish(label) for label in choices)


def test_the_spanish_catalogs_are_complete(spanish: Path) -> None:
    """The catalog-completeness checks hold for the configured set, Spanish included."""
    i18n = I18n.configured(Settings(_env_file=None))  # type: ignore[call-arg]
    assert i18n.languages == ["fr", "en", "es"]
    assert "es" not in catalog_gaps(i18n) and "es" not in keyword_gaps(i18n)
    assert [key for language, key in placeholder_mismatches(i18n) if language == "es"] == []
    assert i18n.language_name("es", title=True) == "Español"
    assert i18n.language_name("es", "fr") == "espagnol"


async def test_talking_spanish_on_every_channel(talk: Talk) -> None:
    """LANGUE offers Español under its own name; chosen, the menu, its words and a confirmation are Spanish."""
    offered = await talk("LANGUE")
    assert offered.has("Choisissez votre langue / Choose your language / [es] Choisissez votre langue")
    assert offered.has("1 Français", "2 English", "3 Español"), offered.text

    chosen = await talk.choose(3)
    assert spanish_only(chosen), chosen.text
    if talk.channel != "sms":  # by SMS it is on the menu's second page (SUITE)
        assert chosen.has("Langue / Language / [es] Langue")  # the menu's way back to the languages
    assert await talk.core.store.fetchone(
        "SELECT 1 FROM persons p JOIN identities i ON i.person_id = p.id WHERE i.address = ? AND p.language = 'es'",
        (talk.address("alice"),),
    )

    menu = await talk("Menú")
    assert spanish_only(menu), menu.text

    asked = await talk("oublier")  # erasing one's data asks first, in Spanish
    assert spanish_only(asked), asked.text
    done = await talk.confirm(asked, word="SÍ")  # with the SMS code by SMS: "SÍ 4721"
    assert done.texts and done.texts[0].startswith(MARK), done.text
    gone = await talk.core.store.fetchone("SELECT 1 FROM identities WHERE address = ?", (talk.address("alice"),))
    assert gone is None


async def test_a_question_in_spanish_words_is_answered_in_spanish(talk: Talk) -> None:
    """Orientation's phrases are keyword data too: "ducha" reaches the shower answer, in Spanish,
    even from someone the bot has never seen (whose language is still French); "douche" stays French."""
    asked = await talk("donde puedo tomar una ducha", "elena")
    assert asked.texts and asked.texts[0].startswith(MARK), asked.text
    assert "Bains-douches" in asked.text  # the city's public baths
    french = await talk("douche", "felix")
    assert french.texts and not french.texts[0].startswith(MARK), french.text
    assert "Bains-douches" in french.text


async def test_typing_a_language_name_chooses_it(talk: Talk) -> None:
    """A language's name in any configured language, alone, chooses it: "espagnol", "Spanish", "español"."""
    for word, who in (("espagnol", "bea"), ("Spanish", "carl"), ("ESPAÑOL", "dina")):
        said = await talk(word, who)
        assert spanish_only(said), (word, said.text)


async def test_a_roster_row_in_spanish_is_imported(core: Core) -> None:
    """A CSV row with language es (or its name) is accepted, and that person is answered in Spanish."""
    csv = (
        "name,phone,telegram_id,roles,language,member_code\n"
        "Rosa,06 39 98 00 21,,resident,es,\n"
        "Pablo,06 39 98 00 22,,resident,Español,\n"
        "Hans,06 39 98 00 23,,resident,de,\n"
    )
    report = await roster.import_roster(core.store, core.clock.now(), roster.parse(csv.encode()), core.i18n)
    assert report.created == 2
    assert [(r.line, r.key, r.params.get("known")) for r in report.rejected] == [
        (4, "people.row_bad_language", "fr, en, es")
    ]
    for phone in ("+33639980021", "+33639980022"):
        person, _ = await people.identify(core.store, Channel.SMS, phone, core.clock.now())
        assert person.language == "es"
    answer = await core.dispatcher.handle(Inbound(Channel.SMS, "+33639980021", "menu"))
    assert answer and all(reply.text.startswith(MARK) for reply in answer)


async def test_a_language_without_its_folder_stops_the_start_in_one_line(tmp_path: Path) -> None:
    """LANGUAGES=fr,en,xx with no xx folder: voisins run says so in one line naming LANGUAGES and the folder."""
    env = bot_env(tmp_path, LANGUAGES="fr,en,xx", LOCALES_DIR=str(LOCALES_DIR))
    ran = await voisins(tmp_path, "run", env=env)
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert ran.code == 2, ran.err
    assert len(lines) == 1, ran.err
    assert "LANGUAGES=fr,en,xx" in lines[0] and str(LOCALES_DIR / "xx" / "LC_MESSAGES") in lines[0]
    assert "Traceback" not in ran.err
