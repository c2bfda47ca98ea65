"""The shift rules on a bare database: the 16-hour cap, contract steps, overlaps, clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot import people
from bot.i18n import I18n
from bot.messages import Channel
from bot.store import Store
from handlers.shifts import model, reports
from handlers.shifts.model import Shift, ShiftError

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
I18N = I18n("fr")
_phones = iter(range(10, 100))


async def add_worker(
    store: Store,
    code: str,
    contract: int | None = 16 * 60,
    since: date = date(2026, 1, 5),
    roles: set[str] | None = None,
) -> int:
    """A worker reachable by SMS, with contract hours from ``since``."""
    async with store.transaction() as db:
        person_id = await people.register(db, NOW, f"Worker {code}", roles or {"worker"}, "fr", member_code=code)
        await people.attach_identity(db, NOW, person_id, Channel.SMS, f"+336399901{next(_phones):02d}")
        if contract is not None:
            await model.set_contract(db, NOW, person_id, contract, since)
    return person_id


async def add_shift(
    store: Store, day: date, start: str, end: str, capacity: int = 3, activity: str = "Cantine", place: str = "Lingerie"
) -> Shift:
    async with store.transaction() as db:
        activity_id, _ = await model.ensure_activity(db, NOW, activity)
        place_id, _ = await model.ensure_place(db, NOW, place)
        shift, _ = await model.create_shift(
            db, NOW, PARIS, activity_id=activity_id, place_id=place_id, day=day,
            start=model.parse_clock(start), end=model.parse_clock(end), capacity=capacity,
        )  # fmt: skip
    return shift


async def assign(store: Store, shift: Shift, person_id: int, now: datetime = NOW) -> None:
    async with store.transaction() as db:
        await model.assign(db, now, I18N, shift.id, person_id)


async def refusal(store: Store, shift: Shift, person_id: int) -> str:
    """The reason the assignment is refused, as staff read it; nothing is written."""
    with pytest.raises(ShiftError) as refused:
        await assign(store, shift, person_id)
    async with store.transaction() as db:
        assert await model.live_assignment(db, shift.id, person_id) is None
    return refused.value.text(I18N, "fr")


async def planned(store: Store, person_id: int, day: date) -> int:
    async with store.transaction() as db:
        return await model.planned_minutes(db, person_id, day)


async def test_exactly_sixteen_hours_are_accepted_and_a_quarter_more_refused(store: Store) -> None:
    """Four 4-hour shifts fill the week to 16 h; 15 minutes more is refused with the hours planned."""
    karim = await add_worker(store, "GV-K7P2")
    for offset in range(4):
        await assign(store, await add_shift(store, date(2026, 12, 7 + offset), "09:00", "13:00"), karim)
    assert await planned(store, karim, date(2026, 12, 7)) == 16 * 60
    extra = await add_shift(store, date(2026, 12, 11), "09:00", "09:15")
    why = await refusal(store, extra, karim)
    assert "16 h" in why and "Déjà prévu : 16 h" in why and "15 min" in why
    # The next week is a new week: the same quarter hour fits there.
    await assign(store, await add_shift(store, date(2026, 12, 14), "09:00", "09:15"), karim)


async def test_contract_steps_apply_from_their_date(store: Store) -> None:
    """8 h a week, then 12 h from a Monday: each week uses the step in force that week."""
    karim = await add_worker(store, "GV-K7P2", contract=8 * 60, since=date(2026, 11, 2))
    async with store.transaction() as db:
        await model.set_contract(db, NOW, karim, 12 * 60, date(2026, 11, 16))
        assert await model.contract_history(db, karim) == [(date(2026, 11, 2), 480), (date(2026, 11, 16), 720)]
    await assign(store, await add_shift(store, date(2026, 11, 9), "09:00", "13:00"), karim)
    await assign(store, await add_shift(store, date(2026, 11, 10), "09:00", "13:00"), karim)
    why = await refusal(store, await add_shift(store, date(2026, 11, 11), "09:00", "09:15"), karim)
    assert "contrat (8 h par semaine)" in why and "Déjà prévu : 8 h" in why
    for day in (16, 17, 18):
        await assign(store, await add_shift(store, date(2026, 11, day), "09:00", "13:00"), karim)
    assert await planned(store, karim, date(2026, 11, 16)) == 12 * 60
    why = await refusal(store, await add_shift(store, date(2026, 11, 19), "09:00", "09:15"), karim)
    assert "contrat (12 h par semaine)" in why


async def test_no_contract_and_not_a_worker_are_refused(store: Store) -> None:
    """A worker without contract hours yet, and a resident, cannot be put on a shift."""
    shift = await add_shift(store, date(2026, 12, 7), "09:00", "12:00")
    newcomer = await add_worker(store, "GV-NEW2", contract=None)
    assert "Pas d'heures de contrat" in await refusal(store, shift, newcomer)
    resident = await add_worker(store, "GV-RES2", roles={"resident"}, contract=None)
    assert "salarié" in await refusal(store, shift, resident)


async def test_contract_hours_are_read_as_typed() -> None:
    """8, 8.5, 8,5, 8h and 8h30 are contract hours; over 16 or nonsense is refused."""
    assert [reports.parse_hours(t) for t in ("8", "8.5", "8,5", "8h", "8h30", "16")] == [480, 510, 510, 480, 510, 960]
    for bad in ("17", "16h15", "huit", "8h75", "-2"):
        with pytest.raises(ShiftError):
            reports.parse_hours(bad)


async def test_overlapping_shifts_are_refused(store: Store) -> None:
    """A shift that overlaps one the worker already has is refused and names it; touching is fine."""
    karim = await add_worker(store, "GV-K7P2")
    first = await add_shift(store, date(2026, 12, 7), "09:00", "13:00")
    await assign(store, first, karim)
    why = await refusal(store, await add_shift(store, date(2026, 12, 7), "12:00", "15:00", activity="Jardin"), karim)
    assert "chevauche" in why and f"n°{first.id}" in why
    await assign(store, await add_shift(store, date(2026, 12, 7), "13:00", "15:00", activity="Jardin"), karim)


async def test_the_october_clock_change_week_has_the_right_hours(store: Store) -> None:
    """Week of Sunday 2026-10-25: 09:00-13:00 is 4 h either side of the change; the week totals 16 h."""
    karim = await add_worker(store, "GV-K7P2")
    saturday = await add_shift(store, date(2026, 10, 24), "09:00", "13:00")
    sunday = await add_shift(store, date(2026, 10, 25), "09:00", "13:00")
    assert saturday.minutes == sunday.minutes == 240
    assert saturday.starts_at.astimezone(UTC).hour == 7 and sunday.starts_at.astimezone(UTC).hour == 8
    for shift in (saturday, sunday, await add_shift(store, date(2026, 10, 19), "09:00", "13:00")):
        await assign(store, shift, karim)
    await assign(store, await add_shift(store, date(2026, 10, 20), "09:00", "13:00"), karim)
    assert await planned(store, karim, date(2026, 10, 25)) == 16 * 60
    night = await add_shift(store, date(2026, 10, 25), "01:00", "04:00", activity="Veille")
    assert night.minutes == 4 * 60  # the hour from 2 to 3 is lived twice
    assert "Déjà prévu : 16 h" in await refusal(store, night, karim)


async def test_the_march_clock_change_week_has_the_right_hours(store: Store) -> None:
    """Week of Sunday 2027-03-28: 09:00-13:00 is 4 h; 01:00-04:00 is 2 h; 02:30 does not exist."""
    karim = await add_worker(store, "GV-K7P2", since=date(2027, 1, 4))
    sunday = await add_shift(store, date(2027, 3, 28), "09:00", "13:00")
    night = await add_shift(store, date(2027, 3, 28), "01:00", "04:00", activity="Veille")
    assert sunday.minutes == 240 and night.minutes == 120
    for day in (22, 23, 24):
        await assign(store, await add_shift(store, date(2027, 3, day), "09:00", "13:00"), karim)
    await assign(store, night, karim)
    await assign(store, await add_shift(store, date(2027, 3, 27), "09:00", "11:00"), karim)
    assert await planned(store, karim, date(2027, 3, 22)) == 16 * 60
    with pytest.raises(ShiftError) as skipped:
        await add_shift(store, date(2027, 3, 28), "02:30", "05:00")
    assert "changement d'heure" in skipped.value.text(I18N, "fr")


async def test_bad_times_change_nothing(store: Store) -> None:
    """An end before the start, an unknown time or date: refused, no shift written."""
    for start, end in (("13:00", "09:00"), ("25:00", "26:00"), ("9h", "9h")):
        with pytest.raises(ShiftError):
            await add_shift(store, date(2026, 12, 7), start, end)
    with pytest.raises(ShiftError):
        model.parse_day("2026-13-01")
    row = await store.fetchone("SELECT COUNT(*) FROM shifts")
    assert row is not None and row[0] == 0


async def outbox_causes(store: Store) -> list[str]:
    return [row[0] for row in await store.fetchall("SELECT cause FROM outbox ORDER BY id")]


async def test_change_and_cancel_tell_the_workers(store: Store) -> None:
    """Moving a shift re-checks and tells its worker (answers reset); cancelling tells them with the reason."""
    karim = await add_worker(store, "GV-K7P2")
    shift = await add_shift(store, date(2026, 12, 7), "09:00", "13:00")
    await assign(store, shift, karim)
    async with store.transaction() as db:
        live = await model.live_assignment(db, shift.id, karim)
        assert live is not None
        await model.answer(db, NOW, live.id, "yes")
        moved = await model.change_shift(db, NOW, I18N, PARIS, shift.id, start=time(10, 0), end=time(14, 0))
        again = await model.live_assignment(db, shift.id, karim)
    assert moved.version == 2 and again is not None and again.answer is None
    await model_cancel(store, shift.id)
    causes = await outbox_causes(store)
    assert f"shift:{shift.id}:changed:v2" in causes and f"shift:{shift.id}:cancelled" in causes
    body = await store.fetchone("SELECT body FROM outbox WHERE cause = ?", (f"shift:{shift.id}:cancelled",))
    assert body is not None and "pluie" in body[0]


async def model_cancel(store: Store, shift_id: int) -> None:
    async with store.transaction() as db:
        await model.cancel_shift(db, NOW, I18N, shift_id, "pluie")


async def test_a_change_that_breaks_a_workers_cap_is_refused(store: Store) -> None:
    """Lengthening a shift past a worker's 16 h is refused with their name; the shift stays as it was."""
    karim = await add_worker(store, "GV-K7P2")
    shifts = [await add_shift(store, date(2026, 12, 7 + offset), "09:00", "13:00") for offset in range(4)]
    for shift in shifts:
        await assign(store, shift, karim)
    with pytest.raises(ShiftError) as refused:
        async with store.transaction() as db:
            await model.change_shift(db, NOW, I18N, PARIS, shifts[0].id, end=time(13, 30))
    assert "GV-K7P2" in refused.value.text(I18N, "fr")
    async with store.transaction() as db:
        same = await model.get_shift(db, shifts[0].id)
    assert same is not None and same.end_local == time(13, 0) and same.version == 1
