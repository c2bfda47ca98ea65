"""Message catalogs (gettext .po files read with Babel) and the choice of a person's language.

Message ids are stable keys such as ``orientation.shelter``; every language has its own ``.po``
file per feature under ``data/locales/<lang>/LC_MESSAGES/<feature>.po``, so a translator edits one
file and a feature owns its texts.

The words people type to reach something (OUI, SUITE, solde...) are data too, beside the catalogs:
``data/locales/<lang>/keywords/<feature>.yaml`` maps a key to a list of words or phrases. A word is
recognised whatever language the person reads (a French reader types "ok" and "yes" too).

The set of languages is configuration: ``LANGUAGES`` (default ``fr,en``) names folders of
``LOCALES_DIR``, and only those are loaded. A language's name comes from Babel (``español``,
``anglais``), so adding a language is its folder and one line in ``.env``; a language Babel does
not know is named by its catalog's ``core.language_name``, and its keyword file's
``core.language_name`` adds ways people type its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from bot.config import DEFAULT_LANGUAGES, LOCALES_DIR, Settings
from bot.text import fold

# A catalog key: a language's own name, for the menus, when Babel does not have it right (or at all).
# A keyword key, in that language's folder: more words that name the language ("francophone").
LANGUAGE_NAME = "core.language_name"
# To answer one message in another language than the one it would get takes this many words that
# only that language's keyword files have: "my next shift" is English, "help" or "douche" alone is not.
WORDS_TO_SWITCH = 2


class MissingMessage(KeyError):
    """A message id that no catalog of the default language defines: a bug, not user input."""


class KeywordError(ValueError):
    """A keyword file that is not a mapping of keys to lists of words: fails at start-up, named."""


def catalog_files(locales_dir: Path, language: str) -> list[Path]:
    """A language's catalogs: ``<locales_dir>/<language>/LC_MESSAGES/*.po`` (none: the language is not there)."""
    return sorted((locales_dir / language / "LC_MESSAGES").glob("*.po"))


