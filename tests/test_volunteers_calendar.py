"""The volunteer meeting's calendar: the fortnightly rule across clock changes and the new year, staff
changes and their refusals, the .ics route, and the engine's route and settings-aware hook additions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import httpx
import pytest
from icalendar import Calendar
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from bot.app import build_core
from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.config import Settings
from bot.core import Core
from bot.dispatch import Router
from bot.outbox import Hold, Outbox, Row
from bot.store import Store
from handlers.volunteers import calendar, staff
from handlers.volunteers.calendar import CalendarError
from tests.conftest import PARIS, make_settings


async def set_reference(core: Core, day: date) -> None:
    async with core.store.transaction() as db:
        await calendar.set_reference(db, core.clock.now(), day, None)


async def coming(core: Core, live: int = 6, now: datetime | None = None) -> list[calendar.Meeting]:
    async with core.store.transaction() as db:
        return await calendar.coming(db, PARIS, now or core.clock.now(), live)


async def change(core: Core, op: str, day: str, **kwargs: object) -> calendar.Meeting | None:
    made = staff.make(op, date.fromisoformat(day), **kwargs)  # type: ignore[arg-type]
    async with core.store.transaction() as db:
        await staff.check(db, PARIS, core.clock.now(), made)
        meeting, _ = await staff.apply(db, PARIS, core.clock.now(), core.i18n, made, None)
    return meeting


@pytest.mark.parametrize(
    "reference",
    [
        date(2026, 10, 14),  # summer time ends on 25 October 2026
        date(2027, 3, 17),  # summer time starts on 28 March 2027
        date(2026, 12, 16),  # across 31 December (ISO week 53 to week 1), then the end of March
    ],
    ids=["late-october", "late-march", "new-year"],
)
async def test_twelve_meetings_are_wednesdays_at_1830_paris(core: Core, clock: FakeClock, reference: date) -> None:
    """From a reference Wednesday, the next twelve meetings are every other Wednesday, 18:30-20:00 Paris time."""
    clock.set(datetime.combine(reference - timedelta(days=3), time(9), tzinfo=PARIS))
    await set_reference(core, reference)
    found = await coming(core, live=12)
    assert len(found) == 12
    for n, meeting in enumerate(found):
        local_start = meeting.starts.astimezone(PARIS)
        assert local_start.date() == reference + timedelta(weeks=2 * n)
        assert local_start.weekday() == 2 and local_start.time() == time(18, 30)
        assert meeting.ends.astimezone(PARIS).time() == time(20, 0)
        assert meeting.ends - meeting.starts == timedelta(minutes=90)
    # The same local hour is another UTC hour on each side of a clock change (a fixed interval would drift).
    assert {m.starts.utcoffset() for m in found} == {timedelta(hours=1), timedelta(hours=2)}
    assert {m.starts.astimezone(PARIS).strftime("%H:%M") for m in found} == {"18:30"}
    if reference.month == 12:
        assert any(m.day.year == 2027 for m in found) and any(m.day.year == 2026 for m in found)


async def test_no_meeting_before_the_reference(core: Core, clock: FakeClock) -> None:
    """The rhythm starts at the reference: the Wednesday two weeks earlier has no meeting."""
    await set_reference(core, date(2026, 12, 16))
    assert (await coming(core, live=1))[0].day == date(2026, 12, 16)
    async with core.store.transaction() as db:
        assert await calendar.live_on(db, PARIS, date(2026, 12, 2)) is None


async def test_cancel_move_and_add_change_the_coming_dates(core: Core) -> None:
    """Cancelled and moved dates stay listed as such; the moved and added meetings take place."""
    await set_reference(core, date(2026, 12, 2))
    await change(core, "cancel", "2026-12-02", reason="travaux")
    moved = await change(core, "move", "2026-12-16", new_day=date(2026, 12, 17), hours=(time(19), time(20, 30)))
    await change(core, "add", "2026-12-19", reason="fete de quartier")
    assert moved is not None and moved.moved_to is not None
    found = await coming(core, live=4)
    summary = [(m.day.isoformat(), m.live, m.starts.strftime("%H:%M")) for m in found]
    assert summary == [
        ("2026-12-02", False, "18:30"),
        ("2026-12-16", False, "18:30"),
        ("2026-12-17", True, "19:00"),
        ("2026-12-19", True, "18:30"),
        ("2026-12-30", True, "18:30"),
        ("2027-01-13", True, "18:30"),
    ]
    assert found[0].cancel_reason == "travaux"
    assert found[2].moved_from == date(2026, 12, 16) and found[3].extra and found[3].reason == "fete de quartier"
    # A moved meeting can be cancelled in its turn, by its new date.
    await change(core, "cancel", "2026-12-17", reason="malade")
    assert [m.day for m in await coming(core, live=1) if m.live] == [date(2026, 12, 19)]


@pytest.mark.parametrize(
    ("op", "day", "kwargs", "key"),
    [
        ("cancel", "2026-12-03", {"reason": "x"}, "volunteers.err_no_meeting"),  # a Thursday
        ("cancel", "2026-12-16", {"reason": "x"}, "volunteers.err_no_meeting"),  # already cancelled below
        ("cancel", "2026-11-18", {"reason": "x"}, "volunteers.err_no_meeting"),  # before the reference
        ("cancel", "2026-12-30", {"reason": " "}, "volunteers.err_reason"),
        ("move", "2026-12-30", {"new_day": date(2027, 1, 13)}, "volunteers.err_taken"),
        ("move", "2026-12-30", {"new_day": date(2026, 12, 30)}, "volunteers.err_same"),
        ("move", "2026-12-30", {"new_day": date(2026, 11, 20)}, "volunteers.err_past"),
        ("add", "2026-11-24", {}, "volunteers.err_past"),
        ("add", "2026-12-30", {}, "volunteers.err_taken"),
        ("reference", "2026-12-03", {}, "volunteers.err_not_wednesday"),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(
    core: Core, op: str, day: str, kwargs: dict[str, object], key: str
) -> None:
    """Not a meeting date, in the past, taken, no reason, not a Wednesday: a clear refusal, nothing written."""
    await set_reference(core, date(2026, 12, 2))
    await change(core, "cancel", "2026-12-16", reason="deja")
    before = [dict(r) for r in await core.store.fetchall("SELECT * FROM meeting_cancellations")]
    with pytest.raises(CalendarError) as refused:
        await change(core, op, day, **kwargs)
    assert refused.value.key == key
    assert core.i18n.t("fr", key, **refused.value.params)
    assert [dict(r) for r in await core.store.fetchall("SELECT * FROM meeting_cancellations")] == before
    assert await core.store.fetchall("SELECT * FROM meeting_extras") == []


async def test_a_started_meeting_cannot_be_cancelled(core: Core, clock: FakeClock) -> None:
    """Once 18:30 has come, the day's meeting is past for changes."""
    await set_reference(core, date(2026, 12, 2))
    clock.set(datetime(2026, 12, 2, 18, 45, tzinfo=PARIS))
    with pytest.raises(CalendarError) as refused:
        await change(core, "cancel", "2026-12-02", reason="trop tard")
    assert refused.value.key == "volunteers.err_past"


