"""The engine's confirmation: a forged SMS cannot confirm, the phone's owner can, other channels keep OUI."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import confirm
from bot.app import Core, build_core
from bot.clock import FakeClock
from bot.dispatch import Context, Replies, Router
from bot.messages import Channel, Inbound, Reply
from tests.conftest import make_settings

STEP = "probe.confirm"
done: list[str] = []


def _router() -> Router:
    router = Router("probe")

    @router.command("/op")
    async def start(inbound: Inbound, ctx: Context) -> Replies:
        return [await confirm.ask(ctx, STEP, "Move 1 h?", yes="probe.yes", no="probe.no", what="move")]

    async def outcome(answer: confirm.Answer, ctx: Context) -> Replies:
        if answer.kind is confirm.Kind.YES:
            done.append(answer.data["what"])
            return [Reply("DONE")]
        if answer.kind is confirm.Kind.NO:
            return [Reply("NOT DONE")]
        if answer.kind is confirm.Kind.STALE:
            return [Reply("NOTHING PENDING")]
        return answer.replies

    @router.action("probe.yes")
    async def yes(inbound: Inbound, ctx: Context) -> Replies:
        return await outcome(await confirm.pressed(inbound, ctx, STEP, yes=True), ctx)

    @router.action("probe.no")
    async def no(inbound: Inbound, ctx: Context) -> Replies:
        return await outcome(await confirm.pressed(inbound, ctx, STEP, yes=False), ctx)

    @router.step(STEP)
    async def typed(inbound: Inbound, ctx: Context) -> Replies:
        return await outcome(await confirm.typed(inbound, ctx, STEP), ctx)

    return router


@pytest.fixture
async def core(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Core]:
    from bot.app import feature_routers

    done.clear()
    made = await build_core(make_settings(tmp_path), clock, routers=[*feature_routers(), _router()])
    try:
        yield made
    finally:
        await made.close()


PHONE = "+33639900001"


async def say(core: Core, text: str, channel: Channel = Channel.SMS, address: str = PHONE) -> list[Reply]:
    return await core.dispatcher.handle(Inbound(channel, address, text))


def code_of(replies: list[Reply]) -> str:
    found = re.search(r"OUI (\d{4})", "\n".join(r.text for r in replies))
    assert found, replies
    return found.group(1)


async def test_sms_prompt_carries_a_code_and_no_numbered_choices(core: Core) -> None:
    """By SMS the prompt says which code to type back and offers no "1 OUI" a forger could send."""
    replies = await say(core, "/op")
    assert re.search(r"OUI \d{4}", replies[0].text)
    assert replies[0].choices == ()
    assert "1" not in [c.key for r in replies for c in r.choices]


@pytest.mark.parametrize("forged", ["OUI", "oui", "yes", "ok", "1", "OUI 0000x"])
async def test_a_bare_yes_by_sms_does_nothing_and_asks_again(core: Core, forged: str) -> None:
    """The forger never saw the code: any yes without it gets the prompt again and nothing is done."""
    code = code_of(await say(core, "/op"))
    replies = await say(core, forged if forged != "OUI 0000x" else f"OUI {int(code) ^ 1:04d}")
    assert done == []
    text = "\n".join(r.text for r in replies)
    assert code in text and "DONE" not in text


async def test_three_wrong_answers_drop_the_operation(core: Core) -> None:
    """After three wrong answers the operation is gone: even the right code does nothing then."""
    code = code_of(await say(core, "/op"))
    for _ in range(2):
        await say(core, "OUI")
    dropped = await say(core, "OUI")
    assert "rien n'a été fait" in dropped[0].text
    await say(core, f"OUI {code}")
    assert done == []


@pytest.mark.parametrize("answer", ["OUI {code}", "oui{code}", "{code}", "Oui {code} !", "yes {code}"])
async def test_the_owner_confirms_with_the_code(core: Core, answer: str) -> None:
    """The code typed back, with or without OUI, confirms once."""
    code = code_of(await say(core, "/op"))
    replies = await say(core, answer.format(code=code))
    assert [r.text for r in replies] == ["DONE"] and done == ["move"]
    await say(core, f"OUI {code}")
    assert done == ["move"]


async def test_no_cancels_without_a_code(core: Core) -> None:
    """NON needs no code: saying no can harm nobody."""
    code = code_of(await say(core, "/op"))
    assert [r.text for r in await say(core, "NON")] == ["NOT DONE"]
    await say(core, f"OUI {code}")
    assert done == []


async def test_repeated_drops_lock_sms_confirmations_for_a_day(core: Core, clock: FakeClock) -> None:
    """A forger who starts over and over is stopped after three dropped operations."""
    for _ in range(confirm.LOCK_AFTER // confirm.MAX_WRONG):
        await say(core, "/op")
        for _ in range(confirm.MAX_WRONG):
            await say(core, "OUI")
    locked = await say(core, "/op")
    assert "Trop d'essais" in locked[0].text and not re.search(r"OUI \d{4}", locked[0].text)
    clock.advance(seconds=confirm.LOCK_WINDOW.total_seconds())
    assert re.search(r"OUI \d{4}", (await say(core, "/op"))[0].text)


async def test_too_late_does_nothing(core: Core, clock: FakeClock) -> None:
    """A code typed after the expiry confirms nothing."""
    code = code_of(await say(core, "/op"))
    clock.advance(seconds=confirm.CONFIRM_WITHIN.total_seconds() + 1)
    replies = await say(core, f"OUI {code}")
    assert "Trop tard" in replies[0].text and done == []


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.CONSOLE])
async def test_other_channels_keep_buttons_and_a_plain_yes(core: Core, channel: Channel) -> None:
    """Telegram and the terminal cannot be forged: OUI and the button confirm, with no code."""
    address = "4242" if channel is Channel.TELEGRAM else "terminal-x"
    replies = await say(core, "/op", channel, address)
    assert not re.search(r"OUI \d{4}", replies[0].text)
    assert [c.label for c in replies[0].choices] == ["OUI", "NON"]
    assert [r.text for r in await say(core, "oui", channel, address)] == ["DONE"]
    replies = await say(core, "/op", channel, address)
    pressed = await core.dispatcher.handle(Inbound(channel, address, choice=replies[0].choices[0].key))
    assert [r.text for r in pressed] == ["DONE"] and done == ["move", "move"]


async def test_a_button_for_another_prompt_is_stale(core: Core) -> None:
    """A forged or old button names no pending operation: nothing is done."""
    await say(core, "/op", Channel.TELEGRAM, "4242")
    pressed = await core.dispatcher.handle(Inbound(Channel.TELEGRAM, "4242", choice="probe.yes:deadbeef"))
    assert [r.text for r in pressed] == ["NOTHING PENDING"] and done == []


async def test_starting_over_after_two_guesses_still_counts(core: Core) -> None:
    """Asking again before the third guess does not reset the count: the lock still comes."""
    for attempt in range(confirm.LOCK_AFTER):
        if attempt % 2 == 0:
            await say(core, "NON")
        code = code_of(await say(core, "/op"))
        await say(core, f"OUI {int(code) ^ 1:04d}")
    locked = await say(core, "/op")
    assert "Trop d'essais" in locked[0].text
