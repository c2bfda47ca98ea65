"""Where a person is looking: an arrondissement or its postcode, a Paris station or landmark, a position.

"douche 13e" is the 13e first, then the arrondissements that border it (data/orientation/landmarks.yaml
`adjacent`), so an answer is never empty when a neighbour has a place; "manger gare de l'Est" is the
places closest to the station. Names are matched as runs of folded words, the longest first, and a
long word may carry a typo ("montparnase").
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process

from bot.text import fold
from handlers.orientation import places
from handlers.orientation.content import DayCentre, Landmark, landmarks, references
from handlers.orientation.matching import arrondissement

# A word of this many letters or more in a landmark's name also matches with a typo at this ratio:
# the names are long and specific ("montparnasse", "republique"); short ones must be exact.
TYPO_MIN_LENGTH = 6
TYPO_CUTOFF = 88.0


@dataclass(frozen=True)
class Where:
    """An arrondissement (with its neighbours), or a landmark to measure distances from."""

    arrondissement: int | None = None
    landmark: Landmark | None = None


class _Names:
    """Every alias of every landmark, indexed by its first word, and the long words typos may stand for."""

    def __init__(self, named: Sequence[Landmark]) -> None:
        self.by_first: dict[str, list[tuple[tuple[str, ...], Landmark]]] = defaultdict(list)
        for landmark in named:
            for alias in landmark.aliases:
                words = tuple(alias.split())
                self.by_first[words[0]].append((words, landmark))
        self.long_words = sorted({w for ws, _ in self._all() for w in ws if len(w) >= TYPO_MIN_LENGTH})

    def _all(self) -> Iterable[tuple[tuple[str, ...], Landmark]]:
        for entries in self.by_first.values():
            yield from entries

    def spelled(self, word: str) -> set[str]:
        """The alias words ``word`` may be: itself, or a long word it is a likely typo of."""
        found = {word}
        if len(word) >= TYPO_MIN_LENGTH:
            found.update(
                match for match, _score, _index in process.extract(
                    word, self.long_words, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None
                )
            )  # fmt: skip
        return found

    def find(self, text: str) -> Landmark | None:
        """The landmark whose alias covers the most words of ``text`` (the first one written on a tie)."""
        tokens = fold(text).split()
        spelled = [self.spelled(token) for token in tokens]
        best: tuple[int, int, Landmark] | None = None
        for start, first in enumerate(spelled):
            for word in first:
                for words, landmark in self.by_first.get(word, ()):
                    end = start + len(words)
                    if end > len(tokens) or any(w not in spelled[start + i] for i, w in enumerate(words)):
                        continue
                    exact = sum(tokens[start + i] == w for i, w in enumerate(words))
                    if best is None or (len(words), exact) > (best[0], best[1]):
                        best = (len(words), exact, landmark)
        return best[2] if best else None


@functools.cache
def _names() -> _Names:
    return _Names(landmarks().landmarks)


def landmark(text: str) -> Landmark | None:
    """The Paris station, square or monument named in ``text``, if any."""
    return _names().find(text)


def where(text: str) -> Where | None:
    """The place named in ``text``: an arrondissement or postcode first (written on purpose), else a landmark."""
    number = arrondissement(text)
    if number is not None:
        return Where(arrondissement=number)
    found = landmark(text)
    return Where(landmark=found) if found is not None else None


def adjacent(number: int) -> tuple[int, ...]:
    return landmarks().adjacent[number]


@dataclass(frozen=True)
class Around:
    """The places of an arrondissement, and those of its neighbours closest to it."""

    local: list[DayCentre]
    around: list[DayCentre]


def around(
    pool: Iterable[DayCentre],
    number: int,
    now: datetime,
    service: str | None = None,
    count: int = places.NEAREST,
    at_least: int = places.NEAREST,
) -> Around:
    """The arrondissement's places (open first), then ``count`` of its neighbours' (open, then closest),
    then, while there are fewer than ``at_least`` in all, the closest places farther away.
    """
    pool = list(pool)
    local = places.by_status(places.in_arrondissement(pool, number), now, service)
    latitude, longitude = references().arrondissements[number]

    def km(centre: DayCentre) -> float:
        return places.haversine_km(latitude, longitude, centre.latitude, centre.longitude)

    beside = set(adjacent(number))
    next_door = sorted(
        (c for c in pool if c.arrondissement in beside),
        key=lambda c: (*places.first_of(c, service, now), places.rank(c, now), km(c)),
    )[:count]
    missing = at_least - min(len(local), at_least) - len(next_door)
    if missing > 0:
        farther = (c for c in pool if c.arrondissement not in beside and c.arrondissement != number)
        next_door += sorted(farther, key=lambda c: (*places.first_of(c, service, now), km(c)))[:missing]
    return Around(local, next_door)
