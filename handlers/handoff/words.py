"""Does a message in one's own words ask for a person? "je voudrais parler à quelqu'un svp", "need to talk".

The words are the keyword files' (``handoff.*``): a phrase of ``handoff.ask`` anywhere in the message,
or a verb of ``handoff.talk`` with a phrase of ``handoff.someone`` a few words after it ("parler
avec une personne", "speak to a real person"). Words are folded (no accents, no case) and a word of
five letters or more also matches with one typo ("parlr", "quelqun"). A social worker named
("une assistante sociale") is not in these words: orientation answers where to find one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import OSA

from bot.i18n import I18n
from bot.text import fold

ASK = "handoff.ask"
TALK = "handoff.talk"
SOMEONE = "handoff.someone"
MAX_WORDS = 60  # a long message is read up to here: a request for a person is said early
GAP = 3  # words allowed between the verb and the person: "parler svp avec une personne"
TYPO_LENGTH = 5


def _same(typed: str, word: str) -> bool:
    return typed == word or (len(word) >= TYPO_LENGTH and OSA.distance(typed, word, score_cutoff=1) <= 1)


def _found_at(tokens: Sequence[str], start: int, phrase: Sequence[str]) -> bool:
    end = start + len(phrase)
    return end <= len(tokens) and all(_same(typed, word) for typed, word in zip(tokens[start:end], phrase, strict=True))


def _ends(tokens: Sequence[str], phrases: Sequence[Sequence[str]]) -> list[int]:
    """Where each phrase found in ``tokens`` ends (the index of the word after it)."""
    return [
        start + len(phrase) for start in range(len(tokens)) for phrase in phrases if _found_at(tokens, start, phrase)
    ]


def asks_for_someone(text: str, i18n: I18n) -> bool:
    """True when ``text`` asks to talk to a person, in any configured language's words."""
    tokens = fold(text).split()[:MAX_WORDS]
    if not tokens:
        return False
    if _ends(tokens, [phrase.split() for phrase in i18n.words(ASK)]):
        return True
    verbs = _ends(tokens, [phrase.split() for phrase in i18n.words(TALK)])
    someone = [phrase.split() for phrase in i18n.words(SOMEONE)]
    return any(
        _found_at(tokens, start, phrase) for end in verbs for start in range(end, end + 1 + GAP) for phrase in someone
    )
