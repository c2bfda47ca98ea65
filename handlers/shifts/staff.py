"""What staff do with shifts in chat: create, change, cancel, assign, roster, attendance, templates.

Each command has a /command (French and English) and a plain word a busy social worker can type on
a phone ("affecter 12 GV-K7P2"); plain words are read only for staff, so a resident's "absent" goes
to the other features. Assigning, unassigning, changing, cancelling, marking attendance (the
payroll's hours) and generating a week are shown first and written only on OUI (by SMS, OUI with
the code of the prompt: see :mod:`bot.confirm`); each is tried in a transaction that is rolled
back, so the preview already says what the rules refuse. Creating a shift, a template, an activity
or a place is written at once: it moves nobody's hours, erases nothing and tells nobody.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
from babel.dates import format_date

from bot import confirm, people
from bot.dispatch import STAFF_ROLES, Context, Replies
from bot.i18n import I18n, shipped
from bot.messages import Inbound, Reply
from bot.store import Store
from bot.text import FarDate, fold, format_minutes, typed_day, typed_number
from handlers.shifts import model, reports, templates
from handlers.shifts.cli import shifts_app
from handlers.shifts.model import Shift, ShiftError
from handlers.shifts.router import router

log = logging.getLogger(__name__)

router.cli("shifts", shifts_app, "Premières Heures shifts: contracts, import, roster, hours for the payroll.")

Op = Callable[[Context, list[str]], Awaitable[Replies]]
# Each operation's keyword key (data/locales/<lang>/keywords/shifts_staff.yaml): its first words without the slash.
PLAIN: dict[str, Op] = {}


class Usage(Exception):
    """The command was not typed as expected: the answer is its usage line."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def staff_command(slashes: tuple[str, ...], plain: str, help: str | None = None) -> Callable[[Op], Op]:
    """Register one staff operation as /commands (guarded, ``help`` its line in /equipe) and as the
    plain first words of the keyword key ``plain`` (one or two words each, read for staff only)."""

    def register(op: Op) -> Op:
        async def slash(inbound: Inbound, ctx: Context) -> Replies:
            return await _run(op, ctx, inbound.text.split()[1:])

        slash.__name__ = op.__name__
        router.command(*slashes, roles=STAFF_ROLES, help=help)(slash)
        PLAIN[plain] = op
        return op

    return register


async def _run(op: Op, ctx: Context, args: list[str]) -> Replies:
    """Bad input gets its usage or the rule's reason, and nothing is written."""
    try:
        return await op(ctx, args)
    except Usage as usage:
        ctx.done()
        return [Reply(ctx.t(usage.key))]
    except ShiftError as error:
        ctx.done()
        return [Reply(error.text(ctx.i18n, ctx.language))]


@router.text("shifts.staff_words")
async def plain_words(inbound: Inbound, ctx: Context) -> Replies:
    """ "affecter 12 GV-K7P2", "tableau demain": the same operations without the slash, for staff."""
    if not ctx.person.is_staff:
        return None
    raw = inbound.text.split()
    folded = [fold(word) for word in raw[:2]]
    typed = {tuple(words.split()): op for key, op in PLAIN.items() for words in ctx.i18n.words(key)}
    for length in (2, 1):
        op = typed.get(tuple(folded[:length])) if len(raw) >= length else None
        if op is not None:
            return await _run(op, ctx, raw[length:])
    return None


# --- Reading what staff typed --------------------------------------------------------------------


def parse_chat_day(text: str, today: date, i18n: I18n | None = None) -> date:
    """ "2026-12-02", "2/12", "02/12/2026", "demain", "lundi" (the next one, today included).

    The words are the keyword files' (the bot passes its I18n; alone, the shipped files are read).
    """
    words = i18n or shipped()
    word = fold(text)
    if word in words.words("shifts.staff.today"):
        return today
    if word in words.words("shifts.staff.tomorrow"):
        return today + timedelta(days=1)
    days = templates.day_words(words)
    if word in days:
        return today + timedelta(days=(days[word] - today.isoweekday()) % 7)
    try:
        found = typed_day(text, today, recent=timedelta(days=60))  # "5/1" typed in December is next January
    except FarDate as far:
        raise ShiftError(far.key, **far.params) from None
    if found is None:
        raise ShiftError("shifts.error.bad_date", value=text[:20])
    return found


def _is_day(text: str, today: date, i18n: I18n) -> bool:
    try:
        parse_chat_day(text, today, i18n)
    except ShiftError:
        return False
    return True


