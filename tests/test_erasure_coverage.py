"""Erasure reaches every column that can hold a person's name or words, and a new one cannot slip by.

The schema is read from a migrated database: every column SQLite would let hold text must be listed
below, either as one that erasure empties (and that the test seeds with a marker) or with the reason
it never holds a name or free text. A feature that adds a text column fails here, naming it, until
its eraser exists and the column is listed.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiosqlite

from bot import outbox, people
from bot.clock import iso
from bot.core import Core
from bot.messages import Channel, Choice, Inbound
from bot.people import privacy
from bot.text import fold
from handlers.handoff import model as handoff
from handlers.trocshop import ledger

SEEDED = "seeded"  # the test writes a marker of the person here; the forget must leave none

# Every column with text affinity (or none), as table.column: SEEDED, or why it holds no name nor free text.
COLUMNS: dict[str, str] = {
    "broadcasts.texts": SEEDED,
    "broadcasts.audience": "canonical audience words (everyone, residents,sms)",
    "broadcasts.quiet_hours": "a time range from the settings",
    "broadcasts.timezone": "a zone name from the settings",
    "broadcasts.status": "a status word",
    "broadcasts.created_at": "a time",
    "broadcasts.confirmed_at": "a time",
    "broadcasts.expanded_at": "a time",
    "broadcasts.cancelled_at": "a time",
    "broadcasts.finished_at": "a time",
    "broadcasts.send_at": "a time",
    "broadcasts.progress_chat": SEEDED,
    "broadcasts.progress_language": "a language code",
    "broadcasts.progress_text": "counts rendered from the catalogs (texts=False: no announcement text)",
    "confirm_failures.failed_at": "a time",
    "confirmed.token": "a random token",
    "confirmed.operation": "an operation name of the code",
    "confirmed.confirmed_at": "a time",
    "console_audit.at": "a time",
    "console_audit.action": "an action name of the code (people.roles)",
    "console_audit.target": "what was changed, by id (person:12, broadcast:3)",
    "console_audit.before": SEEDED,
    "console_audit.after": SEEDED,
    "console_logins.attempt_hash": "a SHA-256 of a random token",
    "console_logins.code_hash": "a SHA-256 of a random token and a code",
    "console_logins.client": "a truncated SHA-256 of the client's address",
    "console_logins.created_at": "a time",
    "console_logins.expires_at": "a time",
    "console_logins.used_at": "a time",
    "console_sessions.token_hash": "a SHA-256 of a random token",
    "console_sessions.csrf": "a random token",
    "console_sessions.language": "a language code",
    "console_sessions.created_at": "a time",
    "console_sessions.seen_at": "a time",
    "conversations.step": "a step name of the code",
    "conversations.data": SEEDED,
    "conversations.menu": SEEDED,
    "conversations.pages": SEEDED,
    "conversations.updated_at": "a time",
    "delivery_early.provider_id": "the provider's message id",
    "delivery_early.status": "a delivery status word",
    "delivery_early.error": "twilio <error code>: a number, no text of the provider's",
    "delivery_early.received_at": "a time",
    "handoff_conversations.channel": "a channel name",
    "handoff_conversations.address": SEEDED,
    "handoff_conversations.opened_via": "a word of the code (words, menu, crisis)",
    "handoff_conversations.opened_at": "a time",
    "handoff_conversations.last_at": "a time",
    "handoff_conversations.acked_at": "a time",
    "handoff_conversations.closed_at": "a time",
    "handoff_conversations.closed_reason": "a word of the code (staff, expired)",
    "handoff_messages.direction": "in or out",
    "handoff_messages.body": SEEDED,
    "handoff_messages.at": "a time",
    "handoff_exchanges.channel": "a channel name",
    "handoff_exchanges.inbound": SEEDED,
    "handoff_exchanges.replies": SEEDED,
    "handoff_exchanges.at": "a time",
    "identities.channel": "a channel name",
    "identities.address": SEEDED,
    "identities.language_hint": "a language code from Telegram (the row goes with the identity)",
    "identities.opted_out_at": "a time",
    "identities.unreachable_at": "a time",
    "identities.last_inbound_at": "a time (WhatsApp's 24 hours; the row goes with the identity)",
    "identities.opted_in_at": "a time (the first WhatsApp message; the row goes with the identity)",
    "identities.created_at": "a time",
    "identity_links.channel": "a channel name",
    "identity_links.method": "a method word (code)",
    "identity_links.linked_at": "a time",
    "inbound_seen.channel": "a channel name",
    "inbound_seen.message_id": "the provider's message id, no body (Twilio keeps its own logs)",
    "inbound_seen.received_at": "a time",
    "link_codes.channel": "a channel name",
    "link_codes.address": SEEDED,
    "link_codes.code": "six random digits",
    "link_codes.expires_at": "a time",
    "link_codes.used_at": "a time",
    "link_codes.created_at": "a time",
    "meeting_cancellations.meeting": "a meeting key (r2026-12-02, x7)",
    "meeting_cancellations.reason": SEEDED,
    "meeting_cancellations.created_at": "a time",
    "meeting_extras.day": "a date",
    "meeting_extras.starts": "a clock time",
    "meeting_extras.ends": "a clock time",
    "meeting_extras.reason": SEEDED,
    "meeting_extras.moved_from": "a meeting key",
    "meeting_extras.moved_from_day": "a date",
    "meeting_extras.created_at": "a time",
    "meeting_reference.day": "a date",
    "meeting_reference.set_at": "a time",
    "outbox.cause": "the software's cause key (link-code:12, troc:3:4): ids, no words",
    "outbox.channel": "a channel name",
    "outbox.address": SEEDED,
    "outbox.body": SEEDED,
    "outbox.choices": SEEDED,
    "outbox.due_at": "a time",
    "outbox.status": "a status word",
    "outbox.next_attempt_at": "a time",
    "outbox.provider_id": "the provider's message id",
    "outbox.error": SEEDED,
    "outbox.created_at": "a time",
    "outbox.updated_at": "a time",
    "person_roles.role": "a role word",
    "persons.name": SEEDED,
    "persons.member_code": SEEDED,
    "persons.language": "a language code (emptied by the forget anyway)",
    "persons.status": "a status word",
    "persons.created_at": "a time",
    "places.key": "the key of a public place (bains_douches_oberkampf)",
    "places.entry": "a public place's address, hours and source, never a person's",
    "places.origin": "seed, staff or datainclusion",
    "places.verified_on": "a date",
    "places.updated_at": "a time",
    "schema_migrations.name": "a migration file name",
    "shift_activities.name": "the name of an activity staff run (Cantine), not of a person",
    "shift_activities.folded": "that name, folded",
    "shift_activities.created_at": "a time",
    "shift_assignments.status": "a status word",
    "shift_assignments.released_reason": "a reason word of the code (declined, unassigned)",
    "shift_assignments.answer": "yes or no",
    "shift_assignments.answered_at": "a time",
    "shift_assignments.attendance": "present or absent",
    "shift_assignments.attendance_at": "a time",
    "shift_assignments.assigned_at": "a time",
    "shift_assignments.updated_at": "a time",
    "shift_contracts.valid_from": "a date",
    "shift_contracts.created_at": "a time",
    "shift_places.name": "the name of a place on the site, not of a person",
    "shift_places.folded": "that name, folded",
    "shift_places.created_at": "a time",
    "shift_templates.weekdays": "weekday numbers",
    "shift_templates.start_local": "a clock time",
    "shift_templates.end_local": "a clock time",
    "shift_templates.created_at": "a time",
    "shifts.local_date": "a date",
    "shifts.start_local": "a clock time",
    "shifts.end_local": "a clock time",
    "shifts.starts_at": "a time",
    "shifts.ends_at": "a time",
    "shifts.status": "a status word",
    "shifts.reason": SEEDED,
    "shifts.created_at": "a time",
    "shifts.updated_at": "a time",
    "troc_accounts.kind": "an account kind word",
    "troc_accounts.label": SEEDED,
    "troc_accounts.folded": SEEDED,
    "troc_accounts.created_at": "a time",
    "troc_entries.idem_key": "the software's idempotency key (chat:<person id>:<token>, cli:<random>)",
    "troc_entries.category": "a category word",
    "troc_entries.memo": SEEDED,
    "troc_entries.created_at": "a time",
    "troc_entries.memo_erased_at": "a time",
    "troc_payee_misses.missed_at": "a time",
    "volunteer_signups.name": SEEDED,
    "volunteer_signups.activities": "activity keys of the code (gardening kitchen)",
    "volunteer_signups.availability": SEEDED,
    "volunteer_signups.created_at": "a time",
    "volunteer_signups.updated_at": "a time",
}

NAME = "Zéphyrine Morvandelle"
CODE = "GV-XW7M"
PHONE = "+33639957701"
TELEGRAM = "777000557701"
WORDS = "xylophage"  # in every text that is the person's own (not naming them)
# What must be nowhere after the forget: the surname stays ASCII so JSON-escaped text shows it too.
MARKERS = ("Morvandelle", CODE, PHONE, TELEGRAM, WORDS)
CONSOLE = "terminal-zephyrine"
STAFF_CONSOLE = "terminal-awa"  # demo data: Awa GV-EKP3 is staff


def has_text_affinity(declared: str) -> bool:
    """SQLite's own rule: TEXT, CHAR or CLOB in the type, or no type at all, can hold text."""
    upper = declared.upper()
    return not upper or any(word in upper for word in ("TEXT", "CHAR", "CLOB"))


