"""``GET /permanence.ics``: the coming volunteer meetings as a calendar people can subscribe to.

Only public data: dates, hours, the place, and the reasons staff give for changes (shown to people
anyway). A cancelled meeting stays in the file with STATUS:CANCELLED, so a calendar that already
holds it crosses it out instead of keeping it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from starlette.requests import Request
from starlette.responses import Response

from bot.core import Core
from bot.i18n import I18n
from handlers.volunteers import calendar, texts
from handlers.volunteers.calendar import Meeting

MEETINGS = 12
KEPT_AFTER = timedelta(days=14)  # meetings just past stay, so a calendar does not lose them at once
UID_DOMAIN = "permanence.lesgrandsvoisins"


def build(meetings: list[Meeting], i18n: I18n, language: str, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Les Grands Voisins//Permanence benevole//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", i18n.t(language, "volunteers.ics_name"))
    for meeting in meetings:
        event = Event()
        event.add("uid", f"{meeting.key}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("dtstart", meeting.starts)
        event.add("dtend", meeting.ends)
        event.add("summary", i18n.t(language, "volunteers.ics_summary"))
        event.add("location", i18n.t(language, "volunteers.ics_location"))
        if meeting.cancelled:
            event.add("status", "CANCELLED")
            event.add("description", texts.change(i18n, language, meeting))
        else:
            event.add("status", "CONFIRMED")
            extra = texts.note(i18n, language, meeting).strip(" ,.()")
            if extra:
                event.add("description", extra)
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


async def endpoint(request: Request) -> Response:
    """The next twelve meetings that take place, with the changes among them, in the default language."""
    core: Core = request.app.state.core
    now = core.clock.now()
    tz = core.settings.tz
    found = await calendar.coming(core.store, tz, now - KEPT_AFTER, MEETINGS)
    language = core.i18n.default_language
    body = build(found, core.i18n, language, now)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="permanence.ics"', "Cache-Control": "max-age=300"},
    )
