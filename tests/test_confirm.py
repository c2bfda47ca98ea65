"""The engine's confirmation, through a probe feature that only says what the engine gives it.

A forged SMS cannot confirm, the phone's owner can, other channels keep OUI; a yes is done once,
inside the transaction, by someone who still holds the role; other text goes on as usual.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot import confirm, people
from bot.app import build_core, feature_routers
from bot.clock import FakeClock
from bot.core import Core
from bot.dispatch import STAFF_ROLES, Context, Replies, Router
from bot.messages import Channel, Inbound, Reply
from tests.conftest import make_settings

PHONE = "+33639900001"
STAFF_PHONE = "+33639900002"


async def _move(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    await db.execute("INSERT INTO probe (what, variant) VALUES (?, ?)", (data["what"], data.get("variant")))
    if data["what"] == "refuse":
        raise confirm.Refused("core.not_allowed")
    if data["what"] == "count":
        raise confirm.Refused.keeping_writes("core.not_allowed")
    return [Reply("DONE")]


async def _other(inbound: Inbound, ctx: Context) -> Replies:
    return [Reply("AGAIN")] if inbound.text.strip().lower() == "urgent" else None


MOVE = confirm.Operation("probe.move", _move, variants=("broadcast.urgent",), other=_other)
STAFF_MOVE = confirm.Operation("probe.staff_move", _move, roles=STAFF_ROLES)


def _router() -> Router:
    router = Router("probe")
    router.confirmation(MOVE)
    router.confirmation(STAFF_MOVE)

    @router.command("/op")
    async def start(inbound: Inbound, ctx: Context) -> Replies:
        what = inbound.text.partition(" ")[2] or "move"
        return [await MOVE.ask(ctx, "Move 1 h?", what=what)]

    @router.command("/staffop", roles=STAFF_ROLES)
    async def staff_start(inbound: Inbound, ctx: Context) -> Replies:
        return [await STAFF_MOVE.ask(ctx, "Move everyone?", what="staff")]

    @router.command("/elsewhere")
    async def elsewhere(inbound: Inbound, ctx: Context) -> Replies:
        return [Reply("ELSEWHERE")]

    return router


async def _core(tmp_path: Path, clock: FakeClock, **overrides: object) -> Core:
    made = await build_core(make_settings(tmp_path, **overrides), clock, routers=[*feature_routers(), _router()])
    await made.store.execute("CREATE TABLE probe (what TEXT, variant TEXT)")
    return made


@pytest.fixture
async def core(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Core]:
    made = await _core(tmp_path, clock)
    try:
        yield made
    finally:
        await made.close()


async def say(core: Core, text: str, channel: Channel = Channel.SMS, address: str = PHONE) -> list[Reply]:
    return await core.dispatcher.handle(Inbound(channel, address, text))


async def done(core: Core) -> list[tuple[str, str | None]]:
    return [(row[0], row[1]) for row in await core.store.fetchall("SELECT what, variant FROM probe")]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.shown for r in replies)


def code_of(replies: list[Reply]) -> str:
    found = re.search(r"OUI (\d{4})", text_of(replies))
    assert found, replies
    return found.group(1)


async def staff_on(core: Core, channel: Channel, address: str) -> int:
    now = core.clock.now()
    async with core.store.transaction() as db:
        person_id = await people.register(db, now, "Awa", {"staff"}, "fr")
        await people.attach_identity(db, now, person_id, channel, address)
    return person_id


# SMS: the possession code ----------------------------------------------------------------------


async def test_sms_prompt_carries_a_code_and_no_numbered_choices(core: Core) -> None:
    """By SMS the prompt says which code to type back and offers no "1 OUI" a forger could send."""
    replies = await say(core, "/op")
    assert re.search(r"OUI \d{4}", replies[0].text)
    assert replies[0].choices == ()


@pytest.mark.parametrize("forged", ["OUI", "oui", "yes", "ok", "valider", "1", "OUI 0000x"])
async def test_a_bare_yes_by_sms_does_nothing_and_asks_again(core: Core, forged: str) -> None:
    """The forger never saw the code: any yes without it gets the prompt again and nothing is done."""
    code = code_of(await say(core, "/op"))
    replies = await say(core, forged if forged != "OUI 0000x" else f"OUI {int(code) ^ 1:04d}")
    assert await done(core) == []
    assert code in text_of(replies) and "DONE" not in text_of(replies)


async def test_three_wrong_answers_drop_the_operation(core: Core) -> None:
    """After three wrong answers the operation is gone: even the right code does nothing then."""
    code = code_of(await say(core, "/op"))
    for _ in range(2):
        await say(core, "OUI")
    dropped = await say(core, "OUI")
    assert "rien n'a été fait" in dropped[0].text
    await say(core, f"OUI {code}")
    assert await done(core) == []


@pytest.mark.parametrize("answer", ["OUI {code}", "oui{code}", "{code}", "Oui {code} !", "yes {code}"])
async def test_the_owner_confirms_with_the_code_once(core: Core, answer: str) -> None:
    """The code typed back, with or without OUI, confirms; the same answer again is "already done"."""
    code = code_of(await say(core, "/op"))
    assert [r.text for r in await say(core, answer.format(code=code))] == ["DONE"]
    again = await say(core, f"OUI {code}")
    assert "déjà fait" in again[0].text
    assert await done(core) == [("move", None)]


async def test_no_cancels_without_a_code(core: Core) -> None:
    """NON needs no code: saying no can harm nobody."""
    code = code_of(await say(core, "/op"))
    assert "Annulé" in (await say(core, "NON"))[0].text
    await say(core, f"OUI {code}")
    assert await done(core) == []


async def test_repeated_drops_lock_sms_confirmations_for_a_day(core: Core, clock: FakeClock) -> None:
    """A forger who starts over and over is stopped after three dropped operations."""
    for _ in range(confirm.LOCK_AFTER // confirm.MAX_WRONG):
        await say(core, "/op")
        for _ in range(confirm.MAX_WRONG):
            await say(core, "OUI")
    locked = await say(core, "/op")
    assert "Trop d'essais" in text_of(locked) and not re.search(r"OUI \d{4}", text_of(locked))
    clock.advance(seconds=confirm.LOCK_WINDOW.total_seconds())
    assert re.search(r"OUI \d{4}", text_of(await say(core, "/op")))


async def test_starting_over_after_two_guesses_still_counts(core: Core) -> None:
    """Asking again before the third guess does not reset the count: the third wrong answer drops it."""
    await say(core, "/op")
    await say(core, "OUI 0000")
    await say(core, "OUI 0001")
    code = code_of(await say(core, "/op"))  # the same operation asked again
    dropped = await say(core, f"OUI {int(code) ^ 1:04d}")
    assert "Code faux 3 fois" in dropped[0].text
    assert await done(core) == []


async def test_a_variant_word_confirms_with_the_code_and_alone_goes_to_the_feature(core: Core) -> None:
    """URGENT alone is the feature's word; URGENT and the code is a yes that says so."""
    code = code_of(await say(core, "/op"))
    assert [r.text for r in await say(core, "URGENT")] == ["AGAIN"]
    assert [r.text for r in await say(core, f"URGENT {code}")] == ["DONE"]
    assert await done(core) == [("move", "broadcast.urgent")]