async def schema_columns(db: aiosqlite.Connection) -> dict[str, list[tuple[str, str]]]:
    """Every table of the migrated database and its columns with their declared types."""
    async with db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ) as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    columns = {}
    for table in tables:
        async with db.execute("SELECT name, type FROM pragma_table_info(?)", (table,)) as cursor:
            columns[table] = [(row[0], row[1]) for row in await cursor.fetchall()]
    return columns


async def text_columns(core: Core) -> set[str]:
    return {
        f"{table}.{name}"
        for table, columns in (await schema_columns(core.store.db)).items()
        for name, declared in columns
        if has_text_affinity(declared)
    }


async def columns_holding(core: Core, markers: tuple[str, ...]) -> dict[str, set[str]]:
    """table.column -> the markers found in it, over every column of every table (any type)."""
    found: dict[str, set[str]] = {}
    for table, columns in (await schema_columns(core.store.db)).items():
        for row in await core.store.fetchall(f'SELECT * FROM "{table}"'):  # names from sqlite_master
            for name, _ in columns:
                value = row[name]
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                for marker in markers:
                    if marker.lower() in text.lower():
                        found.setdefault(f"{table}.{name}", set()).add(marker)
    return found


def file_leftovers(core: Core, markers: tuple[str, ...]) -> list[tuple[str, str]]:
    """Markers still in the bytes of the database, its WAL or its shared memory (secure_delete, VACUUM)."""
    path = Path(core.settings.database_path)
    found = []
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            content = candidate.read_bytes()
            found += [(candidate.name, m) for m in markers if m.encode("utf-8") in content]
    return found


