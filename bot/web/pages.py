"""What a feature declares for the staff console: its pages and its part of the Today page.

Kept apart from the console's machinery so that :mod:`bot.dispatch` (the ``Router``) can name these
types without importing Starlette's app or Jinja.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.web.view import View

# A page's endpoint: the request's view (session, language, store) in, a Starlette response out.
PageEndpoint = Callable[["View"], Awaitable[Any]]
# A panel of the Today page: an HTML fragment (rendered by the view), or None when there is nothing to show.
TodayPanel = Callable[["View"], Awaitable[str | None]]
# A feature's part of a person's page: an HTML fragment about that person, or None.
PersonSection = Callable[["View", int], Awaitable[str | None]]


@dataclass(frozen=True)
class ConsolePage:
    """A route under ``/console/<feature>/...``; ``label_key`` puts it in the menu, in ``order``."""

    path: str
    endpoint: PageEndpoint
    methods: tuple[str, ...]
    roles: frozenset[str]
    label_key: str | None = None
    order: int = 100
    max_body: int | None = None  # bytes a request may carry (a file upload), above the app's default
