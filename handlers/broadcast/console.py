"""The console's Broadcasts page: compose per language, choose who, preview the cost, send or schedule, follow.

Another face of the chat's ``/annonce`` and of ``voisins broadcast``: the same draft, preview,
confirmation and cancel of :mod:`handlers.broadcast.logic`, the same counts and cost. Nothing is
queued before the staff member confirms a preview; each confirmation and cancel writes its audit
line in the transaction that makes it. The live parts (the segment counter that marks the
characters an SMS cannot carry, the audience's count, the progress) are htmx fragments; without
JavaScript the preview shows the same marks and counts before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import get_timezone_location
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from bot.clock import iso
from bot.sms_text import MAX_BODY, segments
from bot.web import audit
from bot.web.view import View
from handlers.broadcast import EXPAND_BUDGET, router
from handlers.broadcast import logic as bc
from handlers.broadcast.audience import replacements, skip_reasons

router.console_templates = Path(__file__).parent / "templates"

PATH = "/console/broadcast"
POLL_SECONDS = 2  # the progress of a broadcast under way
POLL_SCHEDULED_SECONDS = 60  # one that waits for its time
LIST_SIZE = 20
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _number(view: View, value: float) -> str:
    return bc.number(value, view.language)


def _helpers(view: View) -> dict[str, Any]:
    """Plurals, figures and money in the staff member's language, for every template of the page."""

    def plural(key: str, n: int, **params: object) -> str:
        return view.core.i18n.plural(view.language, key, n, **params)

    return {
        "plural": plural,
        "number": lambda value: _number(view, value),
        "money": lambda value: bc.money(value, view.language),
    }


# What the form holds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Composed:
    """The compose form as typed, kept to fill it again after an error or from a draft."""

    texts: dict[str, str]  # per configured language, as typed (maybe empty)
    group: str = "everyone"
    language: str = ""  # "": every language
    channel: str = ""  # "": Telegram and SMS
    when: str = "now"  # "now" or "later"
    at: str = ""  # the datetime-local value, in TIMEZONE
    urgent: bool = False

    @classmethod
    def read(cls, view: View, form: FormData) -> Composed:
        return cls(
            texts={code: _field(form, f"text_{code}") for code in view.core.i18n.languages},
            group=_field(form, "group") or "everyone",
            language=_field(form, "audience_language"),
            channel=_field(form, "channel"),
            when="later" if _field(form, "when") == "later" else "now",
            at=_field(form, "at"),
            urgent=_field(form, "urgent") == "1",
        )

    @classmethod
    def of(cls, view: View, draft: bc.Broadcast) -> Composed:
        later = draft.send_at is not None
        return cls(
            texts={code: draft.texts.get(code, "") for code in view.core.i18n.languages},
            group=draft.audience.group,
            language=draft.audience.language or "",
            channel=draft.audience.channel or "",
            when="later" if later else "now",
            at=view.local(draft.send_at).strftime(LOCAL_INPUT) if draft.send_at else "",
            urgent=draft.urgent,
        )

    def audience(self, view: View) -> bc.Audience:
        """The chat's own reading of the audience's words (a group, a language, a channel)."""
        words = [word for word in (self.group, self.language, self.channel) if word]
        return bc.Audience.parse(",".join(words), view.core.i18n)

    def send_at(self, view: View) -> datetime | None:
        """None: at once; else the time typed, read in TIMEZONE, which must be to come."""
        if self.when != "later":
            return None
        if not self.at.strip():
            raise bc.BroadcastError("broadcast_console.later_missing")
        try:
            typed = datetime.fromisoformat(self.at.strip())
        except ValueError:
            raise bc.BroadcastError("broadcast_console.later_bad") from None
        when = typed.replace(tzinfo=view.core.settings.tz) if typed.tzinfo is None else typed
        if when <= view.now():
            raise bc.BroadcastError("broadcast_console.later_past")
        return when

    def rough_texts(self, view: View) -> dict[str, str]:
        """The texts as typed, unchecked, the default language's first: for live counts only."""
        languages = view.core.i18n.languages
        texts = {languages[0]: self.texts.get(languages[0], "").strip()}
        texts.update({code: self.texts[code].strip() for code in languages[1:] if self.texts.get(code, "").strip()})
        return texts


