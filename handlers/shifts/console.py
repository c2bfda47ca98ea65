"""The shifts feature's pages of the staff console: the week, one shift, contracts, templates, hours.

Every change goes through the feature's own functions (:mod:`.model`, :mod:`.templates`,
:mod:`.reports`: those the chat's /affecter and ``voisins shifts`` call), in one transaction with its
audit line. What tells a worker (assigning, taking off, moving, cancelling) and a week's generation
are shown first: the operation runs in a savepoint that is rolled back, so the page shows the rules'
refusal, or exactly the messages that would leave; the same form posted again with ``confirm=1``
does it. What tells nobody and is corrected by doing it again (a new shift, attendance, contract
hours, a template) is written at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
from babel.dates import format_date, get_day_names
from starlette.datastructures import FormData
from starlette.responses import Response

from bot import people
from bot.text import format_minutes
from bot.web import audit
from bot.web.view import View
from handlers.shifts import model, reminders, reports, templates
from handlers.shifts.model import MAX_WEEKLY_MINUTES, Shift, ShiftError
from handlers.shifts.router import router
from handlers.shifts.staff import trial

router.console_templates = Path(__file__).parent / "templates"

BASE = "/console/shifts"
# What a redirect after a change says on the page it lands on (?done=...).
DONE = frozenset(
    {
        "created", "exists", "assigned", "unassigned", "changed", "cancelled", "marked", "contract",
        "template", "template_removed", "generated", "activity", "place",
    }
)  # fmt: skip


# --- Reading the forms ---------------------------------------------------------------------------


def _text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _id(text: str, key: str) -> int:
    """A number the page put in a form (a worker, an assignment); anything else is refused with ``key``."""
    if not text.isdecimal() or len(text) > 12:
        raise ShiftError(key)
    return int(text)


def _capacity(text: str) -> int:
    if not text.isdecimal() or len(text) > 4:
        raise ShiftError("shifts.error.capacity", capacity=text[:10])
    return int(text)


def _shift_id(view: View) -> int:
    return int(view.request.path_params["shift_id"])


def _fields(form: FormData) -> list[tuple[str, str]]:
    """What the confirmation form posts again: the same fields, without the token (the page adds it)."""
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str) and name != "csrf"]


# --- Doing a change ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A message a change queues, as its recipient will read it."""

    name: str
    code: str
    channel: str
    body: str


