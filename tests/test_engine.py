"""The engine's own promises: migrations, transactions, settings, phone numbers, the scheduler's purge."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import ConfigError, load_settings
from bot.core import Core
from bot.messages import Channel
from bot.people import normalise_phone
from bot.store import Store, _split_sql


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

    assert not await demo.seed(core.store, core.clock.now(), core.routers)
    row = await core.store.fetchone("SELECT COUNT(*) FROM persons WHERE status = 'active'")
    assert row is not None and row[0] == len(demo.DEMO_PEOPLE)


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


async def test_danger_words_come_first_and_the_pending_step_goes_on(core: Core) -> None:
    """A message with a danger word in the middle of a step gets the numbers first, then the step's own answer."""
    from bot.dispatch import Context, Dispatcher, Router
    from bot.messages import Inbound, Reply

    router = Router("drafts")
    drafts: list[str] = []

    @router.command("/draft")
    async def start(inbound: Inbound, ctx: Context) -> list[Reply]:
        ctx.goto("drafts.text")
        return [Reply("Your text?")]

    @router.step("drafts.text")
    async def take(inbound: Inbound, ctx: Context) -> list[Reply]:
        drafts.append(inbound.text)
        ctx.done()
        return [Reply("Draft kept.")]

    dispatcher = Dispatcher(core.store, core.clock, core.settings, core.i18n, [*core.routers, router], core.outbox)
    await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "/draft"))
    replies = await dispatcher.handle(Inbound(Channel.CONSOLE, "staff", "En cas de malaise, appelez le 15"))
    assert replies[0].text.startswith("15")
    assert replies[-1].text == "Draft kept."
    assert drafts == ["En cas de malaise, appelez le 15"]