# The segment counter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Counter:
    """One text as an SMS: its length, its segments, and which of its characters the SMS replaces."""

    language: str
    name: str
    sms: bc.SmsText
    lines: list[list[tuple[str, str | None]]]  # runs of the typed text: (characters, what the SMS has instead)
    replaced: str  # "ê → e, ’ → '", the chat's own warning
    length: int
    too_long: bool
    limit: int = MAX_BODY

    @property
    def encoding(self) -> str:
        return segments(self.sms.sent).encoding


def counter(view: View, language: str, typed: str) -> Counter:
    """What the live counter shows, from :class:`bc.SmsText` (the preview's own measure of a text)."""
    text = typed.strip()
    sms = bc.SmsText.of(language, text)
    instead = dict(sms.replaced)
    lines: list[list[tuple[str, str | None]]] = []
    for line in text.split("\n"):
        runs: list[tuple[str, str | None]] = []
        for ch in line.rstrip("\r"):
            bad = ch in instead
            if runs and (runs[-1][1] is not None) == bad:
                kept, sent = runs[-1]
                runs[-1] = (kept + ch, None if sent is None else sent + instead[ch])
            else:
                runs.append((ch, instead[ch] if bad else None))
        lines.append(runs)
    return Counter(
        language=language,
        name=view.core.i18n.language_name(language, view.language),
        sms=sms,
        lines=lines,
        replaced=replacements(view.core.i18n, view.language, sms) if sms.replaced else "",
        length=len(text),
        too_long=len(text) > MAX_BODY,
    )


@router.console("broadcast/count", methods=("POST",))
async def count(view: View) -> Response:
    """The counter of one language's text, as it is typed (htmx)."""
    form = await view.form()
    language = _field(form, "language")
    if language not in view.core.i18n.languages:
        return HTMLResponse("", status_code=400)
    found = counter(view, language, _field(form, f"text_{language}"))
    return HTMLResponse(view.fragment("broadcast/counter.html", counter=found, **_helpers(view)))


# The audience's count --------------------------------------------------------------------------


async def _preview(view: View, composed: Composed, texts: dict[str, str], audience: bc.Audience) -> bc.Preview:
    """The chat's preview: counts per channel, who is left out, SMS segments and cost, quiet hours then."""
    settings = view.core.settings
    try:
        at = composed.send_at(view)
    except bc.BroadcastError:
        at = None
    return await bc.preview(
        view.core.store,
        at or view.now(),
        texts,
        audience,
        price=settings.sms_price_per_segment,
        quiet=bc.QuietHours.parse(settings.sms_quiet_hours),
        tz=settings.tz,
        urgent=composed.urgent,
    )


async def _audience_values(view: View, composed: Composed) -> dict[str, Any]:
    try:
        audience = composed.audience(view)
    except bc.BroadcastError as exc:
        return {"found": None, "audience_error": view.t(exc.key, **exc.params)}
    texts = composed.rough_texts(view)
    found = await _preview(view, composed, texts, audience)
    return {
        "found": found,
        "audience_error": None,
        "skipped": skip_reasons(view.core.i18n, view.language, found.skipped),
        "with_text": bool(texts[view.core.i18n.languages[0]]),
    }


@router.console("broadcast/audience", methods=("POST",))
async def audience_count(view: View) -> Response:
    """How many the chosen audience reaches on each channel, now (htmx)."""
    composed = Composed.read(view, await view.form())
    values = await _audience_values(view, composed)
    return HTMLResponse(view.fragment("broadcast/audience.html", **values, **_helpers(view)))