@pytest.mark.parametrize("text", ["2026-13-01", "2/12", "demain", "2026-2-3", "31/02/2026", ""])
def test_unparsable_dates_are_refused(text: str) -> None:
    """The command line takes a whole date with its year, YYYY-MM-DD or DD/MM/YYYY."""
    with pytest.raises(CalendarError) as refused:
        calendar.parse_day(text)
    assert refused.value.key == "volunteers.err_date"


def test_hours_are_read_as_staff_type_them() -> None:
    """19:00-20:30, 19h-20h30; an end before the start is refused."""
    assert calendar.parse_hours("19:00-20:30") == (time(19), time(20, 30))
    assert calendar.parse_hours("19h-20h30") == (time(19), time(20, 30))
    with pytest.raises(CalendarError):
        calendar.parse_hours("20:00-19:00")


async def get(core: Core, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=build_http_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        return await client.get(path)


async def test_the_ics_route_lists_the_coming_meetings(core: Core) -> None:
    """GET /permanence.ics: twelve meetings at 18:30 Europe/Paris, the cancelled one marked so, no personal data."""
    await set_reference(core, date(2026, 12, 2))
    await change(core, "cancel", "2026-12-16", reason="travaux")
    response = await get(core, "/permanence.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    parsed = Calendar.from_ical(response.content)
    events = list(parsed.walk("VEVENT"))
    confirmed = [e for e in events if str(e["STATUS"]) == "CONFIRMED"]
    cancelled = [e for e in events if str(e["STATUS"]) == "CANCELLED"]
    assert len(confirmed) == 12 and len(cancelled) == 1
    assert "travaux" in str(cancelled[0]["DESCRIPTION"])
    for event in confirmed:
        start = event.decoded("DTSTART")
        assert start.astimezone(PARIS).time() == time(18, 30) and start.astimezone(PARIS).weekday() == 2
        assert "Magasin général" in str(event["LOCATION"])
    assert list(parsed.walk("VTIMEZONE"))  # calendars get the zone's rules, not a fixed offset
    assert "TZID=Europe/Paris" in response.text
    for private in ("Lucie", "+336", "06 39"):
        assert private not in response.text


async def test_the_ics_route_with_no_date_is_an_empty_calendar(core: Core) -> None:
    """No reference date yet: a valid calendar with no event."""
    await core.store.execute("DELETE FROM meeting_reference")
    response = await get(core, "/permanence.ics")
    assert response.status_code == 200
    assert list(Calendar.from_ical(response.content).walk("VEVENT")) == []


class _Recorder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def hold(self, row: Row, now: datetime) -> Hold | None:
        return None

    async def tick(self, outbox: Outbox) -> None:
        return None


async def test_routers_add_http_routes_and_settings_aware_hooks(tmp_path: object, clock: FakeClock) -> None:
    """Router.route mounts an endpoint on the shared app; a configured outbox hook is built with the settings."""

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello " + request.app.state.core.settings.timezone)

    router = Router("example")
    router.route("/example", hello)
    made: list[_Recorder] = []

    def factory(store: Store, clock: object, settings: Settings) -> _Recorder:
        made.append(_Recorder(settings))
        return made[-1]

    router.configured_outbox_hook(factory)
    settings = make_settings(tmp_path, demo_data=False)  # type: ignore[arg-type]
    core = await build_core(settings, clock, routers=[router])
    try:
        assert made and made[0].settings is settings and made[0] in core.outbox.hooks
        response = await get(core, "/example")
        assert response.status_code == 200 and response.text == "hello Europe/Paris"
        assert (await get(core, "/nothing")).status_code == 404
    finally:
        await core.close()