async def _last_outbox_id(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _queued_after(db: aiosqlite.Connection, last: int) -> list[Outgoing]:
    async with db.execute(
        "SELECT COALESCE(p.name, ''), COALESCE(p.member_code, ''), o.channel, o.body FROM outbox o"
        " LEFT JOIN persons p ON p.id = o.person_id WHERE o.id > ? ORDER BY o.id",
        (last,),
    ) as cursor:
        return [Outgoing(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in await cursor.fetchall()]


@asynccontextmanager
async def _rehearsal(db: aiosqlite.Connection) -> AsyncIterator[list[Outgoing]]:
    """Run the operation for a preview and undo it (the chat's own savepoint): the list gets what it
    would have sent."""
    sent: list[Outgoing] = []
    async with trial(db):
        last = await _last_outbox_id(db)
        yield sent
        sent.extend(await _queued_after(db, last))


@dataclass
class Change:
    """What one operation did: the audit line's target, before and after, the lines a preview shows,
    and the page that shows the result."""

    target: str
    before: Any
    after: Any
    page: str
    done: str
    lines: list[str] = field(default_factory=list)


Run = Callable[[aiosqlite.Connection], Awaitable[Change]]
Failed = Callable[[ShiftError], Awaitable[Response]]


async def _commit(view: View, action: str, run: Run, failed: Failed, *, ask: str | None = None) -> Response:
    """Do ``run`` with its audit line in one transaction. With ``ask`` (the preview's title) and no
    ``confirm=1`` in the form, rehearse it instead and show what it would do. A rule's refusal writes
    nothing and is shown by ``failed``."""
    form = await view.form()
    try:
        async with view.core.store.transaction() as db:
            if ask is not None and form.get("confirm") != "1":
                async with _rehearsal(db) as sent:
                    change = await run(db)
                return view.render(
                    "shifts/confirm.html",
                    title=ask,
                    lines=change.lines,
                    sent=sent,
                    action=view.request.url.path,
                    fields=_fields(form),
                    back=change.page,
                )
            change = await run(db)
            if change.before != change.after:
                await audit.record(db, view.now(), view.person_id, action, change.target, change.before, change.after)
    except ShiftError as error:
        return await failed(error)
    view.core.outbox.wake()
    return view.redirect(f"{change.page}?done={change.done}")


def _said(view: View, error: ShiftError) -> str:
    return error.text(view.core.i18n, view.language)


def _counted(view: View, key: str, count: int) -> str:
    return model.counted(view.core.i18n, view.language, key, count)


def _snapshot(shift: Shift) -> dict[str, object]:
    """A shift as the audit log keeps it."""
    return {
        "date": shift.local_date.isoformat(),
        "start": shift.start_local.strftime("%H:%M"),
        "end": shift.end_local.strftime("%H:%M"),
        "activity": shift.activity,
        "place": shift.place,
        "capacity": shift.capacity,
        "status": shift.status,
        "reason": shift.reason,
    }


def _who(name: str | None, code: str | None) -> str:
    return f"{name or '?'} ({code or '?'})"


async def _shift(db: aiosqlite.Connection, shift_id: int) -> Shift:
    shift = await model.get_shift(db, shift_id)
    if shift is None:
        raise ShiftError("shifts.error.no_shift", id=shift_id)
    return shift


# --- The cap ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapCheck:
    """A worker's week around one shift, read with the functions :func:`model.check_fits` uses: what is
    planned already (this shift left out), the shift, the contract of that week and the 16 h."""

    planned: int
    shift: int
    contract: int | None

    @property
    def total(self) -> int:
        return self.planned + self.shift

    def values(self) -> dict[str, str]:
        return {
            "planned": format_minutes(self.planned),
            "shift": format_minutes(self.shift),
            "total": format_minutes(self.total),
            "contract": format_minutes(self.contract) if self.contract is not None else "-",
            "cap": format_minutes(MAX_WEEKLY_MINUTES),
        }


async def cap_check(db: aiosqlite.Connection, person_id: int, shift: Shift) -> CapCheck:
    planned = await model.planned_minutes(db, person_id, shift.local_date, exclude_shift=shift.id)
    return CapCheck(planned, shift.minutes, await model.contract_minutes_on(db, person_id, shift.local_date))


def _refusal_figures(view: View, error: ShiftError, check: CapCheck | None) -> str | None:
    """ "12 h prévues + 6 h = 18 h > 16 h": the sum behind a refusal of the cap or of the contract."""
    if check is None:
        return None
    if error.key == "shifts.error.over_cap":
        return view.t("shifts_console.figures_cap", **check.values())
    if error.key == "shifts.error.over_contract":
        return view.t("shifts_console.figures_contract", **check.values())
    return None


async def _workers(db: aiosqlite.Connection) -> list[people.Person]:
    """The active Premières Heures workers, by name."""
    async with db.execute(
        "SELECT p.id FROM persons p JOIN person_roles r ON r.person_id = p.id"
        " WHERE r.role = 'worker' AND p.status = 'active' ORDER BY p.name, p.id"
    ) as cursor:
        ids = [int(row[0]) for row in await cursor.fetchall()]
    return await people.get_people(db, ids)


# --- The week ------------------------------------------------------------------------------------


def _week(view: View, text: str) -> date:
    """The Monday of the week asked for ("2026-12-09", "09/12/2026", "2026-W50"), else this week's."""
    if text:
        return reports.parse_week_or_day(text)
    return model.week_of(view.now().astimezone(view.core.settings.tz).date())[0]


def _day_heads(view: View, monday: date) -> list[tuple[date, str]]:
    return [(d, format_date(d, "EEE d MMM", locale=view.language)) for d in (monday + timedelta(n) for n in range(7))]


async def _week_page(
    view: View, week: str, status: int = 200, error: str | None = None, typed: dict[str, str] | None = None
) -> Response:
    try:
        monday = _week(view, week)
    except ShiftError as refused:
        error, status, monday = _said(view, refused), 400, _week(view, "")
    async with view.core.store.transaction() as db:
        entries = await reports.roster(db, monday, monday + timedelta(days=7))
        activities = await reports.list_named(db, "activity")
        places = await reports.list_named(db, "place")
    rows: dict[str, list[list[reports.RosterShift]]] = {}
    for entry in entries:
        cells = rows.setdefault(entry.shift.activity, [[] for _ in range(7)])
        cells[entry.shift.local_date.weekday()].append(entry)
    today = view.now().astimezone(view.core.settings.tz).date()
    return _page(
        view,
        "shifts/week.html",
        status,
        error=error,
        title=view.t("shifts_console.week_title", monday=model.long_date(monday, view.language)),
        week=reports.week_label(monday),
        monday=monday,
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
        days=_day_heads(view, monday),
        today=today,
        rows=sorted(rows.items(), key=lambda item: item[0].casefold()),
        activities=[name for _, name in activities],
        places=[name for _, name in places],
        typed=typed or {"day": max(today, monday).isoformat(), "capacity": "1"},
    )


def _page(view: View, template: str, status: int = 200, **values: Any) -> Response:
    """A page of the feature: its notice after a change (``?done=``), an error, the sub-menu."""
    done = view.request.query_params.get("done", "")
    values.setdefault("error", None)
    values.setdefault("figures", None)
    notice = view.t(f"shifts_console.done.{done}") if done in DONE and status == 200 else None
    return view.render(template, status_code=status, notice=notice, base=BASE, **values)


@router.console("shifts", label="shifts_console.menu", order=30)
async def week_page(view: View) -> Response:
    """The week's shifts by activity and day, the week before and after, and a new shift."""
    return await _week_page(view, view.request.query_params.get("week", "")[:20])


@router.console("shifts/create", methods=("POST",))
async def create(view: View) -> Response:
    """A new shift, coordinated by whoever made it (as in the chat); only known activities and places."""
    form = await view.form()
    typed = {name: _text(form, name, 60) for name in ("day", "start", "end", "activity", "place", "capacity")}

    async def run(db: aiosqlite.Connection) -> Change:
        day = model.parse_day(typed["day"])
        start, end = model.parse_clock(typed["start"]), model.parse_clock(typed["end"])
        activity_id, _ = await reports.known_named(db, "activity", typed["activity"], "shifts_console.new_activity")
        place_id, _ = await reports.known_named(db, "place", typed["place"], "shifts_console.new_place")
        shift, created = await model.create_shift(
            db, view.now(), view.core.settings.tz, activity_id=activity_id, place_id=place_id, day=day, start=start,
            end=end, capacity=_capacity(typed["capacity"] or "1"), coordinator_id=view.person_id,
        )  # fmt: skip
        after = _snapshot(shift)
        page = f"{BASE}/shift/{shift.id}"
        return Change(f"shift:{shift.id}", None if created else after, after, page, "created" if created else "exists")

    async def failed(error: ShiftError) -> Response:
        return await _week_page(view, typed["day"], 400, _said(view, error), typed)

    return await _commit(view, "shifts.create", run, failed)


# --- One shift -----------------------------------------------------------------------------------


async def _shift_page(
    view: View, shift_id: int, status: int = 200, error: str | None = None, figures: str | None = None
) -> Response:
    async with view.core.store.transaction() as db:
        shift = await model.get_shift(db, shift_id)
        if shift is None:
            return _page(view, "shifts/missing.html", 404, error=view.t("shifts.error.no_shift", id=shift_id))
        everyone = await model.assignments_of(db, shift_id)
        on_it = {a.person_id for a in everyone if a.live}
        workers = [(w, await cap_check(db, w.id, shift)) for w in await _workers(db) if w.id not in on_it]
        places = [name for _, name in await reports.list_named(db, "place")]
    now = view.now()
    return _page(
        view,
        "shifts/shift.html",
        status,
        error=error,
        figures=figures,
        shift=shift,
        heading=view.t("shifts_console.shift_title", id=shift.id, shift=model.describe(shift, view.language)),
        week=shift.local_date.isoformat(),
        live=[a for a in everyone if a.live],
        released=[a for a in everyone if not a.live],
        workers=workers,
        places=places,
        started=shift.starts_at <= now,
        ahead=shift.starts_at > now,
        seats=_counted(view, "shifts.staff.seats", shift.capacity),
    )


@router.console("shifts/shift/{shift_id:int}")
async def shift_page(view: View) -> Response:
    """One shift: who is on it and what they answered, assign with the week's hours, change, cancel,
    attendance once it started."""
    return await _shift_page(view, _shift_id(view))


# What an operation on one shift does inside the transaction, given the shift and the form: the audit
# line's before and after, and the lines its preview shows.
ShiftWork = Callable[[aiosqlite.Connection, Shift, FormData], Awaitable[tuple[Any, Any, list[str]]]]


async def _on_shift(
    view: View,
    action: str,
    done: str,
    work: ShiftWork,
    *,
    ask: str | None = None,
    checked: list[CapCheck] | None = None,
) -> Response:
    """An operation posted from a shift's page; a refusal is shown on that page (with the cap's sum
    when ``work`` put the worker's week in ``checked``)."""
    shift_id = _shift_id(view)
    form = await view.form()

    async def run(db: aiosqlite.Connection) -> Change:
        before, after, lines = await work(db, await _shift(db, shift_id), form)
        return Change(f"shift:{shift_id}", before, after, f"{BASE}/shift/{shift_id}", done, lines)

    async def failed(error: ShiftError) -> Response:
        figures = _refusal_figures(view, error, checked[0] if checked else None)
        return await _shift_page(view, shift_id, 400, _said(view, error), figures)

    return await _commit(view, action, run, failed, ask=view.t(ask) if ask else None)


def _about(view: View, shift: Shift) -> str:
    return view.t("shifts_console.shift_title", id=shift.id, shift=model.describe(shift, view.language))


@router.console("shifts/shift/{shift_id:int}/assign", methods=("POST",))
async def assign(view: View) -> Response:
    """Put a worker on the shift: their week is shown against the contract and the 16 h, the rules
    (the same ``model.assign`` as /affecter) refuse with the sum, and they are told once confirmed."""
    checked: list[CapCheck] = []

    async def work(db: aiosqlite.Connection, shift: Shift, form: FormData) -> tuple[Any, Any, list[str]]:
        person_id = _id(_text(form, "person"), "shifts_console.pick_worker")
        check = await cap_check(db, person_id, shift)
        checked.append(check)
        done = await model.assign(db, view.now(), view.core.i18n, shift.id, person_id, actor_id=view.person_id)
        lines = [
            view.t("shifts_console.assign_line", who=_who(done.name, done.member_code), shift=_about(view, shift)),
            view.t("shifts_console.figures_fit", **check.values()),
        ]
        return None, {"person_id": person_id, "member_code": done.member_code, "assignment": done.id}, lines

    return await _on_shift(view, "shifts.assign", "assigned", work, ask="shifts_console.assign_ask", checked=checked)


@router.console("shifts/shift/{shift_id:int}/unassign", methods=("POST",))
async def unassign(view: View) -> Response:
    """Take a worker off the shift (the chat's /retirer): they are told their seat is gone."""

    async def work(db: aiosqlite.Connection, shift: Shift, form: FormData) -> tuple[Any, Any, list[str]]:
        assignment = await model.get_assignment(db, _id(_text(form, "assignment"), "shifts.error.not_assigned"))
        if assignment is None or assignment.shift_id != shift.id:
            raise ShiftError("shifts.error.not_assigned")
        released = await model.release(db, view.now(), view.core.i18n, assignment.id, "unassigned")
        line = view.t("shifts_console.unassign_line", who=_who(released.name, released.member_code))
        before = {"person_id": assignment.person_id, "status": assignment.status}
        return before, {"person_id": released.person_id, "status": released.status}, [line, _about(view, shift)]

    return await _on_shift(view, "shifts.unassign", "unassigned", work, ask="shifts_console.unassign_ask")


@router.console("shifts/shift/{shift_id:int}/change", methods=("POST",))
async def change(view: View) -> Response:
    """Move or resize the shift (the chat's /modifier): each worker on it must still fit, and is told."""

    async def work(db: aiosqlite.Connection, before: Shift, form: FormData) -> tuple[Any, Any, list[str]]:
        typed = {name: _text(form, name, 60) for name in ("day", "start", "end", "place", "capacity")}
        place = typed["place"]
        after = await model.change_shift(
            db, view.now(), view.core.i18n, view.core.settings.tz, before.id,
            day=model.parse_day(typed["day"]) if typed["day"] else None,
            start=model.parse_clock(typed["start"]) if typed["start"] else None,
            end=model.parse_clock(typed["end"]) if typed["end"] else None,
            place_id=(await reports.known_named(db, "place", place, "shifts_console.new_place"))[0] if place else None,
            capacity=_capacity(typed["capacity"]) if typed["capacity"] else None,
            reason=_text(form, "reason") or None,
        )  # fmt: skip
        lines = [
            view.t("shifts_console.change_before", shift=model.describe(before, view.language)),
            view.t("shifts_console.change_after", shift=model.describe(after, view.language)),
            _counted(view, "shifts.staff.seats", after.capacity),
        ]
        return _snapshot(before), _snapshot(after), lines

    return await _on_shift(view, "shifts.change", "changed", work, ask="shifts_console.change_ask")


@router.console("shifts/shift/{shift_id:int}/cancel", methods=("POST",))
async def cancel(view: View) -> Response:
    """Cancel the shift (the chat's /annuler_creneau): a reason is needed, the workers on it are told."""

    async def work(db: aiosqlite.Connection, before: Shift, form: FormData) -> tuple[Any, Any, list[str]]:
        reason = _text(form, "reason")
        if not reason:
            raise ShiftError("shifts_console.reason_needed")
        after = await model.cancel_shift(db, view.now(), view.core.i18n, before.id, reason)
        lines = [_about(view, before), view.t("shifts_console.cancel_reason", reason=reason)]
        return _snapshot(before), _snapshot(after), lines

    return await _on_shift(view, "shifts.cancel", "cancelled", work, ask="shifts_console.cancel_ask")


@router.console("shifts/shift/{shift_id:int}/attendance", methods=("POST",))
async def attendance(view: View) -> Response:
    """Who came, once the shift started (the payroll's hours); marking again corrects a mark."""

    async def work(db: aiosqlite.Connection, shift: Shift, form: FormData) -> tuple[Any, Any, list[str]]:
        before: dict[str, str | None] = {}
        after: dict[str, str | None] = {}
        for assignment in await model.assignments_of(db, shift.id, live_only=True):
            mark = _text(form, f"mark_{assignment.id}")
            if mark not in ("present", "absent") or mark == assignment.attendance:
                continue
            marked = await model.mark_attendance(db, view.now(), assignment.id, mark == "present")
            who = assignment.member_code or str(assignment.person_id)
            before[who], after[who] = assignment.attendance, marked.attendance
        if not after:
            raise ShiftError("shifts_console.nothing_marked")
        return before, after, []

    return await _on_shift(view, "shifts.attendance", "marked", work)


# --- Contracts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerWeek:
    person: people.Person
    contract: int | None
    planned: int
    history: list[tuple[date, int]]


async def _contracts_page(view: View, status: int = 200, error: str | None = None) -> Response:
    today = view.now().astimezone(view.core.settings.tz).date()
    async with view.core.store.transaction() as db:
        rows = [
            WorkerWeek(
                worker,
                await model.contract_minutes_on(db, worker.id, today),
                await model.planned_minutes(db, worker.id, today),
                await model.contract_history(db, worker.id),
            )
            for worker in await _workers(db)
        ]
    return _page(
        view,
        "shifts/contracts.html",
        status,
        error=error,
        rows=rows,
        hours=format_minutes,
        cap=format_minutes(MAX_WEEKLY_MINUTES),
        monday=model.week_of(today)[0].isoformat(),
    )


@router.console("shifts/contracts")
async def contracts_page(view: View) -> Response:
    """Each worker's contract hours a week (with their history) and this week's planned hours."""
    return await _contracts_page(view)


@router.console("shifts/contracts/set", methods=("POST",))
async def set_contract(view: View) -> Response:
    """Contract hours from a date on (``voisins shifts contract``); only a worker has them."""
    form = await view.form()

    async def run(db: aiosqlite.Connection) -> Change:
        person_id = _id(_text(form, "person"), "shifts_console.pick_worker")
        minutes = reports.parse_hours(_text(form, "hours", 20))
        valid_from = model.parse_day(_text(form, "valid_from", 20))
        before = await model.contract_minutes_on(db, person_id, valid_from)
        await model.set_contract(db, view.now(), person_id, minutes, valid_from)
        after = {"from": valid_from.isoformat(), "weekly_minutes": minutes}
        was = None if before is None else {"from": valid_from.isoformat(), "weekly_minutes": before}
        return Change(f"person:{person_id}", was, after, f"{BASE}/contracts", "contract")

    async def failed(error: ShiftError) -> Response:
        return await _contracts_page(view, 400, _said(view, error))

    return await _commit(view, "shifts.contract", run, failed)


# --- Templates, generation, activities and places -------------------------------------------------


async def _templates_page(view: View, status: int = 200, error: str | None = None) -> Response:
    async with view.core.store.transaction() as db:
        found = await templates.list_templates(db)
        activities = await reports.list_named(db, "activity")
        places = await reports.list_named(db, "place")
    today = view.now().astimezone(view.core.settings.tz).date()
    names = get_day_names("wide", locale=view.language)
    return _page(
        view,
        "shifts/templates.html",
        status,
        error=error,
        found=[(t, templates.weekday_names(t.weekdays, view.language)) for t in found],
        seats=lambda n: _counted(view, "shifts.staff.seats", n),
        weekdays=[(number, names[number - 1]) for number in range(1, 8)],
        activities=[name for _, name in activities],
        places=[name for _, name in places],
        next_monday=(model.week_of(today)[0] + timedelta(days=7)).isoformat(),
    )


@router.console("shifts/templates")
async def templates_page(view: View) -> Response:
    """The weekly patterns, a new one, a week made from them, and the lists of activities and places."""
    return await _templates_page(view)


def _on_templates_page(view: View) -> Failed:
    async def failed(error: ShiftError) -> Response:
        return await _templates_page(view, 400, _said(view, error))

    return failed


@router.console("shifts/templates/add", methods=("POST",))
async def add_template(view: View) -> Response:
    """A weekly pattern (the chat's /modele); the same pattern again only updates its seats."""
    form = await view.form()

    async def run(db: aiosqlite.Connection) -> Change:
        days = [value for value in form.getlist("weekdays") if isinstance(value, str)]
        if not days:
            raise ShiftError("shifts_console.pick_days")
        weekdays = templates.parse_weekdays(",".join(days)[:40], view.core.i18n)
        activity_id, _ = await reports.known_named(
            db, "activity", _text(form, "activity"), "shifts_console.new_activity"
        )
        place_id, _ = await reports.known_named(db, "place", _text(form, "place"), "shifts_console.new_place")
        made = await templates.add_template(
            db, view.now(), activity_id=activity_id, place_id=place_id, weekdays=weekdays,
            start=model.parse_clock(_text(form, "start", 20)), end=model.parse_clock(_text(form, "end", 20)),
            capacity=_capacity(_text(form, "capacity", 10) or "1"), coordinator_id=view.person_id,
            on_holidays=form.get("on_holidays") == "1",
        )  # fmt: skip
        after = {
            "weekdays": list(made.weekdays),
            "start": made.start_local.strftime("%H:%M"),
            "end": made.end_local.strftime("%H:%M"),
            "activity": made.activity,
            "place": made.place,
            "capacity": made.capacity,
            "on_holidays": made.on_holidays,
        }
        return Change(f"template:{made.id}", None, after, f"{BASE}/templates", "template")

    return await _commit(view, "shifts.template_add", run, _on_templates_page(view))


@router.console("shifts/templates/{template_id:int}/remove", methods=("POST",))
async def remove_template(view: View) -> Response:
    """Stop a pattern; the shifts it made stay."""
    template_id = int(view.request.path_params["template_id"])

    async def run(db: aiosqlite.Connection) -> Change:
        found = await templates.get_template(db, template_id)
        await templates.remove_template(db, template_id)
        before = {"active": True, "activity": found.activity if found else None}
        return Change(f"template:{template_id}", before, {"active": False}, f"{BASE}/templates", "template_removed")

    return await _commit(view, "shifts.template_remove", run, _on_templates_page(view))


@router.console("shifts/generate", methods=("POST",))
async def generate(view: View) -> Response:
    """A week's shifts from the templates (the chat's /generer), public holidays skipped unless asked."""
    form = await view.form()

    async def run(db: aiosqlite.Connection) -> Change:
        monday = reports.parse_week_or_day(_text(form, "week", 20))
        made = await templates.generate_week(
            db, view.now(), view.core.settings.tz, monday, include_holidays=form.get("holidays") == "1",
            language=view.language,
        )  # fmt: skip
        skipped = sorted(
            {f"{format_date(day, 'EEE d MMM', locale=view.language)} ({name})" for day, name, _ in made.skipped}
        )
        lines = [
            view.t("shifts_console.week_title", monday=model.long_date(monday, view.language)),
            _counted(view, "shifts.staff.to_create", len(made.created)),
            view.t("shifts_console.generate_existing", count=len(made.existing)),
        ]
        if skipped:
            lines.append(view.t("shifts_console.generate_skipped", days=", ".join(skipped)))
        after = {"week": reports.week_label(monday), "created": [s.id for s in made.created]}
        page = f"{BASE}/templates"
        return Change(
            f"week:{reports.week_label(monday)}", None if made.created else after, after, page, "generated", lines
        )

    return await _commit(
        view, "shifts.generate", run, _on_templates_page(view), ask=view.t("shifts_console.generate_ask")
    )


@router.console("shifts/named", methods=("POST",))
async def add_named(view: View) -> Response:
    """A new activity or place (the chat's /activite and /site): the create forms then accept it."""
    form = await view.form()
    kind = "place" if form.get("kind") == "place" else "activity"

    async def run(db: aiosqlite.Connection) -> Change:
        name = _text(form, "name", 60)
        found = await (model.find_activity if kind == "activity" else model.find_place)(db, name)
        ensure = model.ensure_activity if kind == "activity" else model.ensure_place
        item_id, shown = await ensure(db, view.now(), name)
        after = {"name": shown}
        return Change(f"{kind}:{item_id}", after if found else None, after, f"{BASE}/templates", kind)

    return await _commit(view, f"shifts.{kind}_add", run, _on_templates_page(view))


# --- Hours for the payroll -----------------------------------------------------------------------


def _month(view: View) -> date:
    text = view.request.query_params.get("month", "")[:20]
    if text:
        return reports.parse_month(text)
    return view.now().astimezone(view.core.settings.tz).date().replace(day=1)


@router.console("shifts/hours")
async def hours_page(view: View) -> Response:
    """A month's hours per worker (shifts marked present), what is not marked yet, and the CSV."""
    error = None
    try:
        first = _month(view)
    except ShiftError as refused:
        error, first = _said(view, refused), view.now().astimezone(view.core.settings.tz).date().replace(day=1)
    async with view.core.store.transaction() as db:
        workers = await reports.month_hours(db, first)
    return _page(
        view,
        "shifts/hours.html",
        400 if error else 200,
        error=error,
        month=first.strftime("%Y-%m"),
        month_name=format_date(first, "LLLL yyyy", locale=view.language),
        workers=workers,
        hours=format_minutes,
    )


@router.console("shifts/hours.csv")
async def hours_file(view: View) -> Response:
    """The payroll's file, the very one ``voisins shifts hours`` writes; the export is in the audit log."""
    try:
        first = _month(view)
    except ShiftError as refused:
        return _page(view, "shifts/missing.html", 400, error=_said(view, refused))
    async with view.core.store.transaction() as db:
        workers = await reports.month_hours(db, first)
        await audit.record(
            db,
            view.now(),
            view.person_id,
            "shifts.hours_export",
            f"month:{first:%Y-%m}",
            None,
            {"workers": len(workers)},
        )
    return Response(
        reports.hours_csv(workers, first),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="shifts-hours-{first:%Y-%m}.csv"'},
    )


# --- Today ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Silent:
    """A worker asked OUI/NON about a shift ahead who has not answered: before the cut-off staff can
    still call them; after it the coordinator was alerted."""

    shift: Shift
    assignment: model.Assignment
    cutoff: datetime
    passed: bool


@router.today(order=20)
async def today_panel(view: View) -> str | None:
    """Today's shifts with each worker's answer to the reminder, and who has not answered yet."""
    now = view.now()
    times = reminders.Times.of(view.core.settings)
    today = now.astimezone(view.core.settings.tz).date()
    async with view.core.store.transaction() as db:
        entries = await reports.roster(db, today, today + timedelta(days=1))
        silent = [
            Silent(shift, seat, times.cutoff_at(shift), now >= times.cutoff_at(shift))
            for shift in await model.shifts_between(db, now, now + reminders.LOOK_AHEAD, with_cancelled=False)
            if now >= times.reminder(shift)
            for seat in await model.assignments_of(db, shift.id, live_only=True)
            if seat.answer is None
        ]
    return view.fragment(
        "shifts/today.html",
        entries=entries,
        silent=silent,
        base=BASE,
        about=lambda shift: model.describe(shift, view.language),
    )
