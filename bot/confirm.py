"""Preview, then yes or no: the one check in front of money, erasure, roles and messages to many.

A feature describes an :class:`Operation` (what runs inside the write transaction, who may
confirm it, its texts) and registers it with ``router.confirmation(op)``; it asks with
``await op.ask(ctx, preview, **data)``. The engine owns everything else:

- the token on the buttons, the expiry (``CONFIRM_MINUTES``), the yes and no words of every
  language (``core.yes`` / ``core.no`` keyword files);
- on SMS, the possession code: the sender's number proves nothing (a ``From`` can be forged outside
  Twilio's network), so a guarded prompt answered by SMS needs the code printed in the prompt
  itself, which only the phone's owner receives; three wrong answers drop the operation and nine in a
  day stop SMS confirmations for that person. Telegram and the terminal keep their buttons and a
  plain OUI (those identities cannot be forged);
- the roles, checked again when the yes comes (``Refused`` from the operation says any finer "no");
- the double yes: the token is written with the operation, in its transaction, so a second yes (the
  same SMS twice, a double tap, an answer retried after a crash) says "already done" and does nothing;
- waking the outbox once the transaction is committed.

The one rule for other text while a question is pending: it is not an answer, so it goes to the
other handlers as if nothing were pending, and the question waits until its expiry. Only when
nothing else understood it does the dispatcher remind the person that a question is waiting.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.clock import iso
from bot.messages import Channel, Choice, Inbound, Reply
from bot.text import fold

if TYPE_CHECKING:
    from bot.dispatch import Context

CODE_DIGITS = 4
MAX_WRONG = 3  # wrong answers to one prompt before the operation is dropped
# Wrong answers in a day, over every prompt, after which SMS confirmations stop for that person: a
# forger who starts the operation again and again would otherwise guess without end. Counted per
# answer, not per dropped operation, so starting over after two guesses does not reset anything.
LOCK_AFTER = 3 * MAX_WRONG
LOCK_WINDOW = timedelta(hours=24)
# How long after a yes a second yes is answered "already done" (a retried SMS, a double tap).
REPLAY_WINDOW = timedelta(minutes=5)
# Confirmed tokens older than this are of no use any more and are pruned.
KEEP_CONFIRMED = timedelta(days=2)

YES, NO = "core.yes", "core.no"  # the keyword keys of the answers

_DIGITS = re.compile(r"\d")

Run = Callable[[aiosqlite.Connection, "Context", dict[str, Any]], Awaitable[list[Reply]]]
After = Callable[["Context", dict[str, Any], list[Reply]], Awaitable[list[Reply]]]
Dropped = Callable[["Context", dict[str, Any]], Awaitable[None]]
Other = Callable[[Inbound, "Context"], Awaitable[list[Reply] | None]]


class Refused(Exception):
    """Raised by an operation inside its transaction: nothing is written and the person reads why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        self.text: str | None = None
        self.keep_writes = False

    @classmethod
    def keeping_writes(cls, key: str, **params: object) -> Refused:
        """What the operation wrote before refusing stays (a count that rations a lookup), but the
        operation is not done: a second yes is not "already done"."""
        refused = cls(key, **params)
        refused.keep_writes = True
        return refused

    @classmethod
    def saying(cls, text: str) -> Refused:
        """A refusal already put in words (a feature's error that renders itself)."""
        refused = cls("")
        refused.text = text
        return refused

    def reply(self, ctx: Context) -> Reply:
        return Reply(self.text if self.text is not None else ctx.t(self.key, **self.params))


@dataclass(frozen=True)
class Texts:
    """The catalog keys an operation answers with; a feature names its own where its words differ."""

    cancelled: str = "core.confirm_cancelled"
    already_done: str = "core.confirm_already_done"
    nothing_pending: str = "core.confirm_nothing_pending"
    too_late: str = "core.confirm_too_late"
    waiting: str = "core.confirm_waiting"  # other text nobody understood while the question waits


