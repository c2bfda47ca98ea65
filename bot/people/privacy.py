"""Data rights: what the bot keeps about a person (export) and how it is erased for good (forget).

The people we serve are vulnerable, so erasure is real: one transaction removes every row that
names them, the ``persons`` row stays only as an anonymous account that other people's records
(a Trocshop journal entry) may point to, and the database file is rewritten so that no old page
(free pages, cell gaps, the WAL) still holds their name, number or messages.

A feature declares its own share with ``Router.personal_data(exporter, eraser)``. Its texts can
name it in the export: ``<feature>.privacy_label`` (a short name) and ``<feature>.privacy_export``
(a sentence formatted with the exporter's dict); without them a generic summary is shown.

A person is also named in rows that are not theirs: the notice telling staff of their sign-up, a
payee's notice of who paid, a memo or a reason staff typed. Such outbox rows carry
``about_person_id`` (set by the feature that queues them) and lose their body; text that staff
typed is found by the person's full name or member code (:class:`Mentions`) and replaced by a
neutral text. An eraser reaches both through :func:`erasure` while it runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import iso
from bot.dispatch import PersonalData
from bot.i18n import I18n, shipped
from bot.store import Store
from bot.text import fold

log = logging.getLogger(__name__)

FORGOTTEN = "forgotten"
# The catalog text that replaces what named a forgotten person (a message body, a memo, a reason).
ERASED = "privacy.erased"

# Outbox rows are the person's when they carry their id or go to one of their addresses.
_SELECT_MESSAGES = (
    "SELECT cause, channel, status, created_at, body FROM outbox WHERE person_id = :person"
    " OR EXISTS (SELECT 1 FROM identities i WHERE i.person_id = :person"
    " AND i.channel = outbox.channel AND i.address = outbox.address) ORDER BY created_at, id"
)
_DELETE_MESSAGES = (
    "DELETE FROM outbox WHERE person_id = :person"
    " OR EXISTS (SELECT 1 FROM identities i WHERE i.person_id = :person"
    " AND i.channel = outbox.channel AND i.address = outbox.address)"
)
_SELECT_NAMING = (
    "SELECT o.id, o.about_person_id, o.body, p.language FROM outbox o LEFT JOIN persons p ON p.id = o.person_id"
)


async def export_person(
    source: Store | aiosqlite.Connection, person_id: int, personal_data: Sequence[PersonalData]
) -> dict[str, Any]:
    """Everything stored about one person, core tables and every feature's share, as plain data.

    Given a store, the reading happens in one transaction, so the picture is consistent.
    """
    if isinstance(source, Store):
        async with source.transaction() as db:
            return await _export(db, person_id, personal_data)
    return await _export(source, person_id, personal_data)


async def _rows(db: aiosqlite.Connection, sql: str, params: dict[str, Any]) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _export(db: aiosqlite.Connection, person_id: int, personal_data: Sequence[PersonalData]) -> dict[str, Any]:
    params = {"person": person_id}
    found = await _rows(
        db, "SELECT name, member_code, language, status, created_at FROM persons WHERE id = :person", params
    )
    if not found:
        raise LookupError(f"no person {person_id}")
    person = found[0]
    roles = await _rows(db, "SELECT role FROM person_roles WHERE person_id = :person ORDER BY role", params)
    identities = await _rows(
        db,
        "SELECT channel, address, language_hint, opted_out_at, unreachable_at, opted_in_at, last_inbound_at,"
        " created_at FROM identities"
        " WHERE person_id = :person ORDER BY channel, id",
        params,
    )
    conversation = await _rows(db, "SELECT step, updated_at FROM conversations WHERE person_id = :person", params)
    messages = await _rows(db, _SELECT_MESSAGES, params)
    features: dict[str, dict[str, Any]] = {}
    for share in personal_data:
        if share.exporter is not None:
            features.setdefault(share.feature, {}).update(await share.exporter(db, person_id))
    return {
        "person": {
            "id": person_id,
            "name": person["name"],
            "member_code": person["member_code"],
            "language": person["language"],
            "status": person["status"],
            "roles": [row["role"] for row in roles],
            "created_at": person["created_at"],
        },
        "identities": [
            {
                "channel": row["channel"],
                "address": row["address"],
                "language_hint": row["language_hint"],
                "opted_out": row["opted_out_at"] is not None,
                "opted_out_at": row["opted_out_at"],
                "unreachable": row["unreachable_at"] is not None,
                "opted_in_at": row["opted_in_at"],  # WhatsApp: the first message written there
                "last_message_at": row["last_inbound_at"],  # WhatsApp: the start of the 24 hours
                "created_at": row["created_at"],
            }
            for row in identities
        ],
        "conversation": dict(conversation[0]) if conversation else None,
        "messages": [dict(row) for row in messages],
        "features": features,
    }


# --- Rendering: a short text for the person, in their language ---------------------------------


def _optional(i18n: I18n, language: str, key: str, params: dict[str, Any] | None = None) -> str | None:
    """A catalog text that may not exist (a feature's own wording, a role added later)."""
    if not (i18n.has(key, language) or i18n.has(key, i18n.default_language)):
        return None
    text = i18n.t(language, key)
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):  # a feature's text asking for a field its exporter lacks
        return None


