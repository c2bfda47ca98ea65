"""Every message exists in every configured language, and the catalogs are well formed.

The languages are those of ``LANGUAGES`` (``fr,en`` unless the environment says otherwise), so a
translator adding one runs these tests with it configured.
"""

import re
from pathlib import Path

import pytest

from bot.config import Settings
from bot.i18n import LANGUAGE_NAME, I18n, MissingMessage

ROOT = Path(__file__).resolve().parent.parent
KEY = r"""["']([a-z_]+\.[a-z0-9_.]+)["']"""
PLURAL_FORM = re.compile(r"_(zero|one|two|few|many)$")
KEY_IN_CODE = re.compile(rf"""(?:\bt\(\s*|(?:menu|help)_entry\(\s*["'A-Z_][^,]*,\s*){KEY}""")


def keys_used_in_code() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        found.update(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return found


def configured() -> I18n:
    """The catalogs of the configured languages (the environment's LANGUAGES and LOCALES_DIR)."""
    return I18n.configured(Settings(_env_file=None))  # type: ignore[call-arg]


def catalog_gaps(i18n: I18n) -> dict[str, tuple[list[str], list[str]]]:
    """Per language: the default language's message ids it lacks, and the ids only it has.

    A language's own name (``core.language_name``) is the one message a catalog may have alone, with
    the plural forms its language has and the default's lacks (Arabic's ``key_two``, ``key_few``...
    beside a ``key_other``).
    """
    default = set(i18n.catalogs[i18n.default_language]) - {LANGUAGE_NAME}
    gaps = {}
    for language in i18n.languages:
        own = set(i18n.catalogs[language]) - {LANGUAGE_NAME}
        own -= {key for key in own - default if PLURAL_FORM.search(key) and PLURAL_FORM.sub("_other", key) in default}
        if own != default:
            gaps[language] = (sorted(default - own), sorted(own - default))
    return gaps


def keyword_gaps(i18n: I18n) -> dict[str, list[str]]:
    """Per language: the default language's keyword keys it lacks (``key: []`` says "no such word here")."""
    default = set(i18n.keywords[i18n.default_language])
    return {
        language: missing for language in i18n.languages if (missing := sorted(default - set(i18n.keywords[language])))
    }


def test_every_language_has_every_message() -> None:
    """Every configured language defines the default language's message ids and keyword keys, none empty."""
    i18n = configured()
    assert i18n.languages[0] == i18n.default_language
    assert catalog_gaps(i18n) == {}
    assert keyword_gaps(i18n) == {}
    for language, messages in i18n.catalogs.items():
        empty = [key for key, text in messages.items() if not text.strip()]
        assert not empty, f"{language}: empty messages {empty}"


def test_every_key_used_in_code_is_translated() -> None:
    """A text the code asks for by a literal key exists in every configured language."""
    i18n = configured()
    used = keys_used_in_code()
    assert "core.menu" in used and "account.help" in used
    for language in i18n.languages:
        missing = sorted(key for key in used if not i18n.has(key, language))
        assert not missing, f"{language} lacks {missing}"


def placeholder_mismatches(i18n: I18n) -> list[tuple[str, str]]:
    """(language, key) where a translation's {placeholders} differ from the default language's."""
    field = re.compile(r"{([a-z_0-9]+)[^}]*}")
    default = i18n.catalogs[i18n.default_language]
    return [
        (language, key)
        for language in i18n.languages[1:]
        for key, text in i18n.catalogs[language].items()
        if key in default and set(field.findall(text)) != set(field.findall(default[key]))
    ]


def test_placeholders_match_between_languages() -> None:
    """A translation uses the same {placeholders} as the default language's text, so formatting never fails."""
    assert placeholder_mismatches(configured()) == []


def test_only_the_configured_languages_are_loaded(tmp_path: Path) -> None:
    """I18n reads the languages it is given, the default first; a folder not configured is not read."""
    only_french = I18n(languages=("fr",))
    assert only_french.languages == ["fr"] and set(only_french.catalogs) == {"fr"}
    assert only_french.normalise("en-GB") is None
    assert I18n("en", languages=("fr", "en")).languages == ["en", "fr"]
    assert I18n("ar").languages == ["ar", "fr", "en", "fa_AF", "ps", "ti"]
    with pytest.raises(ValueError, match="xx"):
        I18n(languages=("fr", "xx"))


def test_languages_are_named_by_babel() -> None:
    """Each language has its own name for the menus and a name in the reader's; any of them chooses it."""
    i18n = I18n()
    names = [i18n.language_name(code, title=True) for code in i18n.languages]
    assert names == ["Français", "English", "العربية", "دری", "پښتو", "ትግርኛ"]
    assert i18n.language_name("en", "fr") == "anglais"
    assert i18n.language_name("ar", "fr") == "arabe" and i18n.language_name("ti", "en") == "Tigrinya"
    assert {i18n.language_named(word) for word in ("dari", "Dari", "دری", "دري")} == {"fa_AF"}
    assert {i18n.language_named(word) for word in ("pashto", "پښتو", "پشتو")} == {"ps"}
    assert {i18n.language_named(word) for word in ("tigrinya", "ትግርኛ", "arabe")} == {"ti", "ar"}
    assert i18n.language_name("fr", "en") == "French"
    assert {i18n.language_named(word) for word in ("Anglais", "english", "ENGLISH")} == {"en"}
    assert i18n.language_named("français") == "fr"
    assert i18n.language_named("en") is None  # a code is not a name: "en" is also a French word


def test_unknown_key_is_a_bug_not_a_blank() -> None:
    """Asking for a message that does not exist raises instead of sending an empty text."""
    with pytest.raises(MissingMessage):
        I18n("fr").t("en", "core.no_such_message")


def test_language_hints_are_normalised() -> None:
    """Telegram's language codes map to a configured language, or to none."""
    i18n = I18n("fr")
    assert i18n.normalise("en-GB") == "en"
    assert i18n.normalise("FR") == "fr"
    assert i18n.normalise("pt-br") is None
    assert i18n.normalise("") is None
    assert i18n.normalise("not a language!") is None


def test_plurals_follow_each_language_rule() -> None:
    """French says "0 bénévole prévenu" and "1 bénévole prévenu", English "0 volunteers told" (Babel's rules)."""
    i18n = I18n("fr", languages=("fr", "en"))
    said = {(lang, n): i18n.plural(lang, "volunteers.told", n) for lang in ("fr", "en") for n in (0, 1, 2)}
    assert said == {
        ("fr", 0): "0 bénévole prévenu",
        ("fr", 1): "1 bénévole prévenu",
        ("fr", 2): "2 bénévoles prévenus",
        ("en", 0): "0 volunteers told",
        ("en", 1): "1 volunteer told",
        ("en", 2): "2 volunteers told",
    }
    assert i18n.plural("fr", "trocshop_cli.check_notes_negative", -1, denomination=15) == (
        "billets de 15 min : -1 billet en circulation"
    )
