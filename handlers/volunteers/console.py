"""The console's Volunteers page: the sign-ups, and the meeting calendar with who will be told of a change.

A calendar change is the chat's and the command line's: ``staff.make``, ``staff.check`` and
``staff.effects`` first (nothing stays written; the page shows ``staff.preview`` and, by name, the
volunteers it will tell), then, confirmed, ``staff.apply`` in one transaction with the notices it
queues and the audit line. Dates are read as the chat reads them (2026-12-16, 16/12/2026). The Today
page gets the week's new sign-ups and the next meeting; a person's page their sign-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from starlette.responses import Response

from bot.clock import iso
from bot.web import audit
from bot.web.view import View
from handlers.volunteers import STAFF_LIST_MEETINGS, calendar, chat_day, router, signups, staff, texts
from handlers.volunteers.calendar import CalendarError, Meeting

router.console_templates = Path(__file__).parent / "templates"
PAGE = "/console/volunteers"
NEW_SIGNUPS = timedelta(days=7)  # what the Today page calls a new sign-up
FIELDS = ("day", "new_day", "hours", "reason")
MAX_FIELD = 200  # a form's field, before the calendar's own limits (a reason keeps 160)
_COLUMN = {"sms": "phone", "telegram": "telegram"}  # the columns of ``signups.listing`` per channel


# --- What the page shows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupRow:
    person_id: int
    name: str
    code: str
    activities: str
    availability: str
    signed_up: str
    channels: list[str]
    consent: bool
    reminders: bool


@dataclass(frozen=True)
class MeetingRow:
    iso_day: str
    day: str
    hours: str
    live: bool
    what: str  # the change as volunteers read it, or what is unusual about the date
    changeable: bool  # still to come: it can be cancelled or moved


def _count(view: View, key: str, n: int, **params: object) -> str:
    """A text for ``n`` things in the staff member's language: "1 bénévole", "2 bénévoles"."""
    return view.core.i18n.plural(view.language, key, n, count=format_decimal(n, locale=view.language), **params)


def _plural(view: View) -> Any:
    """``plural(key, n)`` in templates."""
    return lambda key, n, **params: _count(view, key, n, **params)


def _signup_row(view: View, signup: signups.Signup, row: Any) -> SignupRow:
    channels = [view.t(f"volunteers_console.channel_{c}") for c, column in _COLUMN.items() if row[column]]
    return SignupRow(
        person_id=signup.person_id,
        name=signup.name,
        code=row["member_code"] or view.t("volunteers.guest"),
        activities=signups.activity_labels(view.core.i18n, view.language, signup.activities),
        availability=signup.availability,
        signed_up=view.when(datetime.fromisoformat(signup.created_at)),
        channels=channels,
        consent=signup.consent,
        reminders=signup.gets_reminders,
    )


def _meeting_row(view: View, meeting: Meeting) -> MeetingRow:
    i18n, language = view.core.i18n, view.language
    what = texts.change(i18n, language, meeting) if meeting.cancelled else texts.note(i18n, language, meeting)
    return MeetingRow(
        iso_day=meeting.day.isoformat(),
        day=view.day(meeting.day),
        hours=texts.hours_text(i18n, language, meeting),
        live=meeting.live,
        what=what.strip(),
        changeable=meeting.live and meeting.starts > view.now(),
    )


async def _page(view: View, status_code: int = 200, **values: Any) -> Response:
    tz = view.core.settings.tz
    async with view.core.store.transaction() as db:
        found = await signups.listing(db)
        ref = await calendar.reference(db)
        meetings = await calendar.coming(db, tz, view.now(), STAFF_LIST_MEETINGS)
        told = await staff.recipient_names(db)
    prefill = view.request.query_params.get("day", "")[:10]
    done = view.request.query_params.get("done", "")
    notice = None
    if done in staff.OPS:
        told_count = view.request.query_params.get("told", "")
        notice = _count(view, f"volunteers_console.done_{done}", int(told_count) if told_count.isdigit() else 0)
    return view.render(
        "volunteers/index.html",
        status_code=status_code,
        signups=[_signup_row(view, s, row) for s, row in reversed(found)],
        rule=texts.rule(view.core.i18n, view.language),
        reference=view.day(ref) if ref else None,
        meetings=[_meeting_row(view, m) for m in meetings],
        told=told,
        prefill=prefill,
        notice=notice,
        plural=_plural(view),
        **{"typed": {}, "op": "", "preview": None, "error": None, **values},
    )


