"""The Grands Voisins bot engine: channels, dispatch, store, languages. Knows no feature."""

import os

# python-telegram-bot 22 warns on every RetryAfter.retry_after read unless durations are timedeltas;
# opting in keeps its 429 handling quiet and future-proof.
os.environ.setdefault("PTB_TIMEDELTA", "true")
