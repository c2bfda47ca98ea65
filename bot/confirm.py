"""Preview, then yes or no: the one check in front of money, erasure, roles and messages to many.

On SMS the sender's number proves nothing: a ``From`` can be forged outside Twilio's network. A
guarded confirmation answered by SMS therefore needs the short code printed in the prompt itself,
which only the phone's owner receives. Telegram and the terminal keep their buttons and a plain
OUI (those identities cannot be forged). The feature keeps its own step and data; this module owns
the token, the expiry, the code, the wrong-answer count and the words.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from bot.clock import iso
from bot.messages import Channel, Choice, Inbound, Reply
from bot.text import NO_WORDS, YES_WORDS, fold

if TYPE_CHECKING:
    from bot.dispatch import Context

CONFIRM_WITHIN = timedelta(minutes=10)
CODE_DIGITS = 4
MAX_WRONG = 3  # wrong answers to one prompt before the operation is dropped
# Wrong answers in a day, over every prompt, after which SMS confirmations stop for that person: a
# forger who starts the operation again and again would otherwise guess without end. Counted per
# answer, not per dropped operation, so starting over after two guesses does not reset anything.
LOCK_AFTER = 3 * MAX_WRONG
LOCK_WINDOW = timedelta(hours=24)

_DIGITS = re.compile(r"\d")


class Kind(Enum):
    YES = "yes"  # run the operation with ``Answer.data``
    NO = "no"  # the person said no: nothing happens
    STALE = "stale"  # a button or answer for no pending operation (the feature says so)
    EXPIRED = "expired"  # too late: nothing happens
    HANDLED = "handled"  # the engine answered (code asked again, dropped): return ``replies``
    OTHER = "other"  # not an answer: let other handlers try


@dataclass(frozen=True)
class Answer:
    kind: Kind
    data: dict[str, Any] = field(default_factory=dict)
    replies: list[Reply] | None = None


def _new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def _by_sms(ctx: Context) -> bool:
    return ctx.identity.channel is Channel.SMS


async def _locked(ctx: Context) -> bool:
    since = iso(ctx.now() - LOCK_WINDOW)
    row = await ctx.store.fetchone(
        "SELECT COUNT(*) FROM confirm_failures WHERE person_id = ? AND failed_at > ?", (ctx.person.id, since)
    )
    return row is not None and int(row[0]) >= LOCK_AFTER


async def ask(
    ctx: Context,
    step: str,
    text: str,
    *,
    yes: str,
    no: str,
    yes_label: str | None = None,
    no_label: str | None = None,
    guarded: bool = True,
    within: timedelta = CONFIRM_WITHIN,
    **data: Any,
) -> Reply:
    """Keep the operation pending in ``step`` and return the prompt.

    ``yes`` and ``no`` are the feature's action keys; the buttons carry ``key:token``. A guarded
    prompt sent by SMS has no numbered choices (a forged "1" must not confirm) and ends with the
    code to type back.
    """
    if guarded and _by_sms(ctx) and await _locked(ctx):
        ctx.done()
        return Reply(f"{text}\n{ctx.t('core.confirm_locked')}")
    token = secrets.token_hex(8)
    code = _new_code() if guarded and _by_sms(ctx) else None
    # Asked again (a preview changed, the same operation started over): the wrong codes already
    # typed still count, or each new prompt would give a forger three more guesses.
    wrong = int((pending(ctx, step) or {}).get("wrong", 0))
    ctx.goto(step, **data, token=token, expires=iso(ctx.now() + within), guarded=guarded, sms_code=code, wrong=wrong)
    if code is not None:
        return Reply(text, pin=ctx.t("core.confirm_sms", code=code))
    choices = (
        Choice(f"{yes}:{token}", yes_label or ctx.t("core.yes")),
        Choice(f"{no}:{token}", no_label or ctx.t("core.no")),
    )
    return Reply(text, choices)


def pending(ctx: Context, step: str) -> dict[str, Any] | None:
    """The data of the operation waiting in ``step``, if any."""
    return dict(ctx.data) if ctx.step == step and "token" in ctx.data else None


def code(ctx: Context, step: str) -> str | None:
    """The SMS code the pending prompt of ``step`` asks for, if it asks for one."""
    data = pending(ctx, step)
    return None if data is None else data.get("sms_code")


def _expired(ctx: Context, data: dict[str, Any]) -> bool:
    return iso(ctx.now()) > str(data.get("expires", ""))


async def pressed(inbound: Inbound, ctx: Context, step: str, yes: bool) -> Answer:
    """A button: ``key:token`` must name the operation pending now."""
    token = (inbound.choice or "").partition(":")[2]
    data = pending(ctx, step)
    if data is None or not token or data["token"] != token:
        return Answer(Kind.STALE)
    if not yes:
        ctx.done()
        return Answer(Kind.NO, data)
    if data.get("guarded", True) and _by_sms(ctx):
        # Only a typed number against the last menu becomes a choice on SMS: not proof enough.
        return await _wrong(ctx, data)
    return _accept(ctx, data)


async def typed(inbound: Inbound, ctx: Context, step: str) -> Answer:
    """A typed answer: OUI / NON in any language, and on SMS the code of a guarded prompt."""
    data = pending(ctx, step)
    if data is None:
        return Answer(Kind.OTHER)
    folded = fold(inbound.text)
    if folded in NO_WORDS:
        ctx.done()
        return Answer(Kind.NO, data)
    digits = "".join(_DIGITS.findall(folded))
    rest = [word for word in _DIGITS.sub(" ", folded).split() if word]
    said_yes = bool(rest) and all(word in YES_WORDS for word in rest)
    if not (data.get("guarded", True) and _by_sms(ctx)):
        return _accept(ctx, data) if folded in YES_WORDS else Answer(Kind.OTHER)
    if not said_yes and not (digits and not rest):
        return Answer(Kind.OTHER)
    code = data.get("sms_code")
    if code is None:
        # Asked on Telegram or in the terminal, answered by SMS: the phone proves itself first.
        if await _locked(ctx):
            ctx.done()
            return Answer(Kind.HANDLED, data, [Reply(ctx.t("core.confirm_locked"))])
        ctx.data["sms_code"] = _new_code()
        return Answer(Kind.HANDLED, data, [Reply(ctx.t("core.confirm_sms", code=ctx.data["sms_code"]))])
    if digits == code:
        return _accept(ctx, data)
    return await _wrong(ctx, data)


def _accept(ctx: Context, data: dict[str, Any]) -> Answer:
    ctx.done()
    if _expired(ctx, data):
        return Answer(Kind.EXPIRED, data, [Reply(ctx.t("core.confirm_too_late"))])
    return Answer(Kind.YES, data)


async def _wrong(ctx: Context, data: dict[str, Any]) -> Answer:
    """A yes without the right code: the prompt again, and after three the operation is dropped."""
    if _expired(ctx, data):
        ctx.done()
        return Answer(Kind.EXPIRED, data, [Reply(ctx.t("core.confirm_too_late"))])
    wrong = int(data.get("wrong", 0)) + 1
    await record_failure(ctx, ctx.now())
    if wrong >= MAX_WRONG:
        ctx.done()
        return Answer(Kind.HANDLED, data, [Reply(ctx.t("core.confirm_dropped"))])
    ctx.data["wrong"] = wrong
    code = data.get("sms_code")
    if code is None:
        code = ctx.data["sms_code"] = _new_code()
    return Answer(Kind.HANDLED, data, [Reply(ctx.t("core.confirm_code_again", code=code))])


async def record_failure(ctx: Context, now: datetime) -> None:
    await ctx.store.execute(
        "INSERT INTO confirm_failures (person_id, failed_at)"
        " SELECT ?, ? WHERE EXISTS (SELECT 1 FROM persons WHERE id = ?)",
        (ctx.person.id, iso(now), ctx.person.id),
    )
