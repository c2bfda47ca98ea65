"""The engine's own promises: migrations, transactions, settings, phone numbers, the scheduler's purge,
the order of free text, conversations that expire."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot import confirm, conversations
from bot.clock import FakeClock
from bot.config import ConfigError, Settings, load_settings
from bot.core import Core
from bot.dispatch import Context, Dispatcher, Replies, Router
from bot.messages import Channel, Inbound, Reply
from bot.people import normalise_phone
from bot.store import Store, _split_sql
from handlers import registry


async def test_migrations_apply_once(tmp_path: Path) -> None:
    """Opening the same database twice applies each migration once."""
    for _ in range(2):
        store = Store(tmp_path / "m.db")
        await store.open()
        rows = await store.fetchall("SELECT version FROM schema_migrations")
        await store.close()
    assert [r[0] for r in rows] == sorted({r[0] for r in rows}) and rows


async def test_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    """An exception inside a transaction rolls back everything it wrote."""
    store = Store(tmp_path / "t.db")
    await store.open()
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction() as db:
                await db.execute("INSERT INTO persons (status, created_at) VALUES ('guest', 'now')")
                raise RuntimeError("boom")
        row = await store.fetchone("SELECT COUNT(*) FROM persons")
        assert row is not None and row[0] == 0
    finally:
        await store.close()


def test_sql_splitting_keeps_triggers_whole() -> None:
    """A trigger's inner semicolons do not split it."""
    script = (
        "CREATE TABLE a (x);\n-- comment\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;\n"
    )
    statements = _split_sql(script)
    assert len(statements) == 2
    assert "CREATE TRIGGER" in statements[1] and statements[1].endswith("END;")


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 39 98 00 01", "+33639980001"),
        ("+33 6 39 98 00 01", "+33639980001"),
        ("0033639980001", "+33639980001"),
        ("06.39.98.00.01", "+33639980001"),
        ("+44 7700 900123", "+447700900123"),
        ("0612", None),
        ("bonjour", None),
        ("", None),
    ],
)
def test_phone_numbers_are_e164(typed: str, e164: str | None) -> None:
    """French and international spellings of a number become one E.164 form."""
    assert normalise_phone(typed) == e164


def test_webhook_mode_needs_public_url_and_secret() -> None:
    """Telegram webhook mode without PUBLIC_URL or a valid secret fails at start, naming the key."""
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings(_env_file=None, telegram_bot_token="1:x", telegram_mode="webhook")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(
            _env_file=None,
            telegram_bot_token="1:x",
            telegram_mode="webhook",
            public_url="https://x.org",
            telegram_webhook_secret="has spaces!",
        )


def test_unknown_timezone_is_refused() -> None:
    """A misspelt TIMEZONE is caught at start."""
    with pytest.raises(ConfigError, match="TIMEZONE"):
        load_settings(_env_file=None, timezone="Europe/Pariss")


def test_no_account_means_terminal_and_demo_data() -> None:
    """With no Telegram or Twilio settings the bot is console-only and seeds demo data."""
    settings = load_settings(_env_file=None)
    assert settings.console_only and settings.seed_demo
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.twilio_api_url == "https://api.twilio.com"


async def test_demo_people_are_seeded_once(core: Core) -> None:
    """The embedded default has the demo people, once."""
    from bot import demo

    assert not await demo.seed(core.store, core.clock.now(), core.routers, core.i18n)
    row = await core.store.fetchone("SELECT COUNT(*) FROM persons WHERE status = 'active'")
    assert row is not None and row[0] == len(demo.demo_people())


async def test_purge_forgets_old_message_ids(core: Core, clock: FakeClock) -> None:
    """Message ids older than a week are purged by the scheduler's daily job; recent ones stay."""
    assert not await core.seen(Channel.SMS, "SMold")
    clock.advance(days=8)
    assert not await core.seen(Channel.SMS, "SMnew")
    assert await core.scheduler.purge_inbound_seen() == 1
    assert await core.seen(Channel.SMS, "SMnew")
    assert not await core.seen(Channel.SMS, "SMold")


async def test_purge_job_runs_at_four_in_paris_time(core: Core) -> None:
    """The purge is a calendar job at 04:00 Europe/Paris."""
    core.scheduler.start()
    job = core.scheduler.scheduler.get_job("core.purge_inbound_seen")
    assert job is not None
    local = job.next_run_time.astimezone(core.settings.tz)
    assert (local.hour, local.minute) == (4, 0)


async def test_reading_inside_ones_own_transaction_does_not_deadlock(core: Core) -> None:
    """A read through the store while the same task holds a transaction sees it instead of waiting forever."""
    async with core.store.transaction() as db:
        await db.execute("INSERT INTO persons (status, created_at) VALUES ('guest', 'now')")
        row = await core.store.fetchone("SELECT COUNT(*) FROM persons WHERE created_at = 'now'")
        assert row is not None and row[0] == 1
        with pytest.raises(RuntimeError, match="already open"):
            async with core.store.transaction():
                pass


def _with(
    core: Core, router: Router, order: Sequence[str] | None = None, settings: Settings | None = None
) -> Dispatcher:
    """A dispatcher over the features and one router of the test's own."""
    return Dispatcher(
        core.store,
        core.clock,
        settings or core.settings,
        core.i18n,
        [*core.routers, router],
        core.outbox,
        text_order=core.dispatcher.text_order if order is None else order,
    )