@dataclass(frozen=True)
class Operation:
    """What a feature confirms. ``name`` is the pending step and the prefix of its button keys."""

    name: str
    run: Run  # inside the write transaction, with the data given to ``ask``; returns the answer
    roles: frozenset[str] | None = None  # who may confirm, checked again at the yes
    guarded: bool = True  # False: no SMS code (an operation that moves nothing of anyone's)
    yes_label: str = "core.yes"
    no_label: str = "core.no"
    texts: Texts = field(default_factory=Texts)
    # Keyword keys of other words that confirm and say something more ("URGENT 4721"): the key of
    # the word used is in ``data["variant"]`` when ``run`` is called.
    variants: tuple[str, ...] = ()
    after: After | None = None  # after the commit (work in batches, a report): replaces the answer
    dropped: Dropped | None = None  # the question went without a yes (no, too late, wrong codes)
    other: Other | None = None  # text that is not an answer, before it goes to other handlers

    @property
    def yes_key(self) -> str:
        return f"{self.name}.yes"

    @property
    def no_key(self) -> str:
        return f"{self.name}.no"

    async def ask(self, ctx: Context, text: str, *, choices: Iterable[Choice] = (), **data: Any) -> Reply:
        """Keep the operation pending and return the prompt (``choices`` are added after yes and no).

        By SMS a guarded prompt has no numbered choices (a forged "1" must not confirm) and ends
        with the code to type back, pinned to the first page of a long preview.
        """
        if self.guarded and _by_sms(ctx) and await _locked(ctx):
            ctx.done()
            return Reply(text, pin=ctx.t("core.confirm_locked"))
        token = secrets.token_hex(8)
        code = _new_code() if self.guarded and _by_sms(ctx) else None
        # Asked again (a preview changed, the same operation started over): the wrong codes already
        # typed still count, or each new prompt would give a forger three more guesses.
        wrong = int((pending(ctx, self.name) or {}).get("wrong", 0))
        within = timedelta(minutes=ctx.settings.confirm_minutes)
        ctx.goto(
            self.name,
            **data,
            token=token,
            expires=iso(ctx.now() + within),
            guarded=self.guarded,
            sms_code=code,
            wrong=wrong,
        )
        if code is not None:
            return Reply(text, pin=ctx.t("core.confirm_sms", code=code))
        return Reply(
            text,
            (
                Choice(f"{self.yes_key}:{token}", ctx.t(self.yes_label)),
                Choice(f"{self.no_key}:{token}", ctx.t(self.no_label)),
                *choices,
            ),
        )


def pending(ctx: Context, step: str) -> dict[str, Any] | None:
    """The data of the operation waiting in ``step``, if any."""
    return dict(ctx.data) if ctx.step == step and "token" in ctx.data else None


def code(ctx: Context, step: str) -> str | None:
    """The SMS code the pending prompt of ``step`` asks for, if it asks for one."""
    data = pending(ctx, step)
    return None if data is None else data.get("sms_code")


# What the engine registers for each operation ------------------------------------------------


async def on_pressed(op: Operation, yes: bool, inbound: Inbound, ctx: Context) -> list[Reply]:
    """A yes or no button: ``key:token`` must name the operation pending now."""
    token = (inbound.choice or "").partition(":")[2]
    data = pending(ctx, op.name)
    if data is None or not token or data["token"] != token:
        return await _stale(op, ctx, token)
    if not yes:
        return await _drop(op, ctx, data, op.texts.cancelled)
    if data.get("guarded", True) and _by_sms(ctx):
        # Only a typed number against the last menu becomes a choice on SMS: not proof enough.
        return await _wrong(op, ctx, data)
    return await _accept(op, ctx, data)


async def on_typed(op: Operation, inbound: Inbound, ctx: Context) -> list[Reply] | None:
    """A typed answer: OUI / NON in any language, and on SMS the code of a guarded prompt."""
    data = pending(ctx, op.name)
    if data is None:
        return None
    folded = fold(inbound.text)
    if folded in ctx.i18n.words(NO):
        return await _drop(op, ctx, data, op.texts.cancelled)
    digits = "".join(_DIGITS.findall(folded))
    rest = [word for word in _DIGITS.sub(" ", folded).split() if word]
    variant = _variant(op, ctx, rest)
    if variant is not None and not digits:  # URGENT alone is the feature's word, not a yes
        return await _other(op, inbound, ctx)
    said_yes = bool(rest) and (variant is not None or all(word in ctx.i18n.words(YES) for word in rest))
    if variant is not None:
        data["variant"] = ctx.data["variant"] = variant
    if not (data.get("guarded", True) and _by_sms(ctx)):
        if said_yes and not digits:
            return await _accept(op, ctx, data)
        return await _other(op, inbound, ctx)
    if not said_yes and not (digits and not rest):
        return await _other(op, inbound, ctx)
    sms_code = data.get("sms_code")
    if sms_code is None:
        # Asked on Telegram or in the terminal, answered by SMS: the phone proves itself first.
        if await _locked(ctx):
            return await _drop(op, ctx, data, "core.confirm_locked")
        ctx.data["sms_code"] = _new_code()
        return [Reply(ctx.t("core.confirm_sms", code=ctx.data["sms_code"]))]
    if digits == sms_code:
        return await _accept(op, ctx, data)
    return await _wrong(op, ctx, data)


def said_yes(ctx: Context, text: str) -> bool:
    """OUI, with or without a code ("OUI 4721"), in any language."""
    words = _DIGITS.sub(" ", fold(text)).split()
    return bool(words) and all(word in ctx.i18n.words(YES) for word in words)


