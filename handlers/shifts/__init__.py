"""Shifts of the Premières Heures workers: schedules, the 16-hour cap, reminders and confirmations.

The rules live in model.py; worker.py and reminders.py are what a worker sees, staff.py and cli.py
what staff do. Importing the package registers every handler on ``router``.
"""

from __future__ import annotations

from handlers.shifts import console as _console  # noqa: F401  (the staff console's pages)
from handlers.shifts import staff, voice, worker  # noqa: F401  (they register their handlers on the router)
from handlers.shifts.router import router

__all__ = ["router"]