def _drafts() -> tuple[Router, list[str]]:
    """A two-message form: /draft, then the text."""
    router = Router("drafts")
    kept: list[str] = []

    @router.command("/draft")
    async def start(inbound: Inbound, ctx: Context) -> list[Reply]:
        ctx.goto("drafts.text")
        return [Reply("Your text?")]

    @router.step("drafts.text")
    async def take(inbound: Inbound, ctx: Context) -> list[Reply]:
        kept.append(inbound.text)
        ctx.done()
        return [Reply("Draft kept.")]

    return router, kept


async def test_danger_words_come_first_and_the_pending_step_goes_on(core: Core) -> None:
    """A message with a danger word in the middle of a step gets the numbers first, then the step's own answer."""
    router, drafts = _drafts()
    dispatcher = _with(core, router)
    await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "/draft"))
    replies = await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "En cas de malaise, appelez le 15"))
    assert replies[0].text.startswith("15")
    assert replies[-1].text == "Draft kept."
    assert drafts == ["En cas de malaise, appelez le 15"]


# --- Routing: the one order of free text --------------------------------------------------------


def test_the_registrys_table_is_the_dispatchers_order(core: Core) -> None:
    """Free text tries the handlers in the order of handlers/registry.py, each the one registered under its name."""
    assert core.dispatcher.text_order == list(registry.TEXT_ORDER)
    named = {name: handler for router in core.routers for name, handler in router.text_handlers.items()}
    assert core.dispatcher.text_handlers == [named[name] for name in registry.TEXT_ORDER]


def test_a_text_handler_missing_from_the_table_fails_at_start(core: Core) -> None:
    """A feature's text handler that the table does not place stops the bot at start, naming it."""
    router = Router("extra")

    @router.text("extra.words")
    async def words(inbound: Inbound, ctx: Context) -> Replies:
        return None

    with pytest.raises(ValueError, match=r"\['extra.words'\] are not in the text order"):
        _with(core, router)
    assert _with(core, router, [*registry.TEXT_ORDER, "extra.words"]).text_order[-1] == "extra.words"


def test_a_name_listed_twice_or_naming_nothing_fails_at_start(core: Core) -> None:
    """The table lists each handler once, and only handlers that exist; a mistake there is caught at start."""
    router = Router("extra")
    with pytest.raises(ValueError, match=r"lists \['trocshop.pay'\] more than once"):
        _with(core, router, [*registry.TEXT_ORDER, "trocshop.pay"])
    with pytest.raises(ValueError, match=r"lists \['trocshop.payment'\], which no router registers"):
        _with(core, router, [*registry.TEXT_ORDER, "trocshop.payment"])
    assert _with(core, router, [*registry.TEXT_ORDER, "absent.feature"]).text_order == list(registry.TEXT_ORDER)


def test_a_text_handler_is_named_once_under_its_router() -> None:
    """Two handlers under one name, or a name outside the router's own, fail when registered."""
    router = Router("extra")

    async def words(inbound: Inbound, ctx: Context) -> Replies:
        return None

    router.text("extra.words")(words)
    with pytest.raises(ValueError, match="registered twice"):
        router.text("extra.words")(words)
    with pytest.raises(ValueError, match=r"must be named extra\.<something>"):
        router.text("trocshop.pay")


# --- Conversations expire -------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "goes_on"), [(29, True), (31, False)])
async def test_a_step_left_longer_than_the_setting_is_gone(
    core: Core, clock: FakeClock, minutes: int, goes_on: bool
) -> None:
    """CONVERSATION_MINUTES (30) after the last message a step is dropped; within them it goes on."""
    router, kept = _drafts()
    dispatcher = _with(core, router)
    assert core.settings.conversation_minutes == 30
    await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "/draft"))
    clock.advance(minutes=minutes)
    replies = await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "Fermeture de la laverie"))
    assert (kept == ["Fermeture de la laverie"]) is goes_on
    assert (replies[-1].text == "Draft kept.") is goes_on
    row = await core.store.fetchone("SELECT step, data FROM conversations ORDER BY updated_at DESC LIMIT 1")
    assert row is not None and row["step"] is None and row["data"] == "{}"


async def test_a_message_with_choices_does_not_extend_a_pending_step(core: Core, clock: FakeClock) -> None:
    """A reminder sent with numbered choices keeps its menu, but the step still expires from the
    person's own last message: the outbox's delivery is not the person coming back."""
    router, kept = _drafts()
    dispatcher = _with(core, router)
    await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "/draft"))
    row = await core.store.fetchone("SELECT person_id FROM conversations")
    assert row is not None
    clock.advance(minutes=20)
    await conversations.remember_menu(core.store, row["person_id"], ["drafts.menu"], clock.now())
    clock.advance(minutes=11)
    await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "Fermeture de la laverie"))
    assert kept == []


async def test_a_confirmation_keeps_its_own_expiry(core: Core, clock: FakeClock) -> None:
    """A question waiting for OUI outlives CONVERSATION_MINUTES when CONFIRM_MINUTES is longer."""
    done: list[dict[str, Any]] = []

    async def run(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
        done.append(data)
        return [Reply("Moved.")]

    router, _ = _drafts()
    move = router.confirmation(confirm.Operation("drafts.move", run, guarded=False))

    @router.command("/move")
    async def ask(inbound: Inbound, ctx: Context) -> list[Reply]:
        return [await move.ask(ctx, "Move it?", what="it")]

    settings = core.settings.model_copy(update={"conversation_minutes": 5, "confirm_minutes": 10})
    dispatcher = _with(core, router, settings=settings)
    await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "/move"))
    clock.advance(minutes=8)
    replies = await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "OUI"))
    assert [r.text for r in replies] == ["Moved."] and done and done[0]["what"] == "it"