def _empty(value: object) -> bool:
    """Nothing kept: a feature that has nothing about the person is not worth a line (or an SMS)."""
    if isinstance(value, dict):
        return all(_empty(item) for item in value.values())
    return value is None or value == "" or (isinstance(value, list | tuple | set) and not value)


def _summary(value: object) -> str:
    """A feature's data in a few characters: lists and tables become counts."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_summary(item)}" for key, item in value.items() if not _empty(item))
    if isinstance(value, list | tuple | set):
        return str(len(value))
    return "-" if value is None else str(value)


def feature_label(i18n: I18n, language: str, feature: str) -> str:
    return _optional(i18n, language, f"{feature}.privacy_label") or feature


def _identity_lines(export: dict[str, Any], i18n: I18n, language: str) -> list[str]:
    lines = []
    for identity in export["identities"]:
        channel, address = identity["channel"], identity["address"]
        line = _optional(i18n, language, f"privacy.identity_{channel}", {"address": address}) or f"{channel}: {address}"
        if identity["opted_out"]:
            line += " " + i18n.t(language, "privacy.opted_out")
        lines.append(line)
    return lines


def _person_lines(export: dict[str, Any], i18n: I18n, language: str) -> list[str]:
    person = export["person"]
    lines = []
    if person["name"]:
        lines.append(i18n.t(language, "privacy.line_name", name=person["name"]))
    if person["member_code"]:
        lines.append(i18n.t(language, "privacy.line_code", code=person["member_code"]))
    if person["roles"]:
        roles = ", ".join(_optional(i18n, language, f"privacy.role_{role}") or role for role in person["roles"])
        lines.append(i18n.t(language, "privacy.line_roles", roles=roles))
    return lines


def render_export(
    export: dict[str, Any], i18n: I18n, language: str, heading: str | None = None, footer: str | None = None
) -> str:
    """The export as a few short lines; message bodies are counted, not repeated (SMS costs money).

    ``heading`` and ``footer`` replace the person's own ("Ce que le bot garde sur vous", "écrivez
    OUBLIER") when staff read someone else's: their way to erase it names that person.
    """
    person = export["person"]
    lines = [heading or i18n.t(language, "privacy.export_heading")]
    lines += _person_lines(export, i18n, language)
    if person["status"] != "active":
        lines.append(i18n.t(language, "privacy.line_not_registered"))
    lines += _identity_lines(export, i18n, language)
    if person["language"]:
        name = _optional(i18n, language, f"privacy.language_{person['language']}") or person["language"]
        lines.append(i18n.t(language, "privacy.line_language", name=name))
    messages = export["messages"]
    waiting = sum(1 for m in messages if m["status"] in ("pending", "sending"))
    lines.append(i18n.t(language, "privacy.line_messages", count=len(messages), waiting=waiting))
    for feature, data in export["features"].items():
        if _empty(data):
            continue
        own = _optional(i18n, language, f"{feature}.privacy_export", data)
        label = feature_label(i18n, language, feature)
        lines.append(own or i18n.t(language, "privacy.line_feature", feature=label, summary=_summary(data)))
    lines.append(footer or i18n.t(language, "privacy.export_footer"))
    return "\n".join(lines)


def render_erasable(
    export: dict[str, Any], i18n: I18n, language: str, personal_data: Iterable[PersonalData] = ()
) -> str:
    """Exactly what a forget will erase, as one short list: the question must fit in one SMS."""
    person = export["person"]
    items = [value for value in (person["name"], person["member_code"]) if value]
    items += [_optional(i18n, language, f"privacy.role_{role}") or role for role in person["roles"]]
    for identity in export["identities"]:
        channel, address = identity["channel"], identity["address"]
        items.append(_optional(i18n, language, f"privacy.item_{channel}", {"address": address}) or address)
    if export["messages"]:
        items.append(i18n.t(language, "privacy.item_messages", count=len(export["messages"])))
    items.append(i18n.t(language, "privacy.item_conversation"))
    # A feature whose exporter found nothing has nothing to erase worth naming; one without exporter may.
    erasers = {share.feature for share in personal_data if share.eraser is not None}
    shown = export["features"]
    features = sorted(f for f in erasers if f not in shown or not _empty(shown[f]))
    items += [feature_label(i18n, language, feature) for feature in features]
    return ", ".join(items)


# --- Forgetting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    """What a forget did, in counts only: fit for a log line."""

    person_id: int
    at: datetime
    identities: int
    messages: int
    features: list[str] = field(default_factory=list)
    neutralised: int = 0  # other people's messages that named the person, now a neutral text


@dataclass(frozen=True)
class Mentions:
    """How a person is named in other people's text: their full name and their member code.

    A one-word name is left out: "Karim" in someone else's message is more often another Karim,
    and rows that name the person on purpose carry ``about_person_id`` anyway. Matching ignores
    case, accents and punctuation, and takes whole words only.
    """

    terms: tuple[str, ...] = ()

    def found(self, text: str | None) -> bool:
        if not text or not self.terms:
            return False
        folded = f" {fold(_readable(text))} "
        return any(f" {term} " in folded for term in self.terms)


def _readable(text: str) -> str:
    """JSON kept by the engine (a conversation's data) escapes accents; read it back as text first."""
    if text[:1] in "{[":
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


async def mentions_of(db: aiosqlite.Connection, person_id: int) -> Mentions:
    found = await _rows(db, "SELECT name, member_code FROM persons WHERE id = :person", {"person": person_id})
    if not found:
        return Mentions()
    name, code = fold(found[0]["name"] or ""), fold(found[0]["member_code"] or "")
    return Mentions(tuple(term for term in (name if len(name.split()) >= 2 else "", code) if term))


@dataclass(frozen=True)
class Erasure:
    """What a feature's eraser may need besides its connection, while :func:`forget_person` runs it."""

    person_id: int
    at: datetime
    neutral: str  # the catalog text, in the default language, for a memo or a reason that named them
    mentions: Mentions


_erasing: ContextVar[Erasure | None] = ContextVar("erasing", default=None)


def erasure() -> Erasure:
    """The erasure in progress; erasers keep their ``(db, person_id)`` signature and ask here."""
    current = _erasing.get()
    if current is None:
        raise RuntimeError("no erasure in progress: erasers run inside forget_person")
    return current


async def forget_person(
    store: Store,
    person_id: int,
    personal_data: Sequence[PersonalData],
    now: datetime,
    i18n: I18n | None = None,
) -> Forgotten:
    """Erase a person: their features' data, messages, conversation, identities and roles, in one transaction.

    The ``persons`` row stays, anonymous (no name, code or language, status ``forgotten``), so
    records other people need keep pointing somewhere; nothing links it to the addresses any more,
    so the same phone writing again is a new guest. Features erase first, while the person's
    identities and name can still be read. Other people's messages about them keep their row (the
    recipient's history, the unique key) with a neutral body, and those not sent yet never go.
    Any failure rolls everything back. Afterwards the file is rewritten (:func:`scrub`) so the
    bytes are gone too. ``i18n`` gives the neutral texts (the bot's catalogs when omitted).
    """
    async with store.transaction() as db:
        done = await erase_person(db, person_id, personal_data, now, i18n)
    await scrub(store)
    return done


async def erase_person(
    db: aiosqlite.Connection,
    person_id: int,
    personal_data: Sequence[PersonalData],
    now: datetime,
    i18n: I18n | None = None,
) -> Forgotten:
    """:func:`forget_person` inside the caller's transaction (a confirmed OUBLIER); call :func:`scrub` after."""
    i18n = i18n or shipped()
    params = {"person": person_id}
    if not await _rows(db, "SELECT 1 FROM persons WHERE id = :person", params):
        raise LookupError(f"no person {person_id}")
    mentions = await mentions_of(db, person_id)
    erased: list[str] = []
    token = _erasing.set(Erasure(person_id, now, i18n.t(i18n.default_language, ERASED), mentions))
    try:
        for share in personal_data:
            if share.eraser is not None:
                await share.eraser(db, person_id)
                erased.append(share.feature)
    finally:
        _erasing.reset(token)
    cursor = await db.execute(_DELETE_MESSAGES, params)
    messages = cursor.rowcount
    neutralised = await _neutralise_messages(db, person_id, mentions, i18n, now)
    await db.execute("DELETE FROM conversations WHERE person_id = :person", params)
    await _drop_conversations_naming(db, mentions)
    cursor = await db.execute("DELETE FROM identities WHERE person_id = :person", params)
    identities = cursor.rowcount
    await db.execute("DELETE FROM person_roles WHERE person_id = :person", params)
    # The console: their sessions and login codes go; the audit keeps that something was done, not what about them.
    await db.execute("DELETE FROM console_sessions WHERE person_id = :person", params)
    await db.execute("DELETE FROM console_logins WHERE person_id = :person", params)
    await db.execute("UPDATE console_audit SET before = NULL, after = NULL WHERE target = 'person:' || :person", params)
    await db.execute(
        "UPDATE persons SET name = NULL, member_code = NULL, language = NULL, status = :status WHERE id = :person",
        {**params, "status": FORGOTTEN},
    )
    return Forgotten(person_id, now, identities, messages, erased, neutralised)


async def _neutralise_messages(
    db: aiosqlite.Connection, person_id: int, mentions: Mentions, i18n: I18n, now: datetime
) -> int:
    """Other people's messages about the person: a neutral body in the recipient's language; unsent ones stay unsent.

    A row in flight (``sending``) has left with its text already; its status is the sender's to record.
    """
    # Without a name or code to look for, only the rows marked as about the person need reading.
    async with db.execute(
        _SELECT_NAMING if mentions.terms else _SELECT_NAMING + " WHERE o.about_person_id = :person",
        {"person": person_id},
    ) as cursor:
        recipients = [(row[0], row[3]) async for row in cursor if row[1] == person_id or mentions.found(row[2])]
    await db.executemany(
        "UPDATE outbox SET body = ?, choices = '[]', about_person_id = NULL, updated_at = ?,"
        " error = CASE WHEN status IN ('pending', 'waiting') THEN ? ELSE error END,"
        " next_attempt_at = CASE WHEN status IN ('pending', 'waiting') THEN NULL ELSE next_attempt_at END,"
        " status = CASE WHEN status IN ('pending', 'waiting') THEN 'cancelled' ELSE status END WHERE id = ?",
        [
            (i18n.t(language or i18n.default_language, ERASED), iso(now), FORGOTTEN, row_id)
            for row_id, language in recipients
        ],
    )
    return len(recipients)


async def _drop_conversations_naming(db: aiosqlite.Connection, mentions: Mentions) -> None:
    """Someone else's pending step or SMS pages that name the person (a staff list, a payment preview) go."""
    if not mentions.terms:
        return
    async with db.execute("SELECT person_id, data, menu, pages FROM conversations") as cursor:
        naming = [(row[0],) async for row in cursor if any(mentions.found(row[i]) for i in (1, 2, 3))]
    await db.executemany("DELETE FROM conversations WHERE person_id = ?", naming)


async def scrub(store: Store) -> bool:
    """Leave no deleted byte in the database files; False when some could not be (logged).

    ``secure_delete`` zeroes a deleted row where it lies, but copies of it can survive in the gaps
    of pages that a rebalancing rewrote earlier, and the WAL keeps whole old pages until a
    checkpoint. VACUUM rebuilds every page from the rows that remain; the TRUNCATE checkpoint then
    copies them into the main file (which shrinks) and empties the WAL. It takes the one
    connection for a moment, which is acceptable for something as rare as a forget.
    """
    if store.path == ":memory:":
        return True
    try:
        await store.fetchall("VACUUM")
    except aiosqlite.Error:
        log.warning("VACUUM after an erasure failed: deleted data may stay in free space until the next one")
        return False
    row = await store.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
    if row is not None and row[0]:
        log.warning("the WAL checkpoint after an erasure was blocked by a reader: old pages stay until the next one")
        return False
    return True
