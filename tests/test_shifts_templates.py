"""Weekly templates: a week's shifts made once, French public holidays skipped unless told otherwise."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.store import Store
from handlers.shifts import model, templates
from handlers.shifts.model import ShiftError
from tests.test_shifts_model import I18N, NOW, PARIS

MONDAY_CHRISTMAS_WEEK = date(2026, 12, 21)  # Friday 25 is Christmas


async def canteen(store: Store, weekdays: str = "lun-ven", on_holidays: bool = False) -> templates.Template:
    async with store.transaction() as db:
        activity_id, _ = await model.ensure_activity(db, NOW, "Service cantine")
        place_id, _ = await model.ensure_place(db, NOW, "Lingerie")
        return await templates.add_template(
            db, NOW, activity_id=activity_id, place_id=place_id, weekdays=templates.parse_weekdays(weekdays),
            start=time(11, 30), end=time(14, 30), capacity=3, on_holidays=on_holidays,
        )  # fmt: skip


async def generate(store: Store, monday: date, include_holidays: bool = False) -> templates.Generated:
    async with store.transaction() as db:
        return await templates.generate_week(db, NOW, PARIS, monday, include_holidays=include_holidays)


def days(shifts: list[model.Shift]) -> list[int]:
    return [s.local_date.day for s in shifts]


def test_weekdays_are_read_as_staff_type_them() -> None:
    """lun-jeu, mon-thu, 1-4 and lists name the same days; nonsense is refused."""
    for text in ("lun-jeu", "Lundi-Jeudi", "mon-thu", "1-4", "1,2,3,4", "lun mar mer jeu"):
        assert templates.parse_weekdays(text) == (1, 2, 3, 4), text
    assert templates.parse_weekdays("lun, jeu") == (1, 4)
    for bad in ("jeu-lun", "8", "bientot", ""):
        with pytest.raises(ShiftError):
            templates.parse_weekdays(bad)


async def test_a_week_is_generated_once(store: Store) -> None:
    """Monday to Thursday makes four shifts; a second run makes none and leaves staff's changes alone."""
    await canteen(store, "lun-jeu")
    first = await generate(store, date(2026, 12, 9))  # any day of the week
    assert days(first.created) == [7, 8, 9, 10] and not first.existing
    async with store.transaction() as db:
        await model.change_shift(db, NOW, I18N, PARIS, first.created[0].id, capacity=5)
    second = await generate(store, date(2026, 12, 7))
    assert not second.created and days(second.existing) == [7, 8, 9, 10]
    assert second.existing[0].capacity == 5
    row = await store.fetchone("SELECT COUNT(*) FROM shifts")
    assert row is not None and row[0] == 4


async def test_christmas_and_new_year_are_skipped(store: Store) -> None:
    """Friday 2026-12-25 and Friday 2027-01-01 are public holidays: no shift unless told."""
    await canteen(store)
    christmas = await generate(store, MONDAY_CHRISTMAS_WEEK)
    assert days(christmas.created) == [21, 22, 23, 24]
    assert [(d, name) for d, name, _ in christmas.skipped] == [(date(2026, 12, 25), "Noël")]
    new_year = await generate(store, date(2026, 12, 28))
    assert [d for d, _, _ in new_year.skipped] == [date(2027, 1, 1)]
    told = await generate(store, MONDAY_CHRISTMAS_WEEK, include_holidays=True)
    assert days(told.created) == [25] and not told.skipped


async def test_easter_monday_in_the_clock_change_week(store: Store) -> None:
    """Monday 2027-03-29 (Easter Monday, the day after the clock change) is skipped; a template
    that works on holidays makes it, with the summer-time instant."""
    await canteen(store, "lun-jeu")
    week = await generate(store, date(2027, 3, 29))
    assert days(week.created) == [30, 31, 1] and [d for d, _, _ in week.skipped] == [date(2027, 3, 29)]
    async with store.transaction() as db:
        activity_id, _ = await model.ensure_activity(db, NOW, "Poulailler")
        place_id, _ = await model.ensure_place(db, NOW, "Poulailler")
        await templates.add_template(
            db, NOW, activity_id=activity_id, place_id=place_id, weekdays=(1,), start=time(9, 0), end=time(10, 0),
            capacity=1, on_holidays=True,
        )  # fmt: skip
    hens = await generate(store, date(2027, 3, 29))
    assert [(s.local_date, s.activity) for s in hens.created] == [(date(2027, 3, 29), "Poulailler")]
    assert hens.created[0].starts_at.hour == 7 and hens.created[0].minutes == 60  # 09:00 CEST


async def test_templates_are_listed_and_removed(store: Store) -> None:
    """The same pattern twice is one template; a removed one makes nothing, its shifts stay."""
    made = await canteen(store, "lun-jeu")
    again = await canteen(store, "1-4")
    assert made.id == again.id
    await generate(store, date(2026, 12, 7))
    async with store.transaction() as db:
        assert [t.id for t in await templates.list_templates(db)] == [made.id]
        await templates.remove_template(db, made.id)
        assert await templates.list_templates(db) == []
        with pytest.raises(ShiftError):
            await templates.remove_template(db, made.id)
    assert not (await generate(store, date(2026, 12, 14))).created
    row = await store.fetchone("SELECT COUNT(*) FROM shifts")
    assert row is not None and row[0] == 4