# Expiry, one setting ------------------------------------------------------------------------------


async def test_too_late_does_nothing(core: Core, clock: FakeClock) -> None:
    """A code typed after the expiry confirms nothing."""
    code = code_of(await say(core, "/op"))
    clock.advance(seconds=core.settings.confirm_minutes * 60 + 1)
    replies = await say(core, f"OUI {code}")
    assert "Trop tard" in replies[0].text and await done(core) == []


async def test_the_expiry_is_the_confirm_minutes_setting(tmp_path: Path, clock: FakeClock) -> None:
    """CONFIRM_MINUTES=2: a yes after three minutes is too late, after one it is done."""
    core = await _core(tmp_path, clock, confirm_minutes=2)
    try:
        await say(core, "/op", Channel.TELEGRAM, "4242")
        clock.advance(seconds=180)
        assert "Trop tard" in (await say(core, "oui", Channel.TELEGRAM, "4242"))[0].text
        await say(core, "/op", Channel.TELEGRAM, "4242")
        clock.advance(seconds=60)
        assert [r.text for r in await say(core, "oui", Channel.TELEGRAM, "4242")] == ["DONE"]
    finally:
        await core.close()


# Telegram and the terminal ------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.CONSOLE])
async def test_other_channels_keep_buttons_and_a_plain_yes(core: Core, channel: Channel) -> None:
    """Telegram and the terminal cannot be forged: OUI, a yes word and the button confirm, with no code."""
    address = "4242" if channel is Channel.TELEGRAM else "terminal-x"
    replies = await say(core, "/op", channel, address)
    assert not re.search(r"OUI \d{4}", text_of(replies))
    assert [c.label for c in replies[0].choices] == ["OUI", "NON"]
    assert [r.text for r in await say(core, "oui", channel, address)] == ["DONE"]
    await say(core, "/op", channel, address)
    assert [r.text for r in await say(core, "Valider", channel, address)] == ["DONE"]
    replies = await say(core, "/op", channel, address)
    pressed = await core.dispatcher.handle(Inbound(channel, address, choice=replies[0].choices[0].key))
    assert [r.text for r in pressed] == ["DONE"]
    again = await core.dispatcher.handle(Inbound(channel, address, choice=replies[0].choices[0].key))
    assert "déjà fait" in again[0].text  # the double tap
    assert len(await done(core)) == 3