async def say(core: Core, address: str, text: str) -> str:
    replies = await core.dispatcher.handle(Inbound(Channel.CONSOLE, address, text))
    return "\n".join(reply.shown for reply in replies)


async def seed(core: Core) -> int:
    """The person, and their name or words in every SEEDED column: through the chat where it goes by chat."""
    store, now = core.store, core.clock.now()
    person_id = await people.add_person(
        store, now, NAME, {"resident", "staff"}, phone=PHONE, telegram_id=TELEGRAM, language="fr", member_code=CODE
    )
    async with store.transaction() as db:
        await people.attach_identity(db, now, person_id, Channel.CONSOLE, CONSOLE)
        awa = await people.find_person_id(db, member_code="GV-EKP3")
        karim = await people.find_person_id(db, member_code="GV-K7P2")
        assert awa is not None and karim is not None
        await people.attach_identity(db, now, awa, Channel.CONSOLE, STAFF_CONSOLE)

    # The three rows of the finding: staff told of the sign-up, a memo naming them, the payee told who paid.
    for text in ("inscription", NAME, "1 5", f"le samedi, {WORDS}", "oui"):
        await say(core, CONSOLE, text)
    await say(core, STAFF_CONSOLE, f"/crediter {CODE} 2h activite avec {NAME}")
    assert "credit enregistre" in fold(await say(core, STAFF_CONSOLE, "oui"))
    await say(core, CONSOLE, "payer 30 min GV-K7P2")
    assert "envoye" in fold(await say(core, CONSOLE, "oui"))

    async with store.transaction() as db:
        # Their own messages: body, choices and a provider's error naming their number.
        await outbox.enqueue(
            db,
            now,
            cause="test:own",
            channel=Channel.SMS,
            address=PHONE,
            text=f"rappel {WORDS}",
            person_id=person_id,
            choices=[Choice("k", WORDS)],
        )
        await db.execute("UPDATE outbox SET error = ? WHERE cause = 'test:own'", (f"21211 invalid To {PHONE}",))
        # Someone else's message naming them by code, queued by nothing that knew it was about them.
        await outbox.enqueue(
            db, now, cause="test:other", channel=Channel.SMS, address="+33639957799", text=f"Voir {CODE} demain"
        )
        # Staff words naming them: a shift's reason, a meeting's reasons, a memo on someone else's entry.
        await db.execute(
            "INSERT INTO shift_activities (name, folded, created_at) VALUES ('Cantine test', 'cantine test', ?)",
            (iso(now),),
        )
        await db.execute(
            "INSERT INTO shift_places (name, folded, created_at) VALUES ('Cour test', 'cour test', ?)", (iso(now),)
        )
        await db.execute(
            "INSERT INTO shifts (activity_id, place_id, local_date, start_local, end_local, starts_at, ends_at,"
            " capacity, status, reason, created_at, updated_at) VALUES ((SELECT MAX(id) FROM shift_activities),"
            " (SELECT MAX(id) FROM shift_places), '2026-12-01', '09:00', '12:00', '2026-12-01T08:00:00+00:00',"
            " '2026-12-01T11:00:00+00:00', 2, 'cancelled', ?, ?, ?)",
            (f"{NAME} est malade", iso(now), iso(now)),
        )
        await db.execute(
            "INSERT INTO meeting_extras (day, starts, ends, reason, created_at)"
            " VALUES ('2026-12-09', '18:30', '20:00', ?, ?)",
            (f"avec {NAME}", iso(now)),
        )
        await db.execute(
            "INSERT INTO meeting_cancellations (meeting, reason, created_at) VALUES ('r2026-12-16', ?, ?)",
            (f"{CODE} absente", iso(now)),
        )
        await ledger.credit(db, now, key="test:karim", person_id=karim, minutes=15, actor=awa, memo=f"remplace {NAME}")
        # The console: a staff member changed them (the audit's before and after), and their own session.
        await db.execute(
            "INSERT INTO console_audit (at, person_id, action, target, before, after)"
            " VALUES (?, ?, 'people.roles', ?, ?, ?)",
            (iso(now), awa, f"person:{person_id}", json.dumps({"note": WORDS}), json.dumps([NAME])),
        )
        await db.execute(
            "INSERT INTO console_sessions (token_hash, person_id, csrf, language, created_at, seen_at)"
            " VALUES ('h', ?, 'c', 'fr', ?, ?)",
            (person_id, iso(now), iso(now)),
        )
        # Their account's label (a person's is empty, but the column is there).
        await db.execute("UPDATE troc_accounts SET label = ?, folded = ? WHERE person_id = ?", (NAME, WORDS, person_id))
        # LIER: a code sent to them, and one their Telegram account asked for someone else.
        for target, address in ((person_id, "+33639957798"), (karim, TELEGRAM)):
            await db.execute(
                "INSERT INTO link_codes (person_id, channel, address, code, expires_at, created_at)"
                " VALUES (?, ?, ?, '123456', ?, ?)",
                (target, "telegram" if address == TELEGRAM else "sms", address, iso(now), iso(now)),
            )
        # Their own pending step, and a colleague's SMS pages that list them.
        await db.execute(
            "INSERT OR REPLACE INTO conversations (person_id, step, data, menu, pages, updated_at)"
            " VALUES (?, 'test.step', ?, ?, ?, ?)",
            (
                person_id,
                json.dumps({"note": WORDS}),
                json.dumps([WORDS]),
                json.dumps([f"page {WORDS}"]),
                iso(now),
            ),
        )
        await db.execute(
            "INSERT OR REPLACE INTO conversations (person_id, step, data, menu, pages, updated_at)"
            " VALUES (?, 'test.list', ?, ?, ?, ?)",
            (awa, json.dumps({"who": NAME}), json.dumps([f"pick {CODE}"]), json.dumps([f"1. {NAME}"]), iso(now)),
        )
        # Announcements: their draft, one that names them, and their chat showing a progress message.
        for texts, status, chat in (
            ({"fr": f"brouillon {WORDS}"}, "draft", None),
            ({"fr": f"Bienvenue à {NAME}", "en": f"Welcome {NAME}"}, "done", None),
            ({"fr": "Cantine fermée"}, "sending", TELEGRAM),
        ):
            await db.execute(
                "INSERT INTO broadcasts (texts, audience, status, timezone, created_by, created_at, progress_chat)"
                " VALUES (?, 'everyone', ?, 'Europe/Paris', ?, ?, ?)",
                (json.dumps(texts, ensure_ascii=False), status, person_id, iso(now), chat),
            )
    await seed_handoff(core, person_id, awa, karim)
    return person_id


