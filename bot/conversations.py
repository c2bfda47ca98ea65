"""The ``conversations`` table: a person's pending step, the numbered menu last shown, the SMS pages left.

Its one owner: the dispatcher keeps a conversation between two messages, and the outbox calls
:func:`remember_menu` after an SMS with numbered choices, so that a digit typed back answers it.
Nothing else writes this table (erasure in :mod:`bot.people.privacy` aside, which deletes rows).

A pending step expires here, for every feature: one left longer than ``CONVERSATION_MINUTES``
(by ``updated_at``) is read as none, so a person who comes back the next day is not stuck in a
half-filled form. Confirmations are the exception: they keep their own ``CONFIRM_MINUTES`` and
answer a late yes with "too late" (:mod:`bot.confirm`).
"""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store import Store


@dataclass
class Conversation:
    step: str | None
    data: dict[str, Any]
    menu: list[str]
    pages: list[str]


async def load(store: Store, person_id: int, *, stale_before: datetime, own_expiry: Container[str]) -> Conversation:
    """The person's conversation, or an empty one when there is none yet.

    A step last kept before ``stale_before`` is dropped with its data (the menu and the SMS pages
    stay); the steps in ``own_expiry`` (confirmations) are left to expire by their own rule.
    """
    row = await store.fetchone(
        "SELECT step, data, menu, pages, updated_at FROM conversations WHERE person_id = ?", (person_id,)
    )
    if row is None:
        return Conversation(None, {}, [], [])
    step, data = row["step"], json.loads(row["data"])
    if step is not None and step not in own_expiry and row["updated_at"] < iso(stale_before):
        step, data = None, {}
    return Conversation(step, data, json.loads(row["menu"]), json.loads(row["pages"]))


async def save(
    store: Store,
    person_id: int,
    step: str | None,
    data: dict[str, Any],
    menu: list[str],
    pages: list[str],
    now: datetime,
) -> None:
    """Keep the conversation, unless the person was just merged into another or forgotten.

    A step's data is kept only while the step is pending: a finished step leaves nothing behind.
    """
    await store.execute(
        "INSERT INTO conversations (person_id, step, data, menu, pages, updated_at)"
        " SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM persons WHERE id = ? AND status != 'forgotten')"
        " ON CONFLICT (person_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
        " menu = excluded.menu, pages = excluded.pages, updated_at = excluded.updated_at",
        (
            person_id,
            step,
            json.dumps(data if step else {}, ensure_ascii=False),
            json.dumps(menu),
            json.dumps(pages, ensure_ascii=False),
            iso(now),
            person_id,
        ),
    )


async def remember_menu(store: Store, person_id: int, keys: list[str], now: datetime) -> None:
    """A message sent with numbered choices: the person's next "1" or "2" answers it, as after a menu.

    The pending step and its data stay; SMS pages of an older answer are dropped (SUITE would
    otherwise continue a text the person no longer has on screen). ``updated_at`` is left as it was:
    a step expires from the person's own last message, and a delivery is not the person coming back.
    """
    await store.execute(
        "INSERT INTO conversations (person_id, menu, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (person_id) DO UPDATE SET menu = excluded.menu, pages = '[]'",
        (person_id, json.dumps(keys), iso(now)),
    )
