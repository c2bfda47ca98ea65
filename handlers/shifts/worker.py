"""What a worker sees and answers: planning, next shift, OUI/NON to reminders, cancelling."""

from __future__ import annotations
