"""The shifts feature's one router: the worker side (worker.py, reminders.py) and the staff side
(staff.py, cli.py) register on it."""

from __future__ import annotations

from bot.dispatch import Router

router = Router("shifts")
# The reminder the day before and the nudge before the start (WhatsApp templates, bot/channels/whatsapp.py).
router.message_kind("shift_reminder", r"^shift:\d+:v\d+:(reminder|nudge):")
