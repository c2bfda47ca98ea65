"""Free text to an intent: folded words, phrases from the keyword files, typos tolerated by rapidfuzz.

People write "jsui a la rue", "douch 10e", "shower 75012", "il me frappe": every message is folded
(lower case, no accents, no punctuation), then phrases are looked for as runs of consecutive words,
each word equal to the phrase's or, for words of four letters or more, a likely typo of it. The
phrases are each configured language's (data/locales/<language>/keywords/orientation.yaml), so they
also tell which language a question is written in.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.i18n import I18n, shipped
from bot.text import fold
from handlers.orientation.content import intents

MAX_WORDS = 80  # a long message is read up to here: enough for any question, cheap for a wall of text
FUZZY_WEIGHT = 0.9  # an exact word beats a typo when two intents cover as many words
MODIFIERS = ("women", "young")
SITE = "site"
# Keyword keys of orientation.yaml, per language.
INTENT = "orientation.intent.{}"
CRISIS = "orientation.crisis.{}"
PAIR = "orientation.pair.{}.{}"
MARKERS = "orientation.markers"
NOT_TYPOS = "orientation.not_typos"
NEUTRAL = "orientation.crisis_neutral"
# The engine's navigation words (SUITE, MENU): never read as a typo of a question's word.
NAVIGATION = ("core.more", "core.menu")

_POSTCODE = re.compile(r"\b75(0[0-2]\d|116)\b")
_ORDINAL = re.compile(r"\b(\d{1,2}) ?(?:e|eme|em|ieme|iem|er|ere|th|st|nd|rd)\b")
_NAMED = re.compile(r"\b(?:paris|arr|arrondissement|arrdt|arrt) ?(\d{1,2})\b")
_BARE = re.compile(r"^(\d{1,2})$")


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    label: str
    language: str | None  # None: the same in several languages, tells none


@dataclass(frozen=True)
class Hit:
    label: str
    start: int
    end: int
    exact: bool
    language: str | None


class Words:
    """Which vocabulary words a typed word may stand for: itself, or a close typo."""

    def __init__(self, vocabulary: Iterable[str], min_length: int, cutoff: float, not_typos: Iterable[str]) -> None:
        self.vocabulary = frozenset(vocabulary)
        self.long_words = sorted(w for w in self.vocabulary if len(w) >= min_length)
        self.min_length = min_length
        self.cutoff = cutoff
        self.not_typos = frozenset(not_typos)
        self.anagrams: dict[str, list[str]] = defaultdict(list)
        for word in self.long_words:
            self.anagrams["".join(sorted(word))].append(word)
        self._cache: dict[str, dict[str, bool]] = {}

    def candidates(self, word: str) -> dict[str, bool]:
        """Vocabulary words ``word`` matches, True when exactly."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found: dict[str, bool] = {}
        if len(word) >= self.min_length and word not in self.not_typos:
            for candidate, _score, _index in process.extract(
                word, self.long_words, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=None
            ):
                found[candidate] = False
            # Two swapped letters ("douhce") cost a ratio of two edits: take them as the one slip they are.
            for candidate in self.anagrams.get("".join(sorted(word)), ()):
                if OSA.distance(word, candidate) == 1:
                    found[candidate] = False
        if word in self.vocabulary:
            found[word] = True
        if len(self._cache) < 20_000:  # the vocabulary is fixed; typed words are not
            self._cache[word] = found
        return found


class PhraseTable:
    """Phrases indexed by their first word, matched as runs of consecutive words."""

    def __init__(self, phrases: Sequence[Phrase], min_length: int, cutoff: float, not_typos: Iterable[str]) -> None:
        self.by_first: dict[str, list[Phrase]] = defaultdict(list)
        for phrase in phrases:
            self.by_first[phrase.words[0]].append(phrase)
        self.words = Words((w for p in phrases for w in p.words), min_length, cutoff, not_typos)

    def hits(self, tokens: Sequence[str]) -> list[Hit]:
        """Each label's runs of words, once per place: exact when any of its phrases is there exactly."""
        found: dict[tuple[str, int, int], Hit] = {}
        matches = [self.words.candidates(token) for token in tokens]
        for start, first in enumerate(matches):
            for word, first_exact in first.items():
                for phrase in self.by_first.get(word, ()):
                    end = start + len(phrase.words)
                    if end > len(tokens):
                        continue
                    exact = first_exact
                    for offset, expected in enumerate(phrase.words[1:], start=1):
                        kind = matches[start + offset].get(expected)
                        if kind is None:
                            break
                        exact = exact and kind
                    else:
                        key = (phrase.label, start, end)
                        if key not in found or (exact and not found[key].exact):
                            found[key] = Hit(phrase.label, start, end, exact, phrase.language)
        return list(found.values())


