"""The volunteer meeting on the telephone menu: the next one that takes place, its day and hours."""

from __future__ import annotations

from babel.dates import format_date, format_time

from bot.dispatch import STAFF_ROLES
from bot.people import Role
from bot.voice import Part, Spoken, VoiceCall, VoiceEntry
from handlers.volunteers import calendar, router


async def next_meeting(call: VoiceCall, area: int | None) -> Spoken:
    async with call.store.transaction() as db:
        coming = await calendar.coming(db, call.settings.tz, call.now(), 1)
    meeting = next((m for m in coming if m.live), None)
    if meeting is None:
        return Spoken((Part("volunteers.voice.none"),))
    language = call.values_language
    return Spoken(
        (
            Part(
                "volunteers.voice.meeting",
                {
                    "day": format_date(meeting.day, "EEEE d MMMM", locale=language),
                    "start": format_time(meeting.starts.time(), "H:mm", locale=language),
                    "end": format_time(meeting.ends.time(), "H:mm", locale=language),
                },
            ),
        )
    )


router.voice(
    VoiceEntry(
        "volunteers.meeting",
        "volunteers.voice.menu.meeting",
        80,
        next_meeting,
        words="volunteers.voice.meeting",
        roles=frozenset({Role.VOLUNTEER.value}) | STAFF_ROLES,
    )
)