@router.console("volunteers", label="volunteers_console.menu", order=50)
async def index(view: View) -> Response:
    return await _page(view)


# --- A calendar change: read, preview, confirm --------------------------------------------------------


def _change(view: View, op: str, typed: dict[str, str]) -> staff.Change:
    """The form's fields as the chat reads a command's words: dates as staff type them, hours, a reason."""
    today = view.local(view.now()).date()
    if not typed["day"]:
        raise CalendarError("volunteers_console.day_needed")
    day = chat_day(typed["day"], today)
    new_day = None
    if op == "move":
        if not typed["new_day"]:
            raise CalendarError("volunteers_console.new_day_needed")
        new_day = chat_day(typed["new_day"], today)
    hours = calendar.parse_hours(typed["hours"]) if op in ("move", "add") and typed["hours"] else None
    return staff.make(op, day, new_day=new_day, hours=hours, reason=typed["reason"] or None)


def _before(meeting: Meeting | None) -> dict[str, Any] | None:
    if meeting is None:
        return None
    return {"day": meeting.day, "starts": meeting.starts.strftime("%H:%M"), "ends": meeting.ends.strftime("%H:%M")}


@router.console("volunteers/calendar", methods=("POST",))
async def change_calendar(view: View) -> Response:
    """Set the reference, cancel, move or add a date: shown with who will be told, done when confirmed."""
    form = await view.form()
    op = str(form.get("op") or "")
    if op not in staff.OPS:
        return await _page(view, 400, error=view.t("volunteers_console.bad_op"))
    typed = {name: str(form.get(name) or "").strip()[:MAX_FIELD] for name in FIELDS}
    tz = view.core.settings.tz
    try:
        change = _change(view, op, typed)
        if form.get("confirm") != "1":
            async with view.core.store.transaction() as db:
                await staff.check(db, tz, view.now(), change)
                effects = await staff.effects(db, tz, view.now(), change)
                told = await staff.recipient_names(db) if effects.told else []
            text = staff.preview(view.core.i18n, view.language, tz, change, effects.told, effects.dropped)
            return await _page(view, typed=typed, op=op, preview={"text": text, "told": told})
        async with view.core.store.transaction() as db:
            meeting = await staff.check(db, tz, view.now(), change)
            effects = await staff.effects(db, tz, view.now(), change)
            told = await staff.recipient_names(db)
            ref = await calendar.reference(db)
            changed, notified = await staff.apply(db, tz, view.now(), view.core.i18n, change, view.person_id)
            reached = [person_id for person_id, _ in told] if notified else []
            after = {**change.as_data(), "told": reached}
            before: Any = _before(meeting)
            if op == "reference":
                before = {"day": ref, "dropped": [m.key for m in effects.dropped]}
            target = "meeting:reference" if changed is None else f"meeting:{(meeting or changed).key}"
            await audit.record(db, view.now(), view.person_id, f"volunteers.{op}", target, before, after)
    except CalendarError as exc:
        error = texts.error_text(view.core.i18n, view.language, exc)
        return await _page(view, 400, typed=typed, op=op, error=error)
    if notified:
        view.core.outbox.wake()
    return view.redirect(f"{PAGE}?done={op}&told={len(reached)}")


# --- Today, and a person's page -------------------------------------------------------------------------


@router.today(order=45)
async def today_panel(view: View) -> str | None:
    """The week's new sign-ups, and the next meeting with how many volunteers its reminder reaches."""
    since = iso(view.now() - NEW_SIGNUPS)
    async with view.core.store.transaction() as db:
        found = await signups.listing(db)
        meetings = await calendar.coming(db, view.core.settings.tz, view.now(), 1)
        count = await staff.recipients(db)
    new = [_signup_row(view, s, row) for s, row in reversed(found) if s.created_at >= since]
    live = next((m for m in meetings if m.live), None)
    if not new and live is None:
        return None
    return view.fragment(
        "volunteers/panel.html",
        new=new,
        next=None if live is None else texts.when(view.core.i18n, view.language, live),
        count=count,
        plural=_plural(view),
    )


@router.person_section(order=50)
async def person_section(view: View, person_id: int) -> str | None:
    """The person's volunteer sign-up, as they gave it; nothing when they have none."""
    async with view.core.store.transaction() as db:
        signup = await signups.get(db, person_id)
    if signup is None:
        return None
    return view.fragment(
        "volunteers/person.html",
        signup=signup,
        activities=signups.activity_labels(view.core.i18n, view.language, signup.activities),
        signed_up=view.when(datetime.fromisoformat(signup.created_at)),
    )