async def seed_handoff(core: Core, person_id: int, awa: int, karim: int) -> None:
    """Hand-off: their conversation by SMS answered with their name, Karim's answered naming them, their kept
    exchange (staff's are not kept by the chat) and Karim's showing their name."""
    for text in ("parler à quelqu'un", f"mes papiers {WORDS}"):
        await core.dispatcher.handle(Inbound(Channel.SMS, PHONE, text))
    now = core.clock.now()
    async with core.store.transaction() as db:
        karim_sms = await db.execute_fetchall(
            "SELECT address FROM identities WHERE person_id = ? AND channel = 'sms'", (karim,)
        )
        karims = await handoff.start(db, now, karim, Channel.SMS, str(next(iter(karim_sms))[0]), "words")
        for who, inbound, replies in ((person_id, WORDS, f"vu {WORDS}"), (karim, "payer", f"Envoyer à {NAME} ?")):
            await db.execute(
                "INSERT INTO handoff_exchanges (person_id, channel, inbound, replies, at) VALUES (?, 'sms', ?, ?, ?)",
                (who, inbound, replies, iso(now)),
            )
    [theirs] = [c.id for c in await handoff.list_open(core.store, now) if c.person_id == person_id]
    await handoff.answer(core.store, core.clock, core.i18n, theirs, awa, f"Bonjour {NAME}")
    await handoff.answer(core.store, core.clock, core.i18n, karims, awa, f"{NAME} vous attend")


