"""Staff broadcasts, the one surface the chat, the command line and the tests use (``as bc``).

Shared by the chat (``handlers/broadcast``) and the command line (``voisins broadcast``), so both
count, price and word things the same way. The code lives by concern beside this file:

- ``audience.py``: who gets it, the texts, SMS segments and cost, quiet hours, the preview;
- ``queue.py``: drafts, confirming once, expanding into outbox rows in batches, cancelling;
- ``report.py``: where a broadcast stands, as text, and the staff's progress message;
- ``driver.py``: the running outbox's hook that holds SMS in quiet hours and edits the progress;
- ``words.py``: figures and times as staff read them.
"""

from __future__ import annotations

from handlers.broadcast.audience import (
    CHANNELS,
    GROUP_ROLES,
    MAX_TEXT,
    SKIP_REASONS,
    Audience,
    BroadcastError,
    Preview,
    QuietHours,
    SmsText,
    check_text,
    main_language,
    preview,
    render_preview,
    texts_of,
)
from handlers.broadcast.driver import BroadcastDriver
from handlers.broadcast.queue import (
    ACTIVE,
    CAUSE,
    DRAFT_KEPT,
    EXPAND_BATCH,
    FINISHED,
    PROGRESS_CAUSE,
    Broadcast,
    Cancelled,
    ProgressMessage,
    cancel,
    cancel_in,
    cause_id,
    confirm,
    confirm_in,
    create_draft,
    discard_draft,
    expand,
    get,
    mark_done,
    recent,
    set_urgent,
)
from handlers.broadcast.report import PROGRESS_SECONDS, Report, render_list, render_report, report
from handlers.broadcast.words import excerpt, local_time, money, number

__all__ = [
    "ACTIVE",
    "CAUSE",
    "CHANNELS",
    "DRAFT_KEPT",
    "EXPAND_BATCH",
    "FINISHED",
    "GROUP_ROLES",
    "MAX_TEXT",
    "PROGRESS_CAUSE",
    "PROGRESS_SECONDS",
    "SKIP_REASONS",
    "Audience",
    "Broadcast",
    "BroadcastDriver",
    "BroadcastError",
    "Cancelled",
    "Preview",
    "ProgressMessage",
    "QuietHours",
    "Report",
    "SmsText",
    "cancel",
    "cancel_in",
    "cause_id",
    "check_text",
    "confirm",
    "confirm_in",
    "create_draft",
    "discard_draft",
    "excerpt",
    "expand",
    "get",
    "local_time",
    "main_language",
    "mark_done",
    "money",
    "number",
    "preview",
    "recent",
    "render_list",
    "render_preview",
    "render_report",
    "report",
    "set_urgent",
    "texts_of",
]