def _times(args: list[str]) -> tuple[time, time, int] | None:
    """ "11:30-14:30" or "11:30 14:30" at the start of ``args``, and how many words they took."""
    if args and "-" in args[0]:
        first, _, second = args[0].partition("-")
        if _clock_like(first) and _clock_like(second):
            return model.parse_clock(first), model.parse_clock(second), 1
    if len(args) >= 2 and _clock_like(args[0]) and _clock_like(args[1]):
        return model.parse_clock(args[0]), model.parse_clock(args[1]), 2
    return None


def _clock_like(text: str) -> bool:
    try:
        model.parse_clock(text)
    except ShiftError:
        return False
    return True


def _number(text: str) -> int | None:
    cleaned = text.lstrip("#").removeprefix("n°").removeprefix("no")
    return typed_number(cleaned, digits=8)


def _shift_id(args: list[str], usage: str) -> int:
    number = _number(args[0]) if args else None
    if number is None:
        raise Usage(usage)
    return number


SEPARATORS = (",", "/", "@", " à ", " a ", " at ")


async def _activity_and_place(db: aiosqlite.Connection, words: list[str]) -> tuple[int, int]:
    """ "cantine lingerie", "Service cantine, La Lingerie": a known activity, then a known place.

    Nothing is created here: a slip is refused with the close names (``/activite NOM`` and ``/site NOM``
    make new ones)."""
    text = " ".join(words)
    separated = [(left, right) for left, _, right in (text.partition(s) for s in SEPARATORS if s in text)]
    for left, right in separated:
        activity = await reports.match_named(db, "activity", left)
        place = await reports.match_named(db, "place", right)
        if activity and place:
            return activity[0], place[0]
    cuts = [(" ".join(words[:cut]), " ".join(words[cut:])) for cut in range(1, len(words))]
    found = set()
    for left, right in cuts:
        activity = await reports.match_named(db, "activity", left)
        place = await reports.match_named(db, "place", right)
        if activity and place:
            found.add((activity[0], place[0]))
    if len(found) == 1:
        return found.pop()
    raise await _not_both(db, text, [] if found else separated + cuts)


async def _not_both(db: aiosqlite.Connection, text: str, splits: list[tuple[str, str]]) -> ShiftError:
    """Why no activity and place were found: where one of them is known, the other is said unknown
    with its close names (the split whose known half is typed exactly and whose close name is the
    closest wins); else every activity and place is listed."""
    best: tuple[tuple[bool, float], str, str] | None = None
    for left, right in splits:
        activity = await reports.match_named(db, "activity", left)
        place = await reports.match_named(db, "place", right)
        if (activity is None) == (place is None):
            continue
        kind, typed, known, side = ("place", right, activity, left) if activity else ("activity", left, place, right)
        assert known is not None
        close = await reports.close_names(db, kind, typed)
        rank = (fold(known[1]) == fold(side), close[0][1] if close else 0.0)
        if best is None or rank > best[0]:
            best = (rank, kind, typed)
    if best is not None:
        return await reports.unknown_named(db, best[1], best[2], f"shifts.staff.new_{best[1]}")
    activities = ", ".join(name for _, name in await reports.list_named(db, "activity"))
    places = ", ".join(name for _, name in await reports.list_named(db, "place"))
    return ShiftError("shifts.staff.unknown_activity_place", text=text[:60], activities=activities, places=places)


async def _member(db: aiosqlite.Connection, text: str) -> int:
    return (await people.require_by_code(db, text, ShiftError, "shifts.staff.unknown_member")).id


def _counted(ctx: Context, key: str, count: int) -> str:
    """ "1 place", "4 places": the plural form of ``key`` in the staff member's language."""
    return model.counted(ctx.i18n, ctx.language, key, count)


def _label(name: str | None, code: str | None) -> str:
    first = (name or "").split()
    return f"{first[0]} ({code or '?'})" if first else code or "?"


async def _shift(db: aiosqlite.Connection, shift_id: int) -> Shift:
    shift = await model.get_shift(db, shift_id)
    if shift is None:
        raise ShiftError("shifts.error.no_shift", id=shift_id)
    return shift


# --- Confirmation --------------------------------------------------------------------------------


