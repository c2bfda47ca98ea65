"""Text folding shared by the dispatcher and the features: people type without accents, in caps, with typos."""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

_NOT_WORD = re.compile(r"[^a-z0-9+]+")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}

# A typed answer to a OUI / NON question, folded: what people really send by SMS.
YES_WORDS = frozenset({"oui", "yes", "o", "y", "ok", "ouai", "ouais", "oue", "wi", "confirmer", "confirm"})
NO_WORDS = frozenset({"non", "no", "n", "nn", "annuler", "annule", "cancel", "stop"})


def clean(text: str, limit: int = 2000) -> str:
    """What a handler may read: no control characters, trimmed, at most ``limit`` characters."""
    kept = "".join(" " if unicodedata.category(ch) in _CONTROL else ch for ch in text[: limit * 2])
    return " ".join(kept.split())[:limit]


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: "Où  DORMIR ce soir ?!" -> "ou dormir ce soir"."""
    return _NOT_WORD.sub(" ", unidecode(text).lower()).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


def format_minutes(minutes: int) -> str:
    """As people say it: "45 min", "1 h", "1 h 30"; a negative amount keeps its sign."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours == 0:
        return f"{sign}{rest} min"
    if rest == 0:
        return f"{sign}{hours} h"
    return f"{sign}{hours} h {rest:02d}"
