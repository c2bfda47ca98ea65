"""Staff announcements in the chat: compose, choose who gets it, preview, confirm, follow, cancel.

Every command, step and button is for staff only (the dispatcher's guard refuses anyone else and
changes nothing). Nothing is queued before the staff member answers OUI to a preview that says
how many people get it on each channel, who does not and why, the SMS segments and their cost;
NON or ANNULER at any step stops with nothing sent. Cancelling a broadcast under way asks first.
Both questions go through ``bot.confirm``: answered by SMS, they need the code printed in the
prompt (a forged ``From`` must not reach everyone). URGENT shows the preview again with the SMS
leaving during the quiet hours; by SMS, URGENT with the code is that yes in one message.
On Telegram the staff get a progress message that the running bot edits in place (see
``handlers.broadcast.logic.BroadcastDriver``); elsewhere ``/annonces 12`` shows where it stands.

Commands: /annonce or /broadcast [text], /annonces or /broadcasts [ID], /annuler_annonce or
/cancel_broadcast ID. The logic shared with ``voisins broadcast`` is in ``logic.py``.
"""

from __future__ import annotations

import logging
from typing import Any

import aiosqlite

from bot import confirm
from bot.clock import Clock
from bot.config import Settings
from bot.dispatch import STAFF_ROLES, Context, Replies, Router
from bot.i18n import I18n
from bot.messages import Channel, Choice, Inbound, Reply
from bot.store import Store
from bot.text import digits_of, fold, typed_number
from handlers.broadcast import erasure
from handlers.broadcast import logic as bc
from handlers.broadcast.cli import broadcast_app

log = logging.getLogger(__name__)

router = Router("broadcast")
router.message_kind("broadcast", r"^broadcast:\d+$")
router.menu_entry("broadcast.menu", "broadcast.menu_label", order=85, visible=lambda person: person.is_staff)

TEXT, TRANSLATION, AUDIENCE, PREVIEW, CANCEL = (
    "broadcast.text",
    "broadcast.translation",
    "broadcast.audience",
    "broadcast.preview",
    "broadcast.cancel",
)
NO_TEXT = "broadcast.no_text"  # keywords: no text in the language asked for (its readers get the first)
URGENT = "broadcast.urgent"  # keywords: URGENT alone shows the preview again; with the SMS code it sends
GROUP_CHOICES = ("everyone", "residents", "workers", "volunteers", "staff")  # then each language, then:
CHANNEL_CHOICES = ("telegram", "sms")
EXPAND_BUDGET = 2.0  # seconds of queuing in the answer; a larger audience is finished by the running bot


def _arguments(inbound: Inbound) -> str:
    parts = inbound.text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _id_of(inbound: Inbound) -> int | None:
    """``broadcast.cancel:12`` -> 12; ``/annonces 12`` or ``/annonces n°12`` -> 12."""
    raw = (inbound.choice or "").partition(":")[2] if inbound.choice else _arguments(inbound)
    return typed_number(digits_of(raw.split()[0])) if raw.split() else None


def _abandons(ctx: Context, text: str) -> bool:
    """broadcast.cancel or a no (core.no) abandons the announcement; "cancel" alone is the opt-out
    (account's STOP), so staff write ANNULER, NON or /cancel. Where a no answers the question (no
    text in this language), only broadcast.cancel abandons."""
    word = fold(text)
    return word in ctx.i18n.words("broadcast.cancel") or word in ctx.i18n.words(confirm.NO)


def _stop(ctx: Context) -> Replies:
    ctx.done()
    return [Reply(ctx.t("broadcast.abandoned"))]


def _expired(ctx: Context) -> Replies:
    """A button of a preview already answered or replaced: nothing happens, the current step stays."""
    return [Reply(ctx.t("broadcast.expired"))]


def _error(ctx: Context, exc: bc.BroadcastError) -> str:
    return ctx.t(exc.key, **exc.params)


# Composing -------------------------------------------------------------------------------------


@router.command("/annonce", "/broadcast", roles=STAFF_ROLES, help="broadcast.about_new")
@router.action("broadcast.new", roles=STAFF_ROLES)
async def new(inbound: Inbound, ctx: Context) -> Replies:
    """``/annonce`` asks for the text; ``/annonce Fermeture de la laverie demain`` takes it at once."""
    text = _arguments(inbound) if inbound.choice is None else ""
    if text.strip():
        return _got_main_text(ctx, text)
    ctx.goto(TEXT)
    name = ctx.i18n.language_name(ctx.i18n.default_language, ctx.language)
    return [Reply(ctx.t("broadcast.ask_text", max=bc.MAX_TEXT, language_name=name))]