# Composing and the list ------------------------------------------------------------------------


def _choices(view: View) -> dict[str, list[tuple[str, str]]]:
    """The audience's choices, worded as the chat's buttons."""
    i18n = view.core.i18n
    return {
        "groups": [(key, view.t(f"broadcast.audience_{key}")) for key in ("everyone", *bc.GROUP_ROLES)],
        "languages": [("", view.t("broadcast_console.any_language"))]
        + [
            (code, view.t("broadcast.audience_language", language_name=i18n.language_name(code, view.language)))
            for code in i18n.languages
        ],
        "channels": [("", view.t("broadcast_console.any_channel"))]
        + [(channel, view.t(f"broadcast.only_channel_{channel}")) for channel in bc.CHANNELS],
    }


def _status(view: View, b: bc.Broadcast) -> str:
    if b.status == "confirmed" and b.send_at is not None and b.send_at > view.now():
        return view.t("broadcast_console.status_scheduled", when=view.when(b.send_at))
    return view.t(f"broadcast.status_{b.status}")


async def _compose(view: View, composed: Composed, *, error: str | None = None, notice: str | None = None) -> Response:
    i18n = view.core.i18n
    languages = i18n.languages
    store, now = view.core.store, view.now()
    reports = [r for b in await bc.recent(store, LIST_SIZE) if (r := await bc.report(store, now, b.id)) is not None]
    quiet = bc.QuietHours.parse(view.core.settings.sms_quiet_hours)
    return view.render(
        "broadcast/index.html",
        status_code=400 if error else 200,
        composed=composed,
        counters=[counter(view, code, composed.texts.get(code, "")) for code in languages],
        main_name=i18n.language_name(languages[0], view.language),
        choices=_choices(view),
        quiet=str(quiet) if quiet else None,
        zone=get_timezone_location(view.core.settings.tz, locale=view.language, return_city=True),
        earliest=view.local(view.now()).strftime(LOCAL_INPUT),
        reports=reports,
        status=lambda b: _status(view, b),
        excerpt=bc.excerpt,
        error=error,
        notice=notice,
        **await _audience_values(view, composed),
        **_helpers(view),
    )


async def _own_draft(view: View, broadcast_id: int) -> bc.Broadcast | None:
    """A draft this staff member previewed (others' previews are theirs to confirm)."""
    draft = await bc.get(view.core.store, broadcast_id)
    if draft is None or draft.status != "draft" or draft.created_by != view.person_id:
        return None
    return draft


@router.console("broadcast", label="broadcast_console.menu", order=20)
async def index(view: View) -> Response:
    """A new broadcast (or the one previewed, ``?draft=ID``, to change it) and the latest ones."""
    languages = view.core.i18n.languages
    composed = Composed(texts=dict.fromkeys(languages, ""))
    draft_id = view.request.query_params.get("draft", "")
    if draft_id.isdigit() and (draft := await _own_draft(view, int(draft_id))) is not None:
        composed = Composed.of(view, draft)
    notice = view.t("broadcast.abandoned") if view.request.query_params.get("abandoned") else None
    return await _compose(view, composed, notice=notice)


# Preview, then confirm -------------------------------------------------------------------------