def _phrases(labels: Sequence[str], key: str, i18n: I18n, neutral: Mapping[str, Any]) -> list[Phrase]:
    """Every language's phrases of each label; a phrase several languages share tells no language."""
    languages: dict[tuple[str, tuple[str, ...]], set[str | None]] = defaultdict(set)
    for label in labels:
        for entry in neutral.get(label) or ():
            languages[label, tuple(fold(str(entry)).split())].add(None)
        for language in i18n.languages:
            for entry in i18n.words(key.format(label), language):
                languages[label, tuple(entry.split())].add(language)
    return [
        Phrase(words, label, next(iter(said)) if len(said) == 1 else None)
        for (label, words), said in languages.items()
        if words
    ]


def keyword_keys(config: Mapping[str, Any]) -> set[str]:
    """The keyword keys a matcher reads: every question's and danger kind's, and the shared lists."""
    return {
        *(INTENT.format(label) for label in config["intents"]),
        *(CRISIS.format(kind) for kind in config["crisis"]),
        *(PAIR.format(kind, part) for kind, parts in (config.get("pairs") or {}).items() for part in parts),
        MARKERS,
        NOT_TYPOS,
        NEUTRAL,
        *NAVIGATION,
    }


def tokens(text: str) -> list[str]:
    return fold(text).split()[:MAX_WORDS]


def arrondissement(text: str, bare: bool = False) -> int | None:
    """The Paris arrondissement named in ``text`` ("10e", "75010", "paris 20"), or a bare number when asked for one."""
    folded = fold(text)
    for pattern in (_POSTCODE, _ORDINAL, _NAMED) + ((_BARE,) if bare else ()):
        for match in pattern.finditer(folded):
            number = int(match.group(1))
            if pattern is _POSTCODE and number == 116:
                number = 16
            if 1 <= number <= 20:
                return number
    return None


def bare_number(text: str) -> int | None:
    match = _BARE.match(fold(text))
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Evidence:
    """How many words of a message tell each language."""

    said: Mapping[str, int] = field(default_factory=dict)

    def clearly(self, language: str) -> int:
        """How many words tell ``language`` when they are more than twice those of every other one
        (else 0): "day centre near Montparnasse" is English, "douche shower" is no language."""
        mine = self.said.get(language, 0)
        others = sum(count for other, count in self.said.items() if other != language)
        return mine if mine > 2 * others else 0


@dataclass(frozen=True)
class Understanding(Evidence):
    """What a message asks: one intent (or None), narrowing modifiers, a place, and its language."""

    intent: str | None = None
    women: bool = False
    young: bool = False
    arrondissement: int | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Danger(Evidence):
    """The kinds of danger a message signals, in the order their numbers come."""

    kinds: tuple[str, ...] = ()


class Pair:
    """A danger found from one word of each list anywhere in the message, the lists of one language.

    "mon voisin bat son fils": a child and a harm, whatever the words between them. The lists are
    one language's, so the English "son" and the French "bat" never make a pair.
    """

    def __init__(self, kind: str, language: str, parts: Sequence[Words]) -> None:
        self.kind = kind
        self.language = language
        self.parts = parts

    def hits(self, tokens: Sequence[str]) -> list[Hit]:
        found: list[Hit] = []
        for words in self.parts:
            position = next((i for i, token in enumerate(tokens) if words.candidates(token)), None)
            if position is None:
                return []
            exact = any(words.candidates(tokens[position]).values())
            found.append(Hit(self.kind, position, position + 1, exact, self.language))
        return found