@router.step(TEXT, roles=STAFF_ROLES)
async def typed_text(inbound: Inbound, ctx: Context) -> Replies:
    if _abandons(ctx, inbound.text):
        return _stop(ctx)
    return _got_main_text(ctx, inbound.text)


def _got_main_text(ctx: Context, text: str) -> Replies:
    """The default language's text, required; then each other language's in turn, optional."""
    try:
        main = bc.check_text(text)
    except bc.BroadcastError as exc:
        ctx.goto(TEXT)
        return [Reply(_error(ctx, exc))]
    return _ask_translation(ctx, {ctx.i18n.default_language: main}, 0)


def _ask_translation(ctx: Context, texts: dict[str, str], index: int) -> Replies:
    """Ask for the text in the ``index``-th language after the default one, or go on to the audience."""
    others = ctx.i18n.languages[1:]
    if index >= len(others):
        ctx.goto(AUDIENCE, texts=texts)
        return [_audience_picker(ctx)]
    code = others[index]
    ctx.goto(TRANSLATION, texts=texts, index=index)
    name = ctx.i18n.language_name(code, ctx.language)
    main = ctx.i18n.language_name(ctx.i18n.default_language, ctx.language)
    choices = [Choice(f"broadcast.no_translation:{code}", ctx.t("broadcast.choice_no_translation", language_name=name))]
    if index + 1 < len(others):  # with six languages, one answer says there are no more
        choices.append(Choice(f"broadcast.no_more_translations:{code}", ctx.t("broadcast.choice_no_more_translations")))
    return [Reply(ctx.t("broadcast.ask_translation", language_name=name, main_name=main), tuple(choices))]


def _asked(ctx: Context) -> tuple[dict[str, str], int]:
    return dict(ctx.data["texts"]), int(ctx.data["index"])


@router.step(TRANSLATION, roles=STAFF_ROLES)
async def typed_translation(inbound: Inbound, ctx: Context) -> Replies:
    word = fold(inbound.text)
    if word in ctx.i18n.words("broadcast.cancel"):
        return _stop(ctx)
    texts, index = _asked(ctx)
    if word in ctx.i18n.words(NO_TEXT):  # typed AUCUN: no more texts, every other reader gets the first one
        return _ask_translation(ctx, texts, len(ctx.i18n.languages))
    try:
        texts[ctx.i18n.languages[1 + index]] = bc.check_text(inbound.text)
    except bc.BroadcastError as exc:
        return [Reply(_error(ctx, exc))]
    return _ask_translation(ctx, texts, index + 1)


@router.action("broadcast.no_translation", roles=STAFF_ROLES)
async def pressed_no_translation(inbound: Inbound, ctx: Context) -> Replies:
    """The button skips the language it was shown for, only while that language is asked."""
    return _skip_texts(inbound, ctx, every=False)


@router.action("broadcast.no_more_translations", roles=STAFF_ROLES)
async def pressed_no_more_translations(inbound: Inbound, ctx: Context) -> Replies:
    """The button ends the texts: the languages not given yet get the first text."""
    return _skip_texts(inbound, ctx, every=True)


def _skip_texts(inbound: Inbound, ctx: Context, *, every: bool) -> Replies:
    """A button of the question for one language's text, pressed while that language is asked."""
    if ctx.step != TRANSLATION:
        return _expired(ctx)
    texts, index = _asked(ctx)
    if (inbound.choice or "").partition(":")[2] != ctx.i18n.languages[1 + index]:
        return _expired(ctx)
    return _ask_translation(ctx, texts, len(ctx.i18n.languages) if every else index + 1)


def _audience_choices(ctx: Context) -> dict[str, str]:
    """Each button's key and label: the groups, each configured language, the channels."""
    choices = {key: ctx.t(f"broadcast.audience_{key}") for key in GROUP_CHOICES}
    for code in ctx.i18n.languages:
        choices[code] = ctx.t("broadcast.audience_language", language_name=ctx.i18n.language_name(code, ctx.language))
    choices.update({key: ctx.t(f"broadcast.audience_{key}") for key in CHANNEL_CHOICES})
    return choices