@router.console("broadcast/preview", methods=("POST",))
async def preview(view: View) -> Response:
    """The texts and the audience checked as the chat checks them, a draft, and what sending it means."""
    composed = Composed.read(view, await view.form())
    try:
        texts = bc.texts_of(composed.texts, view.core.i18n.languages)
        audience = composed.audience(view)
        send_at = composed.send_at(view)
    except bc.BroadcastError as exc:
        return await _compose(view, composed, error=view.t(exc.key, **exc.params))
    store, settings = view.core.store, view.core.settings
    broadcast_id = await bc.create_draft(
        store,
        view.now(),
        texts,
        audience,
        timezone=settings.timezone,
        created_by=view.person_id,
        urgent=composed.urgent,
        send_at=send_at,
    )
    found = await _preview(view, composed, texts, audience)
    if found.people == 0:
        await bc.discard_draft(store, broadcast_id)
        return await _compose(view, composed, error=view.t("broadcast_console.nobody"))
    lines = bc.render_preview(
        view.core.i18n, view.language, broadcast_id, found, urgent=composed.urgent, tz=settings.tz
    ).split("\n")
    return view.render(
        "broadcast/preview.html",
        id=broadcast_id,
        lines=lines,
        counters=[counter(view, code, text) for code, text in texts.items()],
        send_at=send_at,
        urgent=composed.urgent,
        **_helpers(view),
    )


def _audit_after(draft: bc.Broadcast) -> dict[str, Any]:
    """What the audit keeps of a broadcast: never its texts (a name may be in them; erasure empties those)."""
    return {
        "status": "confirmed",
        "audience": str(draft.audience),
        "languages": list(draft.texts),
        "urgent": draft.urgent,
        "send_at": iso(draft.send_at) if draft.send_at else None,
    }


@router.console("broadcast/{broadcast_id:int}/send", methods=("POST",))
async def send(view: View) -> Response:
    """The confirmation of a preview: the chat's own confirm, with the audit line in its transaction."""
    broadcast_id = int(view.request.path_params["broadcast_id"])
    form = await view.form()
    core = view.core
    draft = await _own_draft(view, broadcast_id)
    if draft is None or _field(form, "confirm") != "1":
        return await _compose(view, Composed(texts={}), error=view.t("broadcast_console.draft_gone"))
    now = view.now()
    if draft.send_at is not None and draft.send_at <= now:
        return await _compose(view, Composed.of(view, draft), error=view.t("broadcast_console.later_past"))
    quiet = bc.QuietHours.parse(core.settings.sms_quiet_hours)
    async with core.store.transaction() as db:
        confirmed = await bc.confirm_in(db, now, broadcast_id, quiet=quiet)
        if confirmed:
            action = "broadcast.schedule" if draft.send_at else "broadcast.send"
            await audit.record(
                db, now, view.person_id, action, f"broadcast:{broadcast_id}", {"status": "draft"}, _audit_after(draft)
            )
    if not confirmed:
        return await _compose(view, Composed(texts={}), error=view.t("broadcast.already", id=broadcast_id))
    if draft.send_at is None:
        await bc.expand(core.store, core.clock, broadcast_id, budget=EXPAND_BUDGET)
        core.outbox.wake()
    return view.redirect(f"{PATH}/{broadcast_id}?confirmed=1")


@router.console("broadcast/{broadcast_id:int}/discard", methods=("POST",))
async def discard(view: View) -> Response:
    """No to a preview: the draft goes, as NON in the chat; nothing was ever queued."""
    broadcast_id = int(view.request.path_params["broadcast_id"])
    if await _own_draft(view, broadcast_id) is not None:
        await bc.discard_draft(view.core.store, broadcast_id)
    return view.redirect(f"{PATH}?abandoned=1")


# Following, the report, cancelling -------------------------------------------------------------


def _scheduled(view: View, b: bc.Broadcast) -> bool:
    return b.status == "confirmed" and b.send_at is not None and b.send_at > view.now()


async def _progress_values(view: View, report: bc.Report) -> dict[str, Any]:
    b = report.broadcast
    scheduled = _scheduled(view, b)
    channels = [
        (view.t(f"broadcast.channel_{channel}"), report.sent_by_channel.get(channel, 0), total)
        for channel, total in sorted(report.by_channel.items(), key=lambda item: bc.CHANNELS.index(item[0]))
    ]
    return {
        "report": report,
        "b": b,
        "scheduled": scheduled,
        "active": b.status in bc.ACTIVE,
        "poll": None if report.finished else (POLL_SCHEDULED_SECONDS if scheduled else POLL_SECONDS),
        "channels": channels,
        "lines": bc.render_report(view.core.i18n, view.language, report, view.now(), texts=False).split("\n"),
        **_helpers(view),
    }


