"""Every message exists in every language, and the catalogs are well formed."""

import re
from pathlib import Path

import pytest

from bot.i18n import I18n, MissingMessage

ROOT = Path(__file__).resolve().parent.parent
KEY = r"""["']([a-z_]+\.[a-z0-9_.]+)["']"""
KEY_IN_CODE = re.compile(rf"""(?:\bt\(\s*|menu_entry\(\s*["'][^"']+["'],\s*){KEY}""")


def keys_used_in_code() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        found.update(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_language_has_every_message() -> None:
    """French and English catalogs define exactly the same message ids, none empty."""
    i18n = I18n("fr")
    assert set(i18n.languages) == {"fr", "en"}
    assert set(i18n.catalogs["fr"]) == set(i18n.catalogs["en"])
    for language, messages in i18n.catalogs.items():
        empty = [key for key, text in messages.items() if not text.strip()]
        assert not empty, f"{language}: empty messages {empty}"


def test_every_key_used_in_code_is_translated() -> None:
    """A text the code asks for by a literal key exists in both languages."""
    i18n = I18n("fr")
    used = keys_used_in_code()
    assert "core.menu" in used and "account.help" in used
    for language in ("fr", "en"):
        missing = sorted(key for key in used if not i18n.has(key, language))
        assert not missing, f"{language} lacks {missing}"


def test_placeholders_match_between_languages() -> None:
    """A translation uses the same {placeholders} as the French text, so formatting never fails."""
    i18n = I18n("fr")
    field = re.compile(r"{([a-z_0-9]+)[^}]*}")
    for key, french in i18n.catalogs["fr"].items():
        assert set(field.findall(french)) == set(field.findall(i18n.catalogs["en"][key])), key


def test_unknown_key_is_a_bug_not_a_blank() -> None:
    """Asking for a message that does not exist raises instead of sending an empty text."""
    with pytest.raises(MissingMessage):
        I18n("fr").t("en", "core.no_such_message")


def test_language_hints_are_normalised() -> None:
    """Telegram's language codes map to a supported language, or to none."""
    i18n = I18n("fr")
    assert i18n.normalise("en-GB") == "en"
    assert i18n.normalise("FR") == "fr"
    assert i18n.normalise("pt-br") is None
    assert i18n.normalise("") is None
    assert i18n.normalise("not a language!") is None