def _audience_picker(ctx: Context, hint: str | None = None) -> Reply:
    choices = tuple(Choice(f"broadcast.audience:{key}", label) for key, label in _audience_choices(ctx).items())
    text = ctx.t("broadcast.ask_audience")
    return Reply(f"{hint}\n{text}" if hint else text, choices)


@router.action("broadcast.audience", roles=STAFF_ROLES)
async def pressed_audience(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.step != AUDIENCE:
        return _expired(ctx)
    key = (inbound.choice or "").partition(":")[2]
    if key not in _audience_choices(ctx):
        return [_audience_picker(ctx)]
    return await _to_preview(ctx, bc.Audience.parse(key, ctx.i18n))


@router.step(AUDIENCE, roles=STAFF_ROLES)
async def typed_audience(inbound: Inbound, ctx: Context) -> Replies:
    """A button's words typed, or a combination: ``résidents sms``, ``bénévoles anglais``."""
    if _abandons(ctx, inbound.text):
        return _stop(ctx)
    try:
        audience = bc.Audience.parse(inbound.text, ctx.i18n)
    except bc.BroadcastError as exc:
        return [_audience_picker(ctx, _error(ctx, exc))]
    return await _to_preview(ctx, audience)


# Preview and confirmation ----------------------------------------------------------------------


async def _to_preview(ctx: Context, audience: bc.Audience) -> Replies:
    texts = dict(ctx.data["texts"])  # the default language's first
    broadcast_id = await bc.create_draft(
        ctx.store, ctx.now(), texts, audience, timezone=ctx.settings.timezone, created_by=ctx.person.id
    )
    return [await _preview_reply(ctx, broadcast_id, texts, audience, urgent=False)]


async def _preview_reply(
    ctx: Context, broadcast_id: int, texts: dict[str, str], audience: bc.Audience, *, urgent: bool
) -> Reply:
    """The preview and its question. By SMS it carries the code, and at night URGENT with that code."""
    settings = ctx.settings
    found = await bc.preview(
        ctx.store,
        ctx.now(),
        texts,
        audience,
        price=settings.sms_price_per_segment,
        quiet=bc.QuietHours.parse(settings.sms_quiet_hours),
        tz=settings.tz,
        urgent=urgent,
    )
    sms_reader = ctx.identity.channel is Channel.SMS  # the characters it warns of would arrive replaced
    text = bc.render_preview(
        ctx.i18n, ctx.language, broadcast_id, found, urgent=urgent, tz=settings.tz, gsm_only=sms_reader
    )
    if found.people == 0:
        ctx.done()
        await bc.discard_draft(ctx.store, broadcast_id)
        return Reply(f"{text}\n{ctx.t('broadcast.nobody')}")
    choices: tuple[Choice, ...] = ()
    if ctx.identity.channel is not Channel.SMS and found.sms:
        label = "broadcast.choice_not_urgent" if urgent else "broadcast.choice_urgent"
        choices = (Choice(f"broadcast.urgent:{broadcast_id}", ctx.t(label)),)
    reply = await SEND.ask(ctx, f"{text}\n{ctx.t('broadcast.ask_confirm')}", choices=choices, id=broadcast_id)
    if confirm.pending(ctx, PREVIEW) is None:  # too many wrong codes by SMS today: nothing will be asked
        await bc.discard_draft(ctx.store, broadcast_id)
        return reply
    code = confirm.code(ctx, PREVIEW)
    if code and found.sms_wait_until is not None:
        # Beside the OUI code, on the first SMS page: an answer behind SUITE is no answer.
        reply = Reply(reply.text, reply.choices, pin=f"{reply.pin}\n{ctx.t('broadcast.confirm_sms_urgent', code=code)}")
    return reply


@router.action("broadcast.urgent", roles=STAFF_ROLES)
async def pressed_urgent(inbound: Inbound, ctx: Context) -> Replies:
    """Urgent or not changes the preview only: the question is asked again, nothing is queued."""
    broadcast_id = _id_of(inbound)
    if ctx.step != PREVIEW or broadcast_id is None or ctx.data.get("id") != broadcast_id:
        return _expired(ctx)
    return await _toggle_urgent(ctx, broadcast_id)


async def _typed_at_preview(inbound: Inbound, ctx: Context) -> Replies:
    """URGENT alone shows the preview again, with the SMS leaving at night; any other text goes on."""
    if fold(inbound.text) in ctx.i18n.words(URGENT):
        return await _toggle_urgent(ctx, int(ctx.data["id"]))
    return None


async def _toggle_urgent(ctx: Context, broadcast_id: int) -> Replies:
    draft = await bc.get(ctx.store, broadcast_id)
    if draft is None or draft.status != "draft":
        ctx.done()
        return _expired(ctx)
    urgent = not draft.urgent
    await bc.set_urgent(ctx.store, broadcast_id, urgent)
    return [await _preview_reply(ctx, broadcast_id, draft.texts, draft.audience, urgent=urgent)]


def _progress(ctx: Context, broadcast_id: int) -> bc.ProgressMessage | None:
    if ctx.identity.channel is not Channel.TELEGRAM:  # a message edited in place needs Telegram
        return None
    return bc.ProgressMessage(
        chat=ctx.identity.address,
        language=ctx.language,
        text=ctx.t("broadcast.progress_start", id=broadcast_id),
        stop_label=ctx.t("broadcast.stop"),
    )


async def _send(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The one place a broadcast is confirmed (URGENT with the code first marks it urgent)."""
    broadcast_id = int(data["id"])
    quiet = bc.QuietHours.parse(ctx.settings.sms_quiet_hours)
    urgent = data.get("variant") == URGENT
    if not await bc.confirm_in(
        db, ctx.now(), broadcast_id, quiet=quiet, progress=_progress(ctx, broadcast_id), urgent=urgent
    ):
        raise confirm.Refused("broadcast.already", id=broadcast_id)
    log.info("staff %s confirmed broadcast %s", ctx.person.id, broadcast_id)
    return []


async def _queued(ctx: Context, data: dict[str, Any], replies: list[Reply]) -> list[Reply]:
    """Once confirmed, its recipients are written in batches; the answer says where it stands."""
    broadcast_id = int(data["id"])
    await bc.expand(ctx.store, ctx.clock, broadcast_id, budget=EXPAND_BUDGET)
    if ctx.outbox is not None:
        ctx.outbox.wake()
    report = await bc.report(ctx.store, ctx.now(), broadcast_id)
    assert report is not None
    text = bc.render_report(ctx.i18n, ctx.language, report, ctx.now(), texts=False)
    follow = "broadcast.follow_telegram" if ctx.identity.channel is Channel.TELEGRAM else "broadcast.follow"
    return [Reply(f"{ctx.t('broadcast.confirmed', id=broadcast_id)}\n{text}\n{ctx.t(follow, id=broadcast_id)}")]


async def _discarded(ctx: Context, data: dict[str, Any]) -> None:
    """No, too late or three wrong codes: the draft goes, nothing was ever queued."""
    await bc.discard_draft(ctx.store, int(data["id"]))


SEND = router.confirmation(
    confirm.Operation(
        PREVIEW,
        _send,
        roles=STAFF_ROLES,
        yes_label="broadcast.choice_yes",
        no_label="broadcast.choice_no",
        texts=confirm.Texts(cancelled="broadcast.abandoned", nothing_pending="broadcast.expired"),
        variants=(URGENT,),
        after=_queued,
        dropped=_discarded,
        other=_typed_at_preview,
    )
)


# Following and cancelling ----------------------------------------------------------------------


@router.command("/annonces", "/broadcasts", roles=STAFF_ROLES, help="broadcast.about_list")
@router.action("broadcast.menu", roles=STAFF_ROLES)
async def list_broadcasts(inbound: Inbound, ctx: Context) -> Replies:
    """The latest broadcasts and where they stand; ``/annonces 12`` shows one in full."""
    ctx.done()
    broadcast_id = _id_of(inbound) if inbound.choice is None else None
    now = ctx.now()
    if broadcast_id is not None:
        report = await bc.report(ctx.store, now, broadcast_id)
        if report is None or report.broadcast.status == "draft":
            return [Reply(ctx.t("broadcast.not_found", id=broadcast_id))]
        choices: tuple[Choice, ...] = ()
        if report.broadcast.status in bc.ACTIVE:
            choices = (Choice(f"broadcast.cancel:{broadcast_id}", ctx.t("broadcast.stop")),)
        return [Reply(bc.render_report(ctx.i18n, ctx.language, report, now), choices)]
    reports = [r for b in await bc.recent(ctx.store) if (r := await bc.report(ctx.store, now, b.id)) is not None]
    new_choice = Choice("broadcast.new", ctx.t("broadcast.choice_new"))
    if not reports:
        return [Reply(ctx.t("broadcast.list_empty"), (new_choice,))]
    stops = tuple(
        Choice(f"broadcast.cancel:{r.broadcast.id}", ctx.t("broadcast.choice_stop_id", id=r.broadcast.id))
        for r in reports
        if r.broadcast.status in bc.ACTIVE
    )
    text = f"{ctx.t('broadcast.list_title')}\n{bc.render_list(ctx.i18n, ctx.language, reports)}"
    return [Reply(text, (new_choice, *stops[:3]))]


@router.command("/annuler_annonce", "/cancel_broadcast", roles=STAFF_ROLES, help="broadcast.about_cancel")
@router.action("broadcast.cancel", roles=STAFF_ROLES)
async def ask_cancel(inbound: Inbound, ctx: Context) -> Replies:
    """Stopping cannot be undone: say what will not be sent and ask first."""
    broadcast_id = _id_of(inbound)
    if broadcast_id is None:
        ctx.done()
        return [Reply(ctx.t("broadcast.ask_cancel_id"))]
    report = await bc.report(ctx.store, ctx.now(), broadcast_id)
    if report is None or report.broadcast.status == "draft":
        ctx.done()
        return [Reply(ctx.t("broadcast.not_found", id=broadcast_id))]
    if report.broadcast.status in bc.FINISHED:
        ctx.done()
        status = ctx.t(f"broadcast.status_{report.broadcast.status}")
        return [Reply(ctx.t("broadcast.cancel_already", id=broadcast_id, status=status))]
    text = ctx.plural(
        "broadcast.confirm_cancel",
        report.waiting,
        id=broadcast_id,
        waiting=bc.number(report.waiting, ctx.language),
        sent=bc.number(report.sent, ctx.language),
    )
    return [await STOP.ask(ctx, text, id=broadcast_id)]


async def _stop_sending(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    broadcast_id = int(data["id"])
    stopped, already, found = await bc.cancel_in(db, ctx.now(), broadcast_id, by=ctx.person.id)
    if not found:
        raise confirm.Refused("broadcast.not_found", id=broadcast_id)
    if already:
        status = await db.execute_fetchall("SELECT status FROM broadcasts WHERE id = ?", (broadcast_id,))
        word = ctx.t(f"broadcast.status_{next(iter(status))[0]}")
        return [Reply(ctx.t("broadcast.cancel_already", id=broadcast_id, status=word))]
    log.info("staff %s cancelled broadcast %s", ctx.person.id, broadcast_id)
    done = ctx.plural("broadcast.cancel_done", stopped, id=broadcast_id, stopped=bc.number(stopped, ctx.language))
    return [Reply(done)]


async def _stopped_report(ctx: Context, data: dict[str, Any], replies: list[Reply]) -> list[Reply]:
    """Where the broadcast stands once stopped, under the answer."""
    report = await bc.report(ctx.store, ctx.now(), int(data["id"]))
    if report is None or report.broadcast.status != "cancelled":
        return replies
    text = bc.render_report(ctx.i18n, ctx.language, report, ctx.now(), texts=False)
    return [Reply(f"{replies[0].text}\n{text}")] if replies else replies


STOP = router.confirmation(
    confirm.Operation(
        CANCEL,
        _stop_sending,
        roles=STAFF_ROLES,
        yes_label="broadcast.choice_stop_yes",
        no_label="broadcast.choice_stop_no",
        texts=confirm.Texts(cancelled="broadcast.cancel_kept", nothing_pending="broadcast.expired"),
        after=_stopped_report,
    )
)


def _driver(store: Store, clock: Clock, settings: Settings) -> bc.BroadcastDriver:
    return bc.BroadcastDriver(store, clock, I18n.configured(settings))


router.configured_outbox_hook(_driver)
router.personal_data(erasure.export, erasure.erase)
router.cli("broadcast", broadcast_app, "Announcements: preview, send, follow, cancel.")

from handlers.broadcast import console as _console  # noqa: E402, F401  (its pages need the router above)
