"""Orientation on the telephone menu: the 115, the nearest showers, meals and care, and danger words.

The places are orientation's own selection (``near.around`` over ``places.eligible``) and
``places.status`` says whether each is open now; the SMS of addresses uses the text answers' lines.
"""

from __future__ import annotations

from bot.i18n import I18n
from bot.voice import Part, Spoken, VoiceCall, VoiceEntry, VoiceHandler
from handlers.orientation import answers, directory, near, places, router
from handlers.orientation.matching import matcher
from handlers.orientation.places import State

SHOWN = places.NEAREST  # the two or three nearest places


def danger(i18n: I18n, speech: str) -> bool:
    """The text channels' own crisis matcher, on what the caller said."""
    return bool(matcher(i18n).crisis(speech).kinds)


async def crisis(call: VoiceCall, area: int | None) -> Spoken:
    return Spoken((Part("orientation.voice.crisis"),))


async def shelter(call: VoiceCall, area: int | None) -> Spoken:
    """The 115 twice, slowly, then how to get through."""
    number = Part("orientation.voice.shelter", slow=True)
    return Spoken((number, number, Part("orientation.voice.shelter_persist")))


def _places(service: str, intro: tuple[Part, ...] = ()) -> VoiceHandler:
    async def answer(call: VoiceCall, area: int | None) -> Spoken:
        assert area is not None
        now = call.local_now()
        pool = places.eligible(await directory.current(call.store), service=service)
        found = near.around(pool, area, now, service, SHOWN, SHOWN)
        shown = [*found.local, *found.around][:SHOWN]
        if not shown:
            return Spoken((*intro, Part("orientation.voice.none")))
        parts = [*intro, Part("orientation.voice.places_intro")]
        for centre in shown:
            state = places.status(centre, now).state
            status = {State.OPEN: "open_now", State.UNKNOWN: "hours_unknown"}.get(state, "closed_now")
            parts += [
                Part("orientation.voice.place", {"name": centre.short_name, "address": centre.address}),
                Part(f"orientation.voice.{status}"),
            ]
        what = answers.service_label(call, service)
        lines = [call.t("orientation.list.what_in", what=what, arr=answers.arrondissement_label(call, area))]
        lines += [answers.item(call, centre, now, service) for centre in shown]
        return Spoken(tuple(parts), "\n".join(lines))

    return answer


ENTRIES = [
    VoiceEntry("orientation.crisis", None, 0, crisis, urgent=danger),
    VoiceEntry("orientation.sleep", "orientation.voice.menu.sleep", 10, shelter, words="orientation.voice.sleep"),
]
# (menu choice, service of the places, order, what is said before the places)
_PLACES = (
    ("shower", "shower", 20, ()),
    ("meal", "meal", 30, ()),
    ("doctor", "health", 40, (Part("orientation.voice.doctor_note"),)),
)
ENTRIES += [
    VoiceEntry(
        f"orientation.{name}",
        f"orientation.voice.menu.{name}",
        order,
        _places(service, intro),
        words=f"orientation.voice.{name}",
        area=True,
    )
    for name, service, order, intro in _PLACES
]

for _entry in ENTRIES:
    router.voice(_entry)
