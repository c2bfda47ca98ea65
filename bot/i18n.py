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

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.pofile import read_po

from bot.config import DEFAULT_LANGUAGES, LOCALES_DIR, Settings
from bot.text import fold, isolate_ltr

# A catalog key: a language's own name, for the menus, when Babel does not have it right (or at all).
# A keyword key, in that language's folder: more words that name the language ("francophone").
LANGUAGE_NAME = "core.language_name"
# To answer one message in another language than the one it would get takes this many words that
# only that language's keyword files have: "my next shift" is English, "help" or "douche" alone is not.
WORDS_TO_SWITCH = 2
# Unicode's name of a letter starts with its script; the ISO 15924 code Babel's likely subtags use.
SCRIPT_NAMES = {"LATIN": "Latn", "ARABIC": "Arab", "ETHIOPIC": "Ethi", "CYRILLIC": "Cyrl", "GREEK": "Grek"}


_BASE_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


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
    # BaseLoader reads every word as text: "yes", "no" or "on" would be booleans to safe_load. libyaml's
    # (C) one when PyYAML has it: six languages' keyword files take seconds to the Python parser.
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_BASE_LOADER) or {}  # noqa: S506
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
        self.review: dict[str, frozenset[str]] = {}  # per language, the keys marked fuzzy (to be reviewed)
        self._letters: dict[str, Counter[str]] = {}  # per language, the letters of its catalogs
        for code in self._languages:
            files = catalog_files(locales_dir, code)
            if not files:
                raise ValueError(f"no catalog for the language {code!r} in {locales_dir / code / 'LC_MESSAGES'}")
            keywords: dict[str, frozenset[str]] = {}
            for path in sorted((locales_dir / code / "keywords").glob("*.yaml")):
                keywords.update(_read_keywords(path))
            self.keywords[code] = keywords
            messages: dict[str, str] = {}
            review: set[str] = set()
            for po_path in files:
                with po_path.open("rb") as fh:
                    catalog = read_po(fh, locale=code if _babel_knows(code) else None)
                for message in catalog:
                    if message.id and isinstance(message.id, str) and message.string:
                        messages[message.id] = str(message.string)
                        if message.fuzzy:  # still used: a near-right sentence beats one in another language
                            review.add(message.id)
            self.catalogs[code] = messages
            self.review[code] = frozenset(review)
            self._letters[code] = Counter(ch for text in messages.values() for ch in text if ch.isalpha())
        self._rtl = frozenset(code for code in self._languages if _direction(code) == "rtl")
        self._scripts = {code: _script_of_language(code) for code in self._languages}
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
        """The catalogs of ``LANGUAGES`` in ``LOCALES_DIR``, ``DEFAULT_LANGUAGE`` first.

        Read once per configuration and process (six languages' catalogs take most of a second, and a
        command, a test or a second bot in the same process reads the same files).
        """
        return _configured(settings.default_language, settings.locales_dir.resolve(), tuple(settings.languages))

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

    def every_language(self, key: str, reader: str | None = None) -> str:
        """``key`` in every language, the default first, as one line: what anyone can read before choosing.

        With a ``reader``, only the languages of the default's script, and the reader's own: a menu
        line "Langue / Language" in a French SMS stays GSM-7, an Arabic reader's is "Langue / اللغة"
        (three segments hold little in UCS-2). Whoever writes in another script is answered in its
        language anyway, and the menu it opens names every language.
        """
        codes = self._languages
        if reader is not None:
            script = self._scripts.get(self.default_language)
            codes = [code for code in codes if code == reader or self._scripts[code] == script]
            if reader != self.default_language and self._scripts.get(reader) != script:
                codes = [self.default_language, reader]
        return " / ".join(dict.fromkeys(self.t(code, key) for code in codes))

    def normalise(self, hint: str | None) -> str | None:
        """Map a hint such as ``en-GB`` or ``EN`` to a supported language, or None."""
        if not hint:
            return None
        try:
            locale = Locale.parse(hint.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            return None
        for code in (str(locale), f"{locale.language}_{locale.territory}", locale.language):
            if code in self.catalogs:
                return code
        # A regional language configured by its region ("fa_AF" for Dari) answers a hint of the language.
        return next((code for code in self._languages if _language_of(code) == locale.language), None)

    def has(self, key: str, language: str) -> bool:
        return key in self.catalogs.get(language, {})

    def t(self, language: str, key: str, **params: object) -> str:
        """The text of ``key`` in ``language``, falling back to the default language."""
        text = self.catalogs.get(language, {}).get(key)
        if text is None:
            text = self.catalogs[self.default_language].get(key)
        if text is None:
            raise MissingMessage(key)
        said = text.format(**params) if params else text
        return isolate_ltr(said) if language in self._rtl else said

    def right_to_left(self, language: str) -> bool:
        """Whether ``language`` is written right to left (Babel): its numbers and addresses are isolated."""
        return language in self._rtl

    def needs_review(self, language: str, key: str) -> bool:
        """Whether ``key``'s text in ``language`` is marked fuzzy: written without a native speaker."""
        return key in self.review.get(language, frozenset())

    def script(self, language: str) -> str | None:
        """The ISO 15924 script ``language`` is written in ("Arab", "Ethi", "Latn"), from Babel."""
        return self._scripts.get(language)

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
                    said = messages[candidate].format(**values)
                    return isolate_ltr(said) if language in self._rtl else said
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
        """The language ``text`` is clearly written in, else ``current``.

        A text in another script than ``current``'s is in a language of that script: the only one
        configured (Ge'ez), else the one most of its words tell (keyword files), else ``current``
        when it has that script and the words say nothing, else the one whose catalogs' letters make
        the text likeliest (Pashto's ښ, Dari's گ and ی, Arabic's ي and ة). A text in ``current``'s
        script changes language when ``needed`` of its words are only in another language's keyword
        files and none only in a third's (languages' names aside: "je parle anglais" is French).
        """
        script = self.script_of(text)
        told = [self._telling_words().get(word) for word in fold(text).split()]
        if script is not None and script != "Latn":
            same = [code for code in self._languages if self._scripts[code] == script]
            if not same:
                return current
            if len(same) == 1:
                return same[0]
            votes = Counter(code for code in told if code in same)
            most = max(votes.values(), default=0)
            candidates = [code for code in same if votes[code] == most]
            if len(candidates) == 1:
                return candidates[0]
            if current in candidates and most == 0:
                return current  # a hint (Telegram's "fa") or the default, when the words say nothing
            return max(candidates, key=lambda code: self._letters_likelihood(code, text))
        found = [code for code in told if code is not None]
        if found and len(set(found)) == 1 and found[0] != current and len(found) >= needed:
            return found[0]
        return current

    def script_of(self, text: str) -> str | None:
        """The script most of ``text``'s letters are in (ISO 15924), or None: no letter, or one we do not know."""
        scripts = (SCRIPT_NAMES.get(unicodedata.name(ch, "").split(" ")[0]) for ch in text if ch.isalpha())
        counted = Counter(script for script in scripts if script is not None)
        return counted.most_common(1)[0][0] if counted else None

    def _telling_words(self) -> dict[str, str]:
        """Each folded word that only one language's keyword files have, and that language."""
        if self._telling is None:
            languages: dict[str, set[str]] = {}
            for code, keys in self.keywords.items():
                for key, phrases in keys.items():
                    if key != LANGUAGE_NAME:
                        for word in (word for phrase in phrases for word in phrase.split()):
                            languages.setdefault(word, set()).add(code)
            self._telling = {word: next(iter(codes)) for word, codes in languages.items() if len(codes) == 1}
        return self._telling

    def _letters_likelihood(self, code: str, text: str) -> float:
        """How likely ``text``'s letters are in ``code``'s catalogs (a naive Bayes model of single letters,
        learnt from the catalogs themselves): Arabic's ة and ي, Dari's گ and ی, Pashto's ښ and ټ tell."""
        letters = self._letters[code]
        total = sum(letters.values()) + len(letters) + 1
        return sum(math.log((letters[ch] + 1) / total) for ch in text if ch.isalpha())

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
def _configured(default_language: str, locales_dir: Path, languages: tuple[str, ...]) -> I18n:
    return I18n(default_language, locales_dir, languages=languages)


@cache
def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return None


def _language_of(code: str) -> str:
    """The language part of a locale code: "fa" of "fa_AF"."""
    locale = _locale(code)
    return code.split("_")[0] if locale is None else locale.language


def _direction(code: str) -> str:
    locale = _locale(code)
    return "ltr" if locale is None else locale.text_direction


def _script_of_language(code: str) -> str | None:
    """The script ``code`` is written in: its own, else Babel's likely one ("ti" -> "Ethi")."""
    locale = _locale(code)
    if locale is not None and locale.script:
        return str(locale.script)
    likely = get_global("likely_subtags")
    for candidate in (code, _language_of(code)):
        parts = str(likely.get(candidate, "")).split("_")
        if len(parts) > 1 and len(parts[1]) == 4:
            return parts[1]
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
