"""Free text to an intent: folded words, phrases from intents.yaml, typos tolerated by rapidfuzz.

People write "jsui a la rue", "douch 10e", "shower 75012", "il me frappe": every message is folded
(lower case, no accents, no punctuation), then phrases are looked for as runs of consecutive words,
each word equal to the phrase's or, for words of four letters or more, a likely typo of it.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.text import fold
from handlers.orientation.content import intents

MAX_WORDS = 80  # a long message is read up to here: enough for any question, cheap for a wall of text
FUZZY_WEIGHT = 0.9  # an exact word beats a typo when two intents cover as many words
MODIFIERS = ("women", "young")
GREETING = "greeting"
LANGUAGES = {"fr": "fr", "sms": "fr", "en": "en"}  # "any" tells nothing

_POSTCODE = re.compile(r"\b75(0[0-2]\d|116)\b")
_ORDINAL = re.compile(r"\b(\d{1,2}) ?(?:e|eme|em|ieme|iem|er|ere|th|st|nd|rd)\b")
_NAMED = re.compile(r"\b(?:paris|arr|arrondissement|arrdt|arrt) ?(\d{1,2})\b")
_BARE = re.compile(r"^(\d{1,2})$")


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    label: str
    language: str


@dataclass(frozen=True)
class Hit:
    label: str
    start: int
    end: int
    exact: bool
    language: str


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
        found: list[Hit] = []
        seen: set[tuple[str, int, int]] = set()
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
                        if key not in seen:
                            seen.add(key)
                            found.append(Hit(phrase.label, start, end, exact, phrase.language))
        return found


def _phrases(groups: Mapping[str, Mapping[str, Any]]) -> list[Phrase]:
    phrases = []
    for label, by_language in groups.items():
        for language, entries in by_language.items():
            for entry in entries or ():
                words = tuple(fold(str(entry)).split())
                if words:
                    phrases.append(Phrase(words, label, language))
    return phrases


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
    """How many words of a message tell English, and how many French."""

    english: int = 0
    french: int = 0

    def clearly(self, language: str) -> int:
        """How many words tell ``language`` when none tells the other one (else 0)."""
        mine, other = (self.english, self.french) if language == "en" else (self.french, self.english)
        return mine if other == 0 else 0


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


class Matcher:
    """Built once from intents.yaml; ``understand`` and ``crisis`` are called for every message."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        fuzzy = config["fuzzy"]
        not_typos = [fold(str(w)) for w in config.get("not_typos", ())]
        self.order = list(config["intents"])
        self.crisis_order = list(config["crisis"])
        self.intents = PhraseTable(
            _phrases(config["intents"]), int(fuzzy["min_length"]), float(fuzzy["score_cutoff"]), not_typos
        )
        self.danger = PhraseTable(
            _phrases(config["crisis"]),
            int(fuzzy["crisis_min_length"]),
            float(fuzzy["crisis_score_cutoff"]),
            not_typos,
        )
        self.neutral = [tuple(fold(str(p)).split()) for p in config.get("crisis_neutral", ())]
        self.markers = {
            word: LANGUAGES[language]
            for language, words in config["markers"].items()
            for word in (fold(str(w)) for w in words)
        }

    def understand(self, text: str) -> Understanding:
        words = tokens(text)
        hits = self.intents.hits(words)
        scores = _scores(hits)
        english, french = self._languages(words, hits)
        place = arrondissement(text)
        main = [label for label in self.order if label in scores and label not in (*MODIFIERS, GREETING)]
        best = max(main, key=lambda label: scores[label], default=None)  # max keeps the first of equals
        women, young = "women" in scores, "young" in scores
        if best is None:
            if women:
                best = "women"
            elif young:
                best = "young"
            elif GREETING in scores:
                best = GREETING
            elif place is not None and len(words) <= 3:
                best = "centres"
        return Understanding(english, french, best, women, young, place, scores)

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
        if not kept:
            return Danger()
        kinds = {h.label for h in kept}
        english, french = self._languages(words, hits)
        return Danger(english, french, tuple(kind for kind in self.crisis_order if kind in kinds))

    def _languages(self, words: Sequence[str], hits: Sequence[Hit]) -> tuple[int, int]:
        """Words that tell English or French, each word counted once."""
        said: dict[int, str] = {}
        for hit in sorted(hits, key=lambda h: h.start - h.end):  # "social worker" tells more than "social"
            language = LANGUAGES.get(hit.language)
            if language is not None:
                for position in range(hit.start, hit.end):
                    said.setdefault(position, language)
        for position, word in enumerate(words):
            if position not in said and word in self.markers:
                said[position] = self.markers[word]
        values = list(said.values())
        return values.count("en"), values.count("fr")


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


@functools.cache
def matcher() -> Matcher:
    """The one matcher, built on first use from intents.yaml."""
    return Matcher(intents())
