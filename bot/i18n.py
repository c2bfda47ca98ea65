"""Message catalogs (gettext .po files read with Babel) and the choice of a person's language.

Message ids are stable keys such as ``orientation.shelter``; every language has its own ``.po``
file per feature under ``data/locales/<lang>/LC_MESSAGES/<feature>.po``, so a translator edits one
file and a feature owns its texts.

The words people type to reach something (OUI, SUITE, solde...) are data too, beside the catalogs:
``data/locales/<lang>/keywords/<feature>.yaml`` maps a key to a list of words or phrases. A word is
recognised whatever language the person reads (a French reader types "ok" and "yes" too).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from bot.text import fold

LOCALES_DIR = Path(__file__).resolve().parent.parent / "data" / "locales"


class MissingMessage(KeyError):
    """A message id that no catalog of the default language defines: a bug, not user input."""


class KeywordError(ValueError):
    """A keyword file that is not a mapping of keys to lists of words: fails at start-up, named."""


def _read_keywords(path: Path) -> dict[str, frozenset[str]]:
    # BaseLoader reads every word as text: "yes", "no" or "on" would be booleans to safe_load.
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}  # noqa: S506
    if not isinstance(loaded, dict):
        raise KeywordError(f"{path}: expected keys, each with a list of words")
    found: dict[str, frozenset[str]] = {}
    for key, listed in loaded.items():
        if not isinstance(listed, list) or not all(isinstance(word, str) for word in listed):
            raise KeywordError(f"{path}: {key}: expected a list of words")
        found[str(key)] = frozenset(folded for folded in (fold(word) for word in listed) if folded)
    return found


class I18n:
    """All catalogs, loaded once at start-up."""

    def __init__(self, default_language: str = "fr", locales_dir: Path = LOCALES_DIR) -> None:
        self.default_language = default_language
        self.catalogs: dict[str, dict[str, str]] = {}
        self.keywords: dict[str, dict[str, frozenset[str]]] = {}
        for lang_dir in sorted(p for p in locales_dir.iterdir() if p.is_dir()):
            keywords: dict[str, frozenset[str]] = {}
            for path in sorted((lang_dir / "keywords").glob("*.yaml")):
                keywords.update(_read_keywords(path))
            self.keywords[lang_dir.name] = keywords
            messages: dict[str, str] = {}
            for po_path in sorted((lang_dir / "LC_MESSAGES").glob("*.po")):
                with po_path.open("rb") as fh:
                    catalog = read_po(fh, locale=lang_dir.name)
                for message in catalog:
                    if message.id and isinstance(message.id, str) and message.string:
                        messages[message.id] = str(message.string)
            self.catalogs[lang_dir.name] = messages
        if default_language not in self.catalogs:
            raise ValueError(f"no catalog for the default language {default_language!r} in {locales_dir}")

    @property
    def languages(self) -> list[str]:
        """Languages with a catalog, the default first."""
        others = sorted(lang for lang in self.catalogs if lang != self.default_language)
        return [self.default_language, *others]

    def normalise(self, hint: str | None) -> str | None:
        """Map a hint such as ``en-GB`` or ``EN`` to a supported language, or None."""
        if not hint:
            return None
        try:
            language = Locale.parse(hint.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            return None
        return language if language in self.catalogs else None

    def has(self, key: str, language: str) -> bool:
        return key in self.catalogs.get(language, {})

    def t(self, language: str, key: str, **params: object) -> str:
        """The text of ``key`` in ``language``, falling back to the default language."""
        text = self.catalogs.get(language, {}).get(key)
        if text is None:
            text = self.catalogs[self.default_language].get(key)
        if text is None:
            raise MissingMessage(key)
        return text.format(**params) if params else text

    def all_keys(self) -> set[str]:
        keys: set[str] = set()
        for messages in self.catalogs.values():
            keys.update(messages)
        return keys

    def variants(self, key: str) -> Iterable[str]:
        """The text of ``key`` in every language (to recognise a keyword whatever the language)."""
        for messages in self.catalogs.values():
            if key in messages:
                yield messages[key]

    def words(self, key: str) -> frozenset[str]:
        """The folded words of ``key`` in every language: what matches, whoever types it."""
        found: set[str] = set()
        for keywords in self.keywords.values():
            found.update(keywords.get(key, ()))
        return frozenset(found)