def _babel_knows(code: str) -> bool:
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return False
    return True


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
    """The catalogs and keywords of the configured languages, loaded once at start-up."""

    def __init__(
        self,
        default_language: str | None = None,
        locales_dir: Path = LOCALES_DIR,
        *,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
    ) -> None:
        """``languages`` as configured; ``default_language`` one of them (None: the first)."""
        default = languages[0] if default_language is None else default_language
        if default not in languages:
            raise ValueError(f"the default language {default!r} is not one of {list(languages)}")
        self.default_language = default
        self._languages = [default, *(code for code in languages if code != default)]
        self.catalogs: dict[str, dict[str, str]] = {}
        self.keywords: dict[str, dict[str, frozenset[str]]] = {}
        self._words: dict[str, frozenset[str]] = {}  # words() per key: read on every message
        self._telling: dict[str, str] | None = None  # written_in(): a word and the one language that has it
        for code in self._languages:
            files = catalog_files(locales_dir, code)
            if not files:
                raise ValueError(f"no catalog for the language {code!r} in {locales_dir / code / 'LC_MESSAGES'}")
            keywords: dict[str, frozenset[str]] = {}
            for path in sorted((locales_dir / code / "keywords").glob("*.yaml")):
                keywords.update(_read_keywords(path))
            self.keywords[code] = keywords
            messages: dict[str, str] = {}
            for po_path in files:
                with po_path.open("rb") as fh:
                    catalog = read_po(fh, locale=code if _babel_knows(code) else None)
                for message in catalog:
                    if message.id and isinstance(message.id, str) and message.string:
                        messages[message.id] = str(message.string)
            self.catalogs[code] = messages
        # Every name of every language, folded, in every language: what people type to choose one.
        self._named: dict[str, str] = {}
        for code in self._languages:
            names = {fold(self.language_name(code, reader)) for reader in self._languages}
            names |= self.keywords[code].get(LANGUAGE_NAME, frozenset())
            names.discard("")
            self.keywords[code][LANGUAGE_NAME] = frozenset(names)
            for name in names:
                self._named.setdefault(name, code)

    @classmethod
    def configured(cls, settings: Settings) -> I18n:
        """The catalogs of ``LANGUAGES`` in ``LOCALES_DIR``, ``DEFAULT_LANGUAGE`` first."""
        return cls(settings.default_language, settings.locales_dir, languages=settings.languages)

    @property
    def languages(self) -> list[str]:
        """The configured languages, the default first, then in the order of ``LANGUAGES``."""
        return list(self._languages)

    def language_name(self, code: str, reader: str | None = None, *, title: bool = False) -> str:
        """``code``'s name in ``reader``'s language ("anglais"), or its own name ("English") without a reader.

        Its own name is the catalog's ``core.language_name`` when there is one, else Babel's; a
        name in another language is Babel's, else the own name. ``title`` capitalises it for a
        button ("Français").
        """
        name: str | None = None
        if reader is None or reader == code:
            name = self.catalogs.get(code, {}).get(LANGUAGE_NAME)
        if name is None:
            try:
                name = Locale.parse(code).get_display_name(reader or code)
            except (ValueError, UnknownLocaleError):
                name = None
        if not name:
            if reader is not None and reader != code:
                return self.language_name(code, title=title)
            name = code
        return name[:1].upper() + name[1:] if title else name

    def language_named(self, text: str) -> str | None:
        """The configured language ``text`` names ("Español", "anglais", "english"), or None."""
        return self._named.get(fold(text))

    def every_language(self, key: str) -> str:
        """``key`` in every language, the default first, as one line: what anyone can read before choosing."""
        return " / ".join(dict.fromkeys(self.t(code, key) for code in self._languages))

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

    def plural(self, language: str, key: str, n: int, /, **params: object) -> str:
        """The text of ``key_<category>`` for ``n`` in ``language`` (CLDR's plural category through
        Babel: ``one`` or ``other`` in French and English, where French says "0 personne" and English
        "0 people"), else ``key_other``. ``{count}`` is ``n`` unless ``params`` give it formatted.
        """
        values = {"count": n, **params}
        for code in dict.fromkeys((language, self.default_language)):
            messages = self.catalogs.get(code, {})
            for candidate in (f"{key}_{_plural_category(code, n)}", f"{key}_other"):
                if candidate in messages:
                    return messages[candidate].format(**values)
        raise MissingMessage(f"{key}_other")

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

    def written_in(self, text: str, current: str, needed: int = WORDS_TO_SWITCH) -> str:
        """The language ``text`` is clearly written in: ``current``, unless ``needed`` of its words are
        only in another language's keyword files and none only in a third's (languages' names aside:
        "je parle anglais" is French)."""
        if self._telling is None:
            languages: dict[str, set[str]] = {}
            for code, keys in self.keywords.items():
                for key, phrases in keys.items():
                    if key != LANGUAGE_NAME:
                        for word in (word for phrase in phrases for word in phrase.split()):
                            languages.setdefault(word, set()).add(code)
            self._telling = {word: next(iter(codes)) for word, codes in languages.items() if len(codes) == 1}
        told = [self._telling[word] for word in fold(text).split() if word in self._telling]
        if told and len(set(told)) == 1 and told[0] != current and len(told) >= needed:
            return told[0]
        return current

    def words(self, key: str, language: str | None = None) -> frozenset[str]:
        """The folded words of ``key`` in every language (what matches, whoever types it), or in one."""
        if language is not None:
            return self.keywords.get(language, {}).get(key, frozenset())
        found = self._words.get(key)
        if found is None:
            found = frozenset(word for words in self.keywords.values() for word in words.get(key, ()))
            self._words[key] = found
        return found


@cache
def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return None


def _plural_category(code: str, count: int) -> str:
    """Babel's plural category of ``count`` in the language ``code`` ("other" when Babel does not know it)."""
    locale = _locale(code)
    return "other" if locale is None else str(locale.plural_form(abs(count)))


@cache
def shipped() -> I18n:
    """The default languages' catalogs and keywords, read once: for a parser called on its own (the
    command line, a test); the bot passes its own I18n, so its configured languages' words count."""
    return I18n()