async def no_question(ctx: Context, operations: dict[str, Operation]) -> list[Reply]:
    """A yes when no question waits: "already done" just after one was confirmed (the same SMS
    twice, a double tap), else nothing to confirm. Nothing is ever done again."""
    row = await ctx.store.fetchone(
        "SELECT operation FROM confirmed WHERE person_id = ? AND confirmed_at >= ? ORDER BY confirmed_at DESC LIMIT 1",
        (ctx.person.id, iso(ctx.now() - REPLAY_WINDOW)),
    )
    op = operations.get(row[0]) if row is not None else None
    return [Reply(ctx.t(op.texts.already_done if op is not None else "core.confirm_nothing_pending"))]


def _variant(op: Operation, ctx: Context, words: list[str]) -> str | None:
    if len(words) != 1:
        return None
    return next((key for key in op.variants if words[0] in ctx.i18n.words(key)), None)


async def _other(op: Operation, inbound: Inbound, ctx: Context) -> list[Reply] | None:
    ctx.data.pop("variant", None)
    return await op.other(inbound, ctx) if op.other is not None else None


async def _accept(op: Operation, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    ctx.done()
    if _expired(ctx, data):
        return await _too_late(op, ctx, data)
    return await _run(op, ctx, data)


async def _run(op: Operation, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The operation and its token in one transaction: done once, whatever is answered twice."""
    token = str(data["token"])
    try:
        async with ctx.store.transaction() as db:
            await db.execute("DELETE FROM confirmed WHERE confirmed_at < ?", (iso(ctx.now() - KEEP_CONFIRMED),))
            cursor = await db.execute(
                "INSERT INTO confirmed (token, person_id, operation, confirmed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (token) DO NOTHING",
                (token, ctx.person.id, op.name, iso(ctx.now())),
            )
            if cursor.rowcount == 0:  # confirmed before a crash lost the answer
                return [Reply(ctx.t(op.texts.already_done))]
            try:
                replies = await op.run(db, ctx, data)
            except Refused as exc:
                if not exc.keep_writes:
                    raise
                await db.execute("DELETE FROM confirmed WHERE token = ?", (token,))
                return [exc.reply(ctx)]
    except Refused as exc:
        return [exc.reply(ctx)]
    if ctx.outbox is not None:
        ctx.outbox.wake()
    if op.after is not None:
        replies = await op.after(ctx, data, replies)
    return replies


async def _confirmed(ctx: Context, token: str) -> bool:
    if not token:
        return False
    return await ctx.store.fetchone("SELECT 1 FROM confirmed WHERE token = ?", (token,)) is not None


async def _stale(op: Operation, ctx: Context, token: str) -> list[Reply]:
    """A button for no pending question: "already done" if that question was confirmed."""
    if await _confirmed(ctx, token):
        return [Reply(ctx.t(op.texts.already_done))]
    return [Reply(ctx.t(op.texts.nothing_pending))]


async def _too_late(op: Operation, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if await _confirmed(ctx, str(data.get("token", ""))):
        return [Reply(ctx.t(op.texts.already_done))]
    return await _drop(op, ctx, data, op.texts.too_late)


async def _drop(op: Operation, ctx: Context, data: dict[str, Any], key: str) -> list[Reply]:
    """The question goes without a yes: nothing is done, and the feature may tidy up."""
    ctx.done()
    if op.dropped is not None:
        await op.dropped(ctx, data)
    return [Reply(ctx.t(key, minutes=ctx.settings.confirm_minutes))]


async def _wrong(op: Operation, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """A yes without the right code: the prompt again, and after three the operation is dropped."""
    if _expired(ctx, data):
        ctx.done()
        return await _too_late(op, ctx, data)
    wrong = int(data.get("wrong", 0)) + 1
    await record_failure(ctx, ctx.now())
    if wrong >= MAX_WRONG:
        return await _drop(op, ctx, data, "core.confirm_dropped")
    ctx.data["wrong"] = wrong
    sms_code = data.get("sms_code")
    if sms_code is None:
        sms_code = ctx.data["sms_code"] = _new_code()
    return [Reply(ctx.t("core.confirm_code_again", code=sms_code))]


def _new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def _by_sms(ctx: Context) -> bool:
    return ctx.identity.channel is Channel.SMS


def _expired(ctx: Context, data: dict[str, Any]) -> bool:
    return iso(ctx.now()) > str(data.get("expires", ""))


async def _locked(ctx: Context) -> bool:
    since = iso(ctx.now() - LOCK_WINDOW)
    row = await ctx.store.fetchone(
        "SELECT COUNT(*) FROM confirm_failures WHERE person_id = ? AND failed_at > ?", (ctx.person.id, since)
    )
    return row is not None and int(row[0]) >= LOCK_AFTER


async def record_failure(ctx: Context, now: datetime) -> None:
    await ctx.store.execute(
        "INSERT INTO confirm_failures (person_id, failed_at)"
        " SELECT ?, ? WHERE EXISTS (SELECT 1 FROM persons WHERE id = ?)",
        (ctx.person.id, iso(now), ctx.person.id),
    )