async def _report_or_404(view: View) -> bc.Report | Response:
    broadcast_id = int(view.request.path_params["broadcast_id"])
    found = await bc.report(view.core.store, view.now(), broadcast_id)
    if found is None or found.broadcast.status == "draft":
        message = view.t("broadcast_console.not_found", id=broadcast_id)
        return view.render("error.html", status_code=404, message=message)
    return found


@router.console("broadcast/{broadcast_id:int}")
async def show(view: View) -> Response:
    """One broadcast: its texts, who it is for, its live progress, then its final report."""
    found = await _report_or_404(view)
    if isinstance(found, Response):
        return found
    b = found.broadcast
    notice = None
    query = view.request.query_params
    if query.get("confirmed"):
        notice = (
            view.t("broadcast_console.scheduled_done", id=b.id, when=view.when(b.send_at))
            if b.send_at
            else view.t("broadcast.confirmed", id=b.id)
        )
    elif (stopped := query.get("stopped", "")).isdigit():
        notice = view.core.i18n.plural(
            view.language, "broadcast.cancel_done", int(stopped), id=b.id, stopped=_number(view, int(stopped))
        )
    i18n = view.core.i18n
    return view.render(
        "broadcast/show.html",
        audience=b.audience.describe(i18n, view.language),
        texts=[(i18n.language_name(code, view.language), text.split("\n")) for code, text in b.texts.items()],
        status=_status(view, b),
        notice=notice,
        **await _progress_values(view, found),
    )


@router.console("broadcast/{broadcast_id:int}/progress")
async def progress(view: View) -> Response:
    """Sent and total per channel, polled while it goes; once finished, the final report (htmx)."""
    found = await _report_or_404(view)
    if isinstance(found, Response):
        return found
    return HTMLResponse(view.fragment("broadcast/progress.html", **await _progress_values(view, found)))


@router.console("broadcast/{broadcast_id:int}/cancel", methods=("POST",))
async def cancel(view: View) -> Response:
    """Stopping cannot be undone: the first POST says what will not be sent, ``confirm=1`` stops it."""
    found = await _report_or_404(view)
    if isinstance(found, Response):
        return found
    b = found.broadcast
    if b.status in bc.FINISHED:
        message = view.t("broadcast.cancel_already", id=b.id, status=view.t(f"broadcast.status_{b.status}"))
        return view.render("error.html", status_code=400, message=message)
    form = await view.form()
    if _field(form, "confirm") != "1":
        if _scheduled(view, b):
            question = view.t("broadcast_console.cancel_scheduled", id=b.id, when=view.when(b.send_at))
        else:
            question = view.core.i18n.plural(
                view.language,
                "broadcast.confirm_cancel",
                found.waiting,
                id=b.id,
                waiting=_number(view, found.waiting),
                sent=_number(view, found.sent),
            )
        return view.render("broadcast/cancel.html", b=b, question=question)
    now = view.now()
    async with view.core.store.transaction() as db:
        stopped, already, exists = await bc.cancel_in(db, now, b.id, by=view.person_id)
        if exists and not already:
            await audit.record(
                db,
                now,
                view.person_id,
                "broadcast.cancel",
                f"broadcast:{b.id}",
                {"status": b.status, "sent": found.sent, "waiting": found.waiting},
                {"status": "cancelled", "stopped": stopped},
            )
    if already or not exists:
        current = await bc.get(view.core.store, b.id)
        status = view.t(f"broadcast.status_{current.status}") if current else ""
        return view.render(
            "error.html", status_code=400, message=view.t("broadcast.cancel_already", id=b.id, status=status)
        )
    return view.redirect(f"{PATH}/{b.id}?stopped={stopped}")