@asynccontextmanager
async def trial(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """Run the rules for a preview, then undo every write (outbox rows included)."""
    await db.execute("SAVEPOINT shifts_preview")
    try:
        yield
    finally:
        await db.execute("ROLLBACK TO shifts_preview")
        await db.execute("RELEASE shifts_preview")


async def _ask(ctx: Context, text: str, **data: Any) -> Replies:
    """Every staff change to shifts moves someone's hours or tells someone: guarded on SMS."""
    return [await CHANGE.ask(ctx, text, **data)]


async def _execute(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> str:
    """Write the confirmed operation; returns the answer."""
    now = ctx.now()
    op = data["op"]
    if op == "cancel":
        shift = await model.cancel_shift(db, now, ctx.i18n, data["shift"], data["reason"])
        told = len(await model.assignments_of(db, shift.id, live_only=True)) if shift.starts_at > now else 0
        return ctx.t(
            "shifts.staff.cancelled",
            id=shift.id,
            shift=model.describe(shift, ctx.language),
            told=_counted(ctx, "shifts.staff.told", told),
        )
    if op == "unassign":
        released = await model.release(db, now, ctx.i18n, data["assignment"], "unassigned")
        return ctx.t("shifts.staff.unassigned", who=_label(released.name, released.member_code), id=released.shift_id)
    if op == "change":
        changed = await _change(db, ctx, data)
        told = len(await model.assignments_of(db, changed.id, live_only=True))
        return ctx.t(
            "shifts.staff.changed",
            id=changed.id,
            shift=model.describe(changed, ctx.language),
            told=_counted(ctx, "shifts.staff.told", told),
        )
    if op == "assign":
        workers = [(str(code), int(person)) for code, person in data["workers"]]
        return "\n".join(await _assign_each(db, ctx, data["shift"], workers))
    if op == "attendance":
        return await _mark(db, ctx, data["shift"], [int(a) for a in data["assignments"]], bool(data["present"]))
    if op == "generate":
        made = await templates.generate_week(
            db, now, ctx.settings.tz, date.fromisoformat(data["monday"]), include_holidays=data["holidays"],
            language=ctx.language,
        )  # fmt: skip
        monday = date.fromisoformat(data["monday"])
        return ctx.t(
            "shifts.staff.generated",
            monday=model.long_date(monday, ctx.language),
            week=reports.week_label(monday),
            created=_counted(ctx, "shifts.staff.made", len(made.created)),
            existing=len(made.existing),
        )
    raise ShiftError("shifts.staff.nothing_pending")


async def _confirmed(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The rules are checked again inside the transaction; a refusal writes nothing."""
    try:
        text = await _execute(db, ctx, data)
    except ShiftError as error:
        raise confirm.Refused.saying(error.text(ctx.i18n, ctx.language)) from error
    log.info("shifts: staff %s confirmed %s", ctx.person.id, data["op"])
    return [Reply(text)]


CHANGE = router.confirmation(
    confirm.Operation(
        "shifts.staff_change",
        _confirmed,
        roles=STAFF_ROLES,
    )
)


# --- Help ----------------------------------------------------------------------------------------


@staff_command(("/aide_creneaux", "/shifts_help"), "shifts.staff.help", help="shifts.staff.about_help")
async def staff_help(ctx: Context, args: list[str]) -> Replies:
    """Every shift command for staff, with an example each."""
    return [Reply(ctx.t("shifts.staff.help"))]


# --- Creating, changing, cancelling --------------------------------------------------------------


@staff_command(("/creneau", "/shift"), "shifts.staff.new", help="shifts.staff.about_new")
async def create(ctx: Context, args: list[str]) -> Replies:
    """/creneau 2/12 11:30 14:30 cantine lingerie 4: a shift; the sender coordinates it."""
    if len(args) < 4:
        raise Usage("shifts.staff.create_usage")
    today = ctx.local_now().date()
    day = parse_chat_day(args[0], today, ctx.i18n)
    times = _times(args[1:])
    if times is None:
        raise Usage("shifts.staff.create_usage")
    start, end, used = times
    rest = args[1 + used :]
    capacity = 1
    if len(rest) >= 2 and rest[-1].isdecimal():
        capacity = int(rest[-1]) if len(rest[-1]) < 4 else 0
        rest = rest[:-1]
    if not rest:
        raise Usage("shifts.staff.create_usage")
    async with ctx.store.transaction() as db:
        activity_id, place_id = await _activity_and_place(db, rest)
        shift, created = await model.create_shift(
            db, ctx.now(), ctx.settings.tz, activity_id=activity_id, place_id=place_id, day=day, start=start,
            end=end, capacity=capacity, coordinator_id=ctx.person.id,
        )  # fmt: skip
    key = "shifts.staff.created" if created else "shifts.staff.exists"
    seats = _counted(ctx, "shifts.staff.seats", shift.capacity)
    return [Reply(ctx.t(key, id=shift.id, shift=model.describe(shift, ctx.language), seats=seats))]


async def _change(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> Shift:
    return await model.change_shift(
        db,
        ctx.now(),
        ctx.i18n,
        ctx.settings.tz,
        data["shift"],
        day=date.fromisoformat(data["day"]) if data.get("day") else None,
        start=time.fromisoformat(data["start"]) if data.get("start") else None,
        end=time.fromisoformat(data["end"]) if data.get("end") else None,
        place_id=data.get("place"),
        capacity=data.get("capacity"),
    )


@staff_command(("/modifier", "/change"), "shifts.staff.change", help="shifts.staff.about_change")
async def change(ctx: Context, args: list[str]) -> Replies:
    """/modifier 12 3/12 10:00-13:00 places 5 lieu Lingerie: the shift moves, its workers are told."""
    shift_id = _shift_id(args, "shifts.staff.change_usage")
    today = ctx.local_now().date()
    data: dict[str, Any] = {"op": "change", "shift": shift_id}
    rest = args[1:]
    index = 0
    seats_words, place_words = ctx.i18n.words("shifts.staff.capacity"), ctx.i18n.words("shifts.staff.at")
    async with ctx.store.transaction() as db:
        before = await _shift(db, shift_id)
        while index < len(rest):
            word = fold(rest[index])
            times = _times(rest[index:])
            if times is not None:
                data["start"], data["end"] = times[0].strftime("%H:%M"), times[1].strftime("%H:%M")
                index += times[2]
            elif word in seats_words and index + 1 < len(rest) and rest[index + 1].isdecimal():
                data["capacity"] = int(rest[index + 1][:4])
                index += 2
            elif word in place_words and index + 1 < len(rest):
                typed = " ".join(rest[index + 1 :])
                place = await reports.match_named(db, "place", typed)
                if place is None:
                    raise await reports.unknown_named(db, "place", typed, "shifts.staff.new_place")
                data["place"] = place[0]
                index = len(rest)
            elif _is_day(rest[index], today, ctx.i18n):
                data["day"] = parse_chat_day(rest[index], today, ctx.i18n).isoformat()
                index += 1
            elif _clock_like(rest[index]) and "start" not in data:
                # One time alone moves the shift, keeping its length.
                start = model.parse_clock(rest[index])
                length = datetime.combine(today, before.end_local) - datetime.combine(today, before.start_local)
                end = (datetime.combine(today, start) + length).time()
                data["start"], data["end"] = start.strftime("%H:%M"), end.strftime("%H:%M")
                index += 1
            else:
                raise Usage("shifts.staff.change_usage")
        if len(data) == 2:
            raise Usage("shifts.staff.change_usage")
        async with trial(db):
            after = await _change(db, ctx, data)
            told = len(await model.assignments_of(db, shift_id, live_only=True))
    return await _ask(
        ctx,
        ctx.t(
            "shifts.staff.change_preview",
            id=shift_id,
            before=model.describe(before, ctx.language),
            after=model.describe(after, ctx.language),
            seats=_counted(ctx, "shifts.staff.seats", after.capacity),
            told=_counted(ctx, "shifts.staff.told", told),
        ),
        **data,
    )


@staff_command(("/annuler_creneau", "/cancel_shift"), "shifts.staff.cancel", help="shifts.staff.about_cancel")
async def cancel(ctx: Context, args: list[str]) -> Replies:
    """/annuler_creneau 12 pluie: asked first; the workers on it are told, with the reason."""
    shift_id = _shift_id(args, "shifts.staff.cancel_usage")
    reason = " ".join(args[1:]).strip()
    if not reason:
        raise Usage("shifts.staff.cancel_usage")
    async with ctx.store.transaction() as db:
        shift = await _shift(db, shift_id)
        if shift.cancelled:
            raise ShiftError("shifts.error.shift_cancelled", id=shift_id)
        live = len(await model.assignments_of(db, shift_id, live_only=True))
    text = ctx.t(
        "shifts.staff.cancel_preview",
        id=shift_id,
        shift=model.describe(shift, ctx.language),
        told=_counted(ctx, "shifts.staff.told", live),
        reason=reason,
    )
    return await _ask(ctx, text, op="cancel", shift=shift_id, reason=reason[:200])


async def _plain_cancel(ctx: Context, args: list[str]) -> Replies:
    """ "annuler creneau" without a number is a worker cancelling their own shift: not ours."""
    if not args or _number(args[0]) is None:
        return None
    return await cancel(ctx, args)


PLAIN["shifts.staff.cancel"] = _plain_cancel


# --- Assigning -----------------------------------------------------------------------------------


async def _assign_each(
    db: aiosqlite.Connection, ctx: Context, shift_id: int, workers: list[tuple[str, int]]
) -> list[str]:
    """Assign each worker in turn, so the rules see the ones before; a refusal is a line, not an error.

    ``model.assign`` checks everything before it writes, so a refused worker leaves nothing behind.
    """
    lines = []
    for code, person_id in workers:
        try:
            done = await model.assign(db, ctx.now(), ctx.i18n, shift_id, person_id, actor_id=ctx.person.id)
        except ShiftError as error:
            lines.append(ctx.t("shifts.staff.not_assigned", code=code, why=error.text(ctx.i18n, ctx.language)))
            continue
        shift = await _shift(db, shift_id)
        planned = await model.planned_minutes(db, person_id, shift.local_date)
        lines.append(
            ctx.t(
                "shifts.staff.assigned",
                who=_label(done.name, done.member_code),
                id=shift_id,
                taken=shift.taken,
                capacity=shift.capacity,
                planned=format_minutes(planned),
            )
        )
    return lines


@staff_command(("/affecter", "/assign"), "shifts.staff.assign", help="shifts.staff.about_assign")
async def assign(ctx: Context, args: list[str]) -> Replies:
    """/affecter 12 GV-K7P2 [GV-XXXX...]: each worker is checked (cap, contract, overlap), shown with the
    week's hours it makes, and assigned and told after OUI."""
    shift_id = _shift_id(args, "shifts.staff.assign_usage")
    if len(args) < 2:
        raise Usage("shifts.staff.assign_usage")
    lines: list[str] = []
    workers: list[tuple[str, int]] = []
    async with ctx.store.transaction() as db:
        shift = await _shift(db, shift_id)
        async with trial(db):
            for code in args[1:]:
                try:
                    person_id = await _member(db, code)
                    done = await model.assign(db, ctx.now(), ctx.i18n, shift_id, person_id, actor_id=ctx.person.id)
                except ShiftError as error:
                    why = error.text(ctx.i18n, ctx.language)
                    lines.append(ctx.t("shifts.staff.not_assigned", code=code[:20], why=why))
                    continue
                workers.append((code[:20], person_id))
                planned = await model.planned_minutes(db, person_id, shift.local_date)
                contract = await model.contract_minutes_on(db, person_id, shift.local_date)
                lines.append(
                    ctx.t(
                        "shifts.staff.assign_preview_line",
                        who=_label(done.name, done.member_code),
                        planned=format_minutes(planned),
                        contract=format_minutes(contract or 0),
                    )
                )
    if not workers:
        ctx.done()
        return [Reply("\n".join(lines))]
    text = ctx.t(
        "shifts.staff.assign_preview",
        id=shift_id,
        shift=model.describe(shift, ctx.language),
        taken=shift.taken + len(workers),
        capacity=shift.capacity,
        lines="\n".join(lines),
    )
    return await _ask(ctx, text, op="assign", shift=shift_id, workers=workers)


@staff_command(("/retirer", "/unassign"), "shifts.staff.unassign", help="shifts.staff.about_unassign")
async def unassign(ctx: Context, args: list[str]) -> Replies:
    """/retirer 12 GV-K7P2: asked first; the worker is told their seat is gone."""
    shift_id = _shift_id(args, "shifts.staff.unassign_usage")
    if len(args) != 2:
        raise Usage("shifts.staff.unassign_usage")
    async with ctx.store.transaction() as db:
        shift = await _shift(db, shift_id)
        person_id = await _member(db, args[1])
        live = await model.live_assignment(db, shift_id, person_id)
        if live is None:
            raise ShiftError("shifts.error.not_assigned")
    text = ctx.t(
        "shifts.staff.unassign_preview",
        who=_label(live.name, live.member_code),
        id=shift_id,
        shift=model.describe(shift, ctx.language),
    )
    return await _ask(ctx, text, op="unassign", assignment=live.id)


# --- Roster and attendance -----------------------------------------------------------------------


def _roster_lines(ctx: Context, entries: list[reports.RosterShift], by_day: bool) -> list[str]:
    lines: list[str] = []
    last_day: date | None = None
    for entry in entries:
        shift = entry.shift
        if by_day and shift.local_date != last_day:
            lines.append(format_date(shift.local_date, "EEEE d MMMM", locale=ctx.language).capitalize())
            last_day = shift.local_date
        head = ctx.t(
            "shifts.staff.roster_shift",
            id=shift.id,
            time=f"{shift.start_local.strftime('%H:%M')}-{shift.end_local.strftime('%H:%M')}",
            activity=shift.activity,
            place=shift.place,
            taken=len(entry.live),
            capacity=shift.capacity,
            free=entry.free,
        )
        if shift.cancelled:
            head += " " + ctx.t("shifts.staff.roster_cancelled")
        lines.append(head)
        for assignment in entry.live:
            if assignment.attendance:
                mark = ctx.t(f"shifts.staff.mark_{assignment.attendance}")
            else:
                mark = ctx.t(f"shifts.staff.mark_{assignment.answer or 'waiting'}")
            lines.append(f" + {_label(assignment.name, assignment.member_code)} {mark}")
        for assignment in entry.declined:
            lines.append(f" - {_label(assignment.name, assignment.member_code)} {ctx.t('shifts.staff.mark_no')}")
    return lines


def _period(ctx: Context, args: list[str]) -> tuple[date, date, str]:
    """Nothing: today; a day; "semaine" [prochaine | 2026-W49 | a day]; "2026-W49"."""
    today = ctx.local_now().date()
    words = [fold(a) for a in args]
    if not args:
        return today, today + timedelta(days=1), format_date(today, "EEEE d MMMM", locale=ctx.language)
    week = words[0] in ctx.i18n.words("shifts.staff.week")
    if week or reports.is_week(args[0]):
        rest = args[1:] if week else args
        if not rest:
            monday = model.week_of(today)[0]
        elif fold(rest[0]) in ctx.i18n.words("shifts.staff.next_week"):
            monday = model.week_of(today)[0] + timedelta(days=7)
        elif reports.is_week(rest[0]):
            monday = reports.parse_week(rest[0])
        else:
            monday = model.week_of(parse_chat_day(rest[0], today, ctx.i18n))[0]
        title = ctx.t("shifts.staff.week_of", monday=model.long_date(monday, ctx.language))
        return monday, monday + timedelta(days=7), title
    if len(args) > 1:
        raise Usage("shifts.staff.roster_usage")
    day = parse_chat_day(args[0], today, ctx.i18n)
    return day, day + timedelta(days=1), format_date(day, "EEEE d MMMM", locale=ctx.language)


@staff_command(("/tableau", "/roster"), "shifts.staff.roster", help="shifts.staff.about_roster")
async def roster(ctx: Context, args: list[str]) -> Replies:
    """/tableau [demain | 2/12 | semaine [prochaine | 2026-W49]]: who is on each shift, who said OUI."""
    first, after, title = _period(ctx, args)
    async with ctx.store.transaction() as db:
        entries = await reports.roster(db, first, after)
    if not entries:
        return [Reply(ctx.t("shifts.staff.roster_empty", period=title))]
    lines = [ctx.t("shifts.staff.roster_head", period=title)]
    lines += _roster_lines(ctx, entries, by_day=after - first > timedelta(days=1))
    return [Reply("\n".join(lines))]


async def _mark_lines(db: aiosqlite.Connection, ctx: Context, assignment_ids: list[int], present: bool) -> list[str]:
    lines = []
    for assignment_id in assignment_ids:
        marked = await model.mark_attendance(db, ctx.now(), assignment_id, present)
        lines.append(f"{_label(marked.name, marked.member_code)} {ctx.t(f'shifts.staff.mark_{marked.attendance}')}")
    return lines


async def _mark(db: aiosqlite.Connection, ctx: Context, shift_id: int, assignment_ids: list[int], present: bool) -> str:
    shift = await _shift(db, shift_id)
    lines = await _mark_lines(db, ctx, assignment_ids, present)
    return "\n".join([ctx.t("shifts.staff.marked", id=shift_id, shift=model.when(shift, ctx.language)), *lines])


async def _attendance(ctx: Context, args: list[str], present: bool) -> Replies:
    """Attendance is the payroll's hours: shown first, marked after OUI."""
    usage = "shifts.staff.present_usage" if present else "shifts.staff.absent_usage"
    shift_id = _shift_id(args, usage)
    codes = args[1:]
    if not codes and not present:
        raise Usage(usage)
    async with ctx.store.transaction() as db:
        shift = await _shift(db, shift_id)
        if codes:
            targets = []
            for code in codes:
                person_id = await _member(db, code)
                live = await model.live_assignment(db, shift_id, person_id)
                if live is None:
                    raise ShiftError("shifts.staff.not_on_shift", code=code[:20], id=shift_id)
                targets.append(live)
        else:
            # "present 12": everyone not marked yet came; absences are then marked one by one.
            targets = [a for a in await model.assignments_of(db, shift_id, live_only=True) if a.attendance is None]
        ids = list(dict.fromkeys(target.id for target in targets))
        async with trial(db):
            lines = await _mark_lines(db, ctx, ids, present)
    if not lines:
        ctx.done()
        return [Reply(ctx.t("shifts.staff.nobody_to_mark", id=shift_id))]
    text = ctx.t(
        "shifts.staff.mark_preview", id=shift_id, shift=model.when(shift, ctx.language), lines="\n".join(lines)
    )
    return await _ask(ctx, text, op="attendance", shift=shift_id, assignments=ids, present=present)


@staff_command(("/present",), "shifts.staff.present", help="shifts.staff.about_present")
async def present(ctx: Context, args: list[str]) -> Replies:
    """/present 12 [GV-K7P2]: after the shift, who came (everyone not marked yet when no code)."""
    return await _attendance(ctx, args, True)


@staff_command(("/absent",), "shifts.staff.absent", help="shifts.staff.about_absent")
async def absent(ctx: Context, args: list[str]) -> Replies:
    """/absent 12 GV-K7P2: after the shift, who did not come."""
    return await _attendance(ctx, args, False)


# --- Activities, places, templates ---------------------------------------------------------------


async def _named(ctx: Context, args: list[str], kind: str) -> Replies:
    """Nothing: the list; a name: added; a number then a name: renamed."""
    async with ctx.store.transaction() as db:
        if not args:
            items = await reports.list_named(db, kind)
            listed = "\n".join(f"{item_id}. {name}" for item_id, name in items) or "-"
            return [Reply(ctx.t(f"shifts.staff.{kind}_list", items=listed))]
        number = _number(args[0])
        if number is not None and len(args) > 1:
            name = await reports.rename_named(db, kind, number, " ".join(args[1:]))
            return [Reply(ctx.t("shifts.staff.renamed", id=number, name=name))]
        ensure = model.ensure_activity if kind == "activity" else model.ensure_place
        item_id, name = await ensure(db, ctx.now(), " ".join(args))
    return [Reply(ctx.t(f"shifts.staff.{kind}_added", id=item_id, name=name))]


@staff_command(("/activite", "/activity"), "shifts.staff.activity", help="shifts.staff.about_activity")
async def activity(ctx: Context, args: list[str]) -> Replies:
    """/activite [Nom | 3 Nouveau nom]: the activities shifts are made of."""
    return await _named(ctx, args, "activity")


@staff_command(("/site",), "shifts.staff.sites", help="shifts.staff.about_sites")
async def site(ctx: Context, args: list[str]) -> Replies:
    """/site [Nom | 2 Nouveau nom]: the places shifts happen at."""
    return await _named(ctx, args, "place")


@staff_command(("/modele", "/template"), "shifts.staff.template", help="shifts.staff.about_template")
async def template(ctx: Context, args: list[str]) -> Replies:
    """/modele lun-jeu 11:30 14:30 cantine lingerie 4 [feries]; /modele alone lists them."""
    async with ctx.store.transaction() as db:
        if not args:
            found = await templates.list_templates(db)
            if not found:
                return [Reply(ctx.t("shifts.staff.no_templates"))]
            return [Reply("\n".join(_template_line(ctx, t) for t in found))]
        holidays = bool(args) and fold(args[-1]) in ctx.i18n.words("shifts.staff.holidays")
        rest = args[:-1] if holidays else args
        times = _times(rest[1:]) if len(rest) > 3 else None
        if times is None:
            raise Usage("shifts.staff.template_usage")
        days = templates.parse_weekdays(rest[0], ctx.i18n)
        rest = rest[1 + times[2] :]
        capacity = 1
        if len(rest) >= 2 and rest[-1].isdecimal():
            capacity = int(rest[-1][:4])
            rest = rest[:-1]
        activity_id, place_id = await _activity_and_place(db, rest)
        made = await templates.add_template(
            db, ctx.now(), activity_id=activity_id, place_id=place_id, weekdays=days, start=times[0],
            end=times[1], capacity=capacity, coordinator_id=ctx.person.id, on_holidays=holidays,
        )  # fmt: skip
    return [Reply(ctx.t("shifts.staff.template_added", line=_template_line(ctx, made)))]


def _template_line(ctx: Context, made: templates.Template) -> str:
    return ctx.t(
        "shifts.staff.template_line",
        id=made.id,
        days=templates.weekday_names(made.weekdays, ctx.language),
        time=f"{made.start_local.strftime('%H:%M')}-{made.end_local.strftime('%H:%M')}",
        activity=made.activity,
        place=made.place,
        seats=_counted(ctx, "shifts.staff.seats", made.capacity),
        holidays=ctx.t("shifts.staff.on_holidays") if made.on_holidays else "",
    ).strip()


@staff_command(("/generer", "/generate"), "shifts.staff.generate", help="shifts.staff.about_generate")
async def generate(ctx: Context, args: list[str]) -> Replies:
    """/generer [2026-W49 | 7/12] [feries]: next week's shifts from the templates, asked first."""
    holidays = bool(args) and fold(args[-1]) in ctx.i18n.words("shifts.staff.holidays")
    rest = args[:-1] if holidays else args
    today = ctx.local_now().date()
    if not rest:
        monday = model.week_of(today)[0] + timedelta(days=7)
    elif len(rest) == 1 and reports.is_week(rest[0]):
        monday = reports.parse_week(rest[0])
    elif len(rest) == 1:
        monday = model.week_of(parse_chat_day(rest[0], today, ctx.i18n))[0]
    else:
        raise Usage("shifts.staff.generate_usage")
    async with ctx.store.transaction() as db:
        if not await templates.list_templates(db):
            return [Reply(ctx.t("shifts.staff.no_templates"))]
        async with trial(db):
            made = await templates.generate_week(
                db, ctx.now(), ctx.settings.tz, monday, include_holidays=holidays, language=ctx.language
            )
    skipped = ", ".join(
        sorted({f"{format_date(day, 'EEE d MMM', locale=ctx.language)} ({name})" for day, name, _ in made.skipped})
    )
    text = ctx.t(
        "shifts.staff.generate_preview",
        monday=model.long_date(monday, ctx.language),
        created=_counted(ctx, "shifts.staff.to_create", len(made.created)),
        existing=len(made.existing),
        skipped=skipped or "-",
    )
    return await _ask(ctx, text, op="generate", monday=monday.isoformat(), holidays=holidays)


# --- Demo ----------------------------------------------------------------------------------------

DEMO_ACTIVITIES = (
    "Service cantine",
    "Nettoyage des locaux",
    "Propreté et déchets",
    "Boîtes à champignons",
    "Poulailler",
    "Espaces verts",
    "Livraison",
    "Petit bricolage",
)
DEMO_TZ = ZoneInfo("Europe/Paris")  # seeders run before the settings reach them
DEMO_PLACES = ("Lingerie", "Conciergerie", "Poulailler", "Jardins", "Ressourcerie Créative")


@router.demo
async def _demo(store: Store, now: datetime) -> None:
    """The seed's activities and places, the canteen Monday to Thursday at the Lingerie for this week
    and next, Karim on a few of them with an 8-hour contract, Awa coordinating."""
    tz = DEMO_TZ
    async with store.transaction() as db:
        awa = await people.find_person_id(db, member_code="GV-EKP3")
        karim = await people.find_person_id(db, member_code="GV-K7P2")
        ids = {name: (await model.ensure_activity(db, now, name))[0] for name in DEMO_ACTIVITIES}
        places = {name: (await model.ensure_place(db, now, name))[0] for name in DEMO_PLACES}
        await templates.add_template(
            db, now, activity_id=ids["Service cantine"], place_id=places["Lingerie"], weekdays=(1, 2, 3, 4),
            start=time(11, 30), end=time(14, 30), capacity=3, coordinator_id=awa,
        )  # fmt: skip
        today = now.astimezone(tz).date()
        monday = model.week_of(today)[0]
        for week in (monday, monday + timedelta(days=7)):
            await templates.generate_week(db, now, tz, week)
        garden, _ = await model.create_shift(
            db, now, tz, activity_id=ids["Espaces verts"], place_id=places["Jardins"],
            day=monday + timedelta(days=11), start=time(9, 0), end=time(12, 0), capacity=2, coordinator_id=awa,
        )  # fmt: skip
        if karim is None:
            return
        await model.set_contract(db, now, karim, 8 * 60, monday)
        # From the day after tomorrow: a fresh demo has nothing due (no reminder at once).
        later = today + timedelta(days=2)
        canteen = [s for s in await model.shifts_on_days(db, later, monday + timedelta(days=14)) if s.taken == 0]
        for shift in [*canteen[:2], garden]:
            if shift.starts_at > now:
                try:
                    await model.assign(db, now, shipped(), shift.id, karim, actor_id=awa, notify=False)
                except ShiftError:
                    continue