async def test_a_button_for_another_prompt_is_stale(core: Core) -> None:
    """A forged or old button names no pending operation: nothing is done."""
    await say(core, "/op", Channel.TELEGRAM, "4242")
    pressed = await core.dispatcher.handle(Inbound(Channel.TELEGRAM, "4242", choice="probe.move.yes:deadbeef"))
    assert "rien à confirmer" in pressed[0].text and await done(core) == []


# Done once, in the transaction, by whoever still may --------------------------------------------


async def test_a_yes_retried_after_a_lost_answer_is_done_once(core: Core) -> None:
    """The answer died with the process after the commit: the pending question comes back, the yes is not redone."""
    await say(core, "/op", Channel.TELEGRAM, "4242")
    saved = await core.store.fetchall("SELECT person_id, step, data FROM conversations")
    assert [r.text for r in await say(core, "oui", Channel.TELEGRAM, "4242")] == ["DONE"]
    for person_id, step, data in saved:  # the conversation as it was before the answer was saved
        await core.store.execute(
            "UPDATE conversations SET step = ?, data = ? WHERE person_id = ?", (step, data, person_id)
        )
    again = await say(core, "oui", Channel.TELEGRAM, "4242")
    assert "déjà fait" in again[0].text
    assert await done(core) == [("move", None)]


async def test_a_refusal_writes_nothing(core: Core) -> None:
    """An operation that refuses inside its transaction leaves no row, and the person reads why."""
    await say(core, "/op refuse", Channel.TELEGRAM, "4242")
    replies = await say(core, "oui", Channel.TELEGRAM, "4242")
    assert "pas autorisé" in replies[0].text.lower() or "réservé" in replies[0].text.lower(), replies
    assert await done(core) == []


async def test_a_refusal_may_keep_what_it_counted_and_is_not_already_done(core: Core) -> None:
    """What the operation counted stays; a second yes finds nothing to confirm, not "already done"."""
    await say(core, "/op count", Channel.TELEGRAM, "4242")
    await say(core, "oui", Channel.TELEGRAM, "4242")
    assert await done(core) == [("count", None)]
    again = await say(core, "oui", Channel.TELEGRAM, "4242")
    assert "rien à confirmer" in again[0].text


async def test_the_role_is_checked_again_at_the_yes(core: Core) -> None:
    """A staff member who lost the role since the question confirms nothing."""
    person_id = await staff_on(core, Channel.TELEGRAM, "5151")
    replies = await say(core, "/staffop", Channel.TELEGRAM, "5151")
    async with core.store.transaction() as db:
        await people.set_roles(db, person_id, {"resident"})
    pressed = await core.dispatcher.handle(Inbound(Channel.TELEGRAM, "5151", choice=replies[0].choices[0].key))
    assert "DONE" not in text_of(pressed)
    assert await done(core) == []


# Other text while a question waits: one rule --------------------------------------------------------


async def test_other_text_goes_on_and_the_question_waits(core: Core) -> None:
    """A command is answered as usual and the question still takes its yes; what nobody understood is
    answered with a reminder of the question, not the menu."""
    code = code_of(await say(core, "/op"))
    assert [r.text for r in await say(core, "/elsewhere")] == ["ELSEWHERE"]
    waiting = await say(core, "zzkq")
    assert "Une question attend votre réponse" in waiting[0].text
    assert [r.text for r in await say(core, f"OUI {code}")] == ["DONE"]


async def test_a_yes_to_no_question_says_so(core: Core) -> None:
    """OUI when nothing is pending is not "not understood": there is nothing to confirm."""
    for channel, address in ((Channel.SMS, PHONE), (Channel.TELEGRAM, "4242"), (Channel.CONSOLE, "terminal-x")):
        assert "rien à confirmer" in (await say(core, "oui", channel, address))[0].text