async def test_every_text_column_is_known(core: Core) -> None:
    """Each column that can hold text is listed with how erasure treats it; a new one fails here by name."""
    schema = await text_columns(core)
    unknown = sorted(schema - COLUMNS.keys())
    assert not unknown, (
        f"new text column(s) {', '.join(unknown)}: if they can hold a person's name, number or words, erase them"
        " (the feature's Router.personal_data eraser, or bot/people/privacy.py), then list them in COLUMNS here"
        " as SEEDED and seed them below; otherwise list them with the reason they never do"
    )
    gone = sorted(COLUMNS.keys() - schema)
    assert not gone, f"listed column(s) no longer in the schema: {', '.join(gone)}"


async def test_forget_leaves_no_trace_in_any_column(core: Core) -> None:
    """Seeded with the person's name, code, numbers and words in every such column, the forget leaves them in none."""
    person_id = await seed(core)
    before = await columns_holding(core, MARKERS)
    unseeded = sorted(column for column, kind in COLUMNS.items() if kind == SEEDED and column not in before)
    assert not unseeded, f"the test did not reach {', '.join(unseeded)}: seed them, or the check below proves nothing"

    await privacy.forget_person(core.store, person_id, core.dispatcher.personal_data, core.clock.now(), core.i18n)

    left = await columns_holding(core, MARKERS)
    assert not left, "still there after the forget: " + "; ".join(
        f"{column} ({', '.join(sorted(markers))})" for column, markers in sorted(left.items())
    )
    assert file_leftovers(core, MARKERS) == []
    await core.store.close()  # closing checkpoints the WAL into the file: still nothing
    assert file_leftovers(core, MARKERS) == []