class Matcher:
    """Built once per set of languages; ``understand`` and ``crisis`` are called for every message."""

    def __init__(self, config: Mapping[str, Any], i18n: I18n) -> None:
        fuzzy = config["fuzzy"]
        neutral = config.get("any") or {}
        not_typos = i18n.words(NOT_TYPOS) | {word for key in NAVIGATION for word in i18n.words(key)}
        self.order = list(config["intents"])
        self.alone = list(config.get("alone") or ())
        self.together: dict[str, dict[str, str]] = {
            marker: dict(answers) for marker, answers in (config.get("together") or {}).items()
        }
        self.crisis_order = list(config["crisis"])
        self.intents = PhraseTable(
            _phrases(self.order, INTENT, i18n, neutral),
            int(fuzzy["min_length"]),
            float(fuzzy["score_cutoff"]),
            not_typos,
        )
        crisis_length, crisis_cutoff = int(fuzzy["crisis_min_length"]), float(fuzzy["crisis_score_cutoff"])
        self.danger = PhraseTable(
            _phrases(self.crisis_order, CRISIS, i18n, neutral), crisis_length, crisis_cutoff, not_typos
        )
        self.pairs = [
            Pair(
                kind,
                language,
                [
                    Words(i18n.words(PAIR.format(kind, part), language), crisis_length, crisis_cutoff, not_typos)
                    for part in parts
                ],
            )
            for kind, parts in (config.get("pairs") or {}).items()
            for language in i18n.languages
            if all(i18n.words(PAIR.format(kind, part), language) for part in parts)
        ]
        self.neutral = [tuple(phrase.split()) for phrase in i18n.words(NEUTRAL)]
        languages: dict[str, set[str]] = defaultdict(set)
        for language in i18n.languages:
            for word in i18n.words(MARKERS, language):
                languages[word].add(language)
        # A word several languages use ("de") tells none of them.
        self.markers = {word: next(iter(said)) for word, said in languages.items() if len(said) == 1}

    def understand(self, text: str) -> Understanding:
        words = tokens(text)
        hits = self.intents.hits(words)
        scores = _scores(hits)
        said = self._languages(words, hits)
        place = arrondissement(text)
        side = (*MODIFIERS, *self.alone, SITE)
        main = [label for label in self.order if label in scores and label not in side]
        best = max(main, key=lambda label: scores[label], default=None)  # max keeps the first of equals
        women, young = "women" in scores, "young" in scores
        for marker, answers in self.together.items():
            if best is not None and marker in scores:
                best = answers.get(best, best)  # "manger aux grands voisins": the site's own meals
        if best is None:
            alone = [label for label in self.alone if label in scores]
            if women:
                best = "women"
            elif young:
                best = "young"
            elif SITE in scores:
                # "adresse des grands voisins": an `alone` question the site turns into its own answer
                paired = [self.together.get(SITE, {}).get(label) for label in alone]
                best = next((label for label in paired if label is not None), SITE)
            elif alone:
                best = max(alone, key=lambda label: scores[label])
            elif place is not None and len(words) <= 3:
                best = "centres"
        return Understanding(said, best, women, young, place, scores)

    def crisis(self, text: str) -> Danger:
        """The kinds of danger ``text`` signals, in the order their numbers should come."""
        words = _without(tokens(text), self.neutral)
        hits = self.danger.hits(words)
        kept = [
            h
            for h in hits
            if not any(
                o.label != h.label and o.start <= h.start and h.end <= o.end and (o.end - o.start) > (h.end - h.start)
                for o in hits
            )
        ]
        kept += [hit for pair in self.pairs for hit in pair.hits(words)]
        if not kept:
            return Danger()
        kinds = {h.label for h in kept}
        said = self._languages(words, [*hits, *kept])
        return Danger(said, tuple(kind for kind in self.crisis_order if kind in kinds))

    def _languages(self, words: Sequence[str], hits: Sequence[Hit]) -> dict[str, int]:
        """Per language, the words that tell it, each word counted once."""
        said: dict[int, str] = {}
        for hit in sorted(hits, key=lambda h: h.start - h.end):  # "social worker" tells more than "social"
            if hit.language is not None:
                for position in range(hit.start, hit.end):
                    said.setdefault(position, hit.language)
        for position, word in enumerate(words):
            if position not in said and word in self.markers:
                said[position] = self.markers[word]
        counts: dict[str, int] = defaultdict(int)
        for language in said.values():
            counts[language] += 1
        return dict(counts)


def _scores(hits: Sequence[Hit]) -> dict[str, float]:
    """Per intent, the words its phrases cover (a typo counts a little less)."""
    covered: dict[str, dict[int, float]] = defaultdict(dict)
    for hit in hits:
        weight = 1.0 if hit.exact else FUZZY_WEIGHT
        positions = covered[hit.label]
        for position in range(hit.start, hit.end):
            positions[position] = max(positions.get(position, 0.0), weight)
    return {label: sum(positions.values()) for label, positions in covered.items()}


def _without(words: list[str], phrases: Sequence[tuple[str, ...]]) -> list[str]:
    """``words`` with every exact occurrence of ``phrases`` removed ("mourir de faim" is hunger)."""
    kept = list(words)
    for phrase in phrases:
        size = len(phrase)
        i = 0
        while i + size <= len(kept):
            if tuple(kept[i : i + size]) == phrase:
                del kept[i : i + size]
            else:
                i += 1
    return kept


_MATCHERS: weakref.WeakKeyDictionary[I18n, Matcher] = weakref.WeakKeyDictionary()


def matcher(i18n: I18n | None = None) -> Matcher:
    """The matcher of ``i18n``'s languages (the shipped ones by default), built on first use."""
    i18n = shipped() if i18n is None else i18n
    built = _MATCHERS.get(i18n)
    if built is None:
        built = _MATCHERS[i18n] = Matcher(intents(), i18n)
    return built
