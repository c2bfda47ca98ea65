"""Shifts on the telephone menu: a worker hears their next shift, its day, hours and place."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date, format_time

from bot.people import Role
from bot.voice import Part, Spoken, VoiceCall, VoiceEntry
from handlers.shifts import model
from handlers.shifts.router import router

AHEAD = timedelta(days=31)  # the next shift within a month; further is "none planned"


async def next_shift(call: VoiceCall, area: int | None) -> Spoken:
    assert call.person is not None  # the entry's roles let only a worker through
    now = call.now()
    async with call.store.transaction() as db:
        found = await model.shifts_of_person(db, call.person.id, now, now + AHEAD)
    if not found:
        return Spoken((Part("shifts.voice.none"),))
    shift, _ = found[0]
    language = call.values_language
    return Spoken(
        (
            Part(
                "shifts.voice.next",
                {
                    "day": format_date(shift.local_date, "EEEE d MMMM", locale=language),
                    "start": format_time(shift.start_local, "H:mm", locale=language),
                    "end": format_time(shift.end_local, "H:mm", locale=language),
                    "activity": shift.activity,
                    "place": shift.place,
                },
            ),
        )
    )


router.voice(
    VoiceEntry(
        "shifts.next",
        "shifts.voice.menu.next",
        70,
        next_shift,
        words="shifts.voice.next",
        roles=frozenset({Role.WORKER.value}),
    )
)
