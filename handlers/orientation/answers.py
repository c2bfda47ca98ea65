"""The orientation answers, built from the catalogs and the data: no text lives here.

Each builder takes a :class:`Speaker` (the handler's ``Context`` is one), so the SMS-size test can
render every answer in every language without a conversation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Protocol

from babel.numbers import format_decimal

from bot.i18n import I18n
from bot.messages import Choice, Reply
from bot.sms_text import paginate, render_reply
from handlers.orientation import places
from handlers.orientation.content import DayCentre, Landmark, references
from handlers.orientation.near import around
from handlers.orientation.places import State, Status

SITE_TOPICS = (
    "conciergerie",
    "canteen",
    "comptoirs",
    "maison_medecins",
    "maraude",
    "mobile_team",
    "housing_first",
    "trocshop",
    "volunteer",
)
MENU_SERVICES = ("shower", "meal", "laundry", "social", "any", "women")
WHERE_MODES = ("near", "arr", "all")
CRISIS_KINDS = ("medical", "violence", "child", "suicide", "danger")
FAR_KM = 30.0  # beyond this, the person is not in Paris: their own département's 115 knows better
SHORT_LIST = 3  # a Paris-wide list shows at most this many, and says how to narrow it: an SMS has little room


class Speaker(Protocol):
    """What an answer needs from a conversation: its language and its catalog."""

    language: str

    def t(self, key: str, **params: object) -> str: ...


def city_page() -> str:
    return references().city_page


# -- fixed answers ---------------------------------------------------------------------------


# The questions answered by one fixed text, by intent, to its catalog key (the city page is given to those
# that end with it): a bed tonight (115), someone outside, the emergency numbers, the cold (115 and the
# cold-weather plan), a pregnancy (PMI, the maternity, the PASS, and the 115), feeling unwell (the 15 and
# free care: never the Maison des médecins, which is not medical), the city's page, a meal on the site
# (the Cantine solidaire and the Comptoirs), where the site is, and thanks or ok (a short word, never the
# whole menu).
FIXED = {
    "shelter": "orientation.shelter",
    "street": "orientation.street",
    "emergency": "orientation.emergency",
    "cold": "orientation.cold",
    "pregnancy": "orientation.pregnancy",
    "unwell": "orientation.unwell",
    "city": "orientation.city",
    "site_meal": "orientation.site_meal",
    "site_address": "orientation.site_address",
    "thanks": "orientation.thanks",
}


def fixed(sp: Speaker, intent: str) -> Reply:
    """One of the FIXED answers."""
    return Reply(sp.t(FIXED[intent], url=city_page()))


def care(sp: Speaker) -> Reply:
    """Before a list of places for care: the 15 for an emergency, and free care without health cover."""
    return Reply(sp.t("orientation.care"))


def help_me(sp: Speaker, menu: Sequence[Choice]) -> Reply:
    """A plea for help: the numbers first, then the main menu's choices."""
    return Reply(sp.t("orientation.help"), tuple(menu))


def welcome(sp: Speaker, menu: Sequence[Choice]) -> Reply:
    return Reply(sp.t("orientation.welcome"), tuple(menu))


# The questions answered with the main menu's choices after a text.
WITH_MENU: dict[str, Callable[[Speaker, Sequence[Choice]], Reply]] = {"help": help_me, "greeting": welcome}


def crisis(sp: Speaker, kinds: Sequence[str], i18n: I18n) -> Reply:
    """The numbers come first: each kind's text starts with them.

    A text still marked for review is followed by the default language's: whoever reads it beside
    the person, or the person themself, has a sentence written by a speaker, with the same digits.
    """
    keys = [f"orientation.crisis.{kind}" for kind in kinds]
    texts = [sp.t(key) for key in keys]
    if sp.language != i18n.default_language and any(i18n.needs_review(sp.language, key) for key in keys):
        texts.extend(i18n.t(i18n.default_language, key) for key in keys)
    return Reply("\n".join(texts))


def site_menu(sp: Speaker) -> Reply:
    choices = tuple(
        Choice(f"orientation.topic:{topic}", sp.t(f"orientation.site.label.{topic}")) for topic in SITE_TOPICS
    )
    return Reply(sp.t("orientation.site.menu"), choices)


def topic(sp: Speaker, name: str) -> Reply:
    return Reply(sp.t(f"orientation.site.{name}"))


# -- the day-centre menus ----------------------------------------------------------------------


def service_label(sp: Speaker, service: str | None, women: bool = False) -> str:
    """The title of a list; the places themselves say whom they are for (women only, ages)."""
    if service is not None:
        return sp.t(f"orientation.service.{service}")
    return sp.t("orientation.service.women" if women else "orientation.service.any")


def choose_service(sp: Speaker) -> Reply:
    choices = tuple(Choice(f"orientation.service:{key}", sp.t(f"orientation.service.{key}")) for key in MENU_SERVICES)
    return Reply(sp.t("orientation.choose_service"), choices)


def choose_where(sp: Speaker, key: str) -> Reply:
    """``key`` is a MENU_SERVICES entry; it travels in the choice so an old button still works."""
    choices = tuple(
        Choice(f"orientation.where:{mode}:{key}", sp.t(f"orientation.where.{mode}")) for mode in WHERE_MODES
    )
    return Reply(sp.t("orientation.choose_where", what=sp.t(f"orientation.service.{key}")), choices)


def ask_location(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.ask_location"))


def ask_arrondissement(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.ask_arrondissement"))


def bad_arrondissement(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.bad_arrondissement"))


# -- lists of places -------------------------------------------------------------------------

# "Accueils de jour" (no service named) are these kinds, and the places for the person's own public.
DAY_KINDS = frozenset({"esi", "day_centre"})
LOCAL_MAX = 3  # places of the arrondissement asked for; the neighbours' follow
AROUND = 2  # neighbours' places after the arrondissement's own
ALL_MAX = 8  # the "all places" menu choice: a list, not the whole file, for a basic phone
NEAREST = places.NEAREST  # places near a station or a position
# Candidates beyond those shown: one may stand in for a place whose line would leave the city page
# alone on the last SMS page.
SPARE = 2


def arrondissement_label(sp: Speaker, number: int) -> str:
    return sp.t("orientation.arr_first") if number == 1 else sp.t("orientation.arr", n=number)


def _time(sp: Speaker, at: time) -> str:
    if at.minute:
        return sp.t("orientation.time.hour_min", h=at.hour, m=at.minute)
    return sp.t("orientation.time.hour", h=at.hour)


def status_text(sp: Speaker, status: Status, phone: bool = True) -> str:
    """Open until, opens at, closed; unknown hours say to call, or to check when there is no number."""
    if status.state is State.OPEN:
        if status.at is None:
            return sp.t("places.hours.always")
        return sp.t("orientation.hours.open_until", time=_time(sp, status.at))
    if status.state is State.OPENS_TODAY and status.at is not None:
        return sp.t("orientation.hours.opens_today", time=_time(sp, status.at))
    if status.state is State.OPENS_LATER and status.at is not None:
        return sp.t(
            "orientation.hours.opens_later", day=sp.t(f"orientation.day.{status.weekday}"), time=_time(sp, status.at)
        )
    if status.state is State.CLOSED:
        return sp.t("orientation.hours.closed")
    return sp.t("orientation.hours.unknown") if phone else sp.t("places.hours.to_check")


def distance_text(sp: Speaker, km: float) -> str:
    if km < 1:
        return sp.t("orientation.distance.m", m=max(100, round(km * 10) * 100))
    return sp.t("orientation.distance.km", km=format_decimal(km, format="0.0", locale=sp.language))


def display_name(sp: Speaker, centre: DayCentre) -> str:
    """Places for a given public say so (women only, families, young with the age range when known)."""
    if centre.women_only:
        return sp.t("orientation.public.women", name=centre.short_name)
    if centre.families_only:
        return sp.t("places.public.families", name=centre.short_name)
    if centre.young_only and centre.age_min is not None and centre.age_max is not None:
        return sp.t("orientation.public.young_range", name=centre.short_name, min=centre.age_min, max=centre.age_max)
    if centre.young_only:
        return sp.t("orientation.public.young", name=centre.short_name)
    return centre.short_name


def meals_text(sp: Speaker, centre: DayCentre) -> str:
    """Breakfast, midday, evening, in the order of the day: what a meal list says of each place."""
    names = {
        "breakfast": sp.t("places.meal.breakfast"),
        "midday": sp.t("places.meal.midday"),
        "evening": sp.t("places.meal.evening"),
    }
    return sp.t("places.list_separator").join(names[meal] for meal in names if meal in centre.meals)


def item(sp: Speaker, centre: DayCentre, now: datetime, service: str | None, km: float | None = None) -> str:
    """One line: name, address, phone when known, and whether it is open (by appointment, which meals)."""
    name = display_name(sp, centre)
    if km is not None:
        name = sp.t("orientation.list.near_name", name=name, distance=distance_text(sp, km))
    state = status_text(sp, places.status(centre, now), phone=centre.phone is not None)
    if service is not None and service in centre.appointment:
        state = sp.t("orientation.list.by_appointment", status=state)
    if service == "meal" and centre.meals:
        state = sp.t("places.meals", status=state, meals=meals_text(sp, centre))
    if centre.phone is None:
        return sp.t("places.item_no_phone", name=name, address=centre.address, postcode=centre.postcode, status=state)
    return sp.t(
        "orientation.list.item",
        name=name,
        address=centre.address,
        postcode=centre.postcode,
        phone=centre.phone.replace(" ", ""),  # a number without spaces is callable on every phone
        status=state,
    )


def _header(sp: Speaker, what: str, shown: Sequence[DayCentre]) -> str:
    """Dated with the month the oldest record shown was checked, and "to check" while any is unconfirmed."""
    year, month = min(c.verified for c in shown)
    date = sp.t("orientation.date", month=month, year=year)
    if any(c.to_check for c in shown):
        return sp.t("places.header", what=what, date=date)
    return sp.t("places.header_checked", what=what, date=date)


def nothing(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.list.none", url=city_page()))


def _pool(shown: Sequence[DayCentre], service: str | None, person: places.Asker) -> list[DayCentre]:
    """The places a list may show: those offering ``service``; with none named, the day centres and
    the places for the person's own public (a family's PASS for children, a young people's point)."""
    pool = places.eligible(shown, service=service, person=person)
    if service is None:
        pool = [c for c in pool if c.kind in DAY_KINDS or c.public != "everyone"]
    return pool


def _reads_well_by_sms(sp: Speaker, text: str, after: Sequence[Reply] = ()) -> bool:
    """Paged for SMS, the first page shows a place and the last one is not the city page alone.

    ``after`` are the replies sent before the list in the same answer: one SMS body with it.
    """
    body = "\n\n".join([*(render_reply(reply) for reply in after), render_reply(Reply(text))])
    pages = paginate(body, sp.t("core.more"))
    return len(pages) == 1 or ((bool(after) or _has_a_place(pages[0])) and _has_a_place(pages[-1]))


def _has_a_place(page: str) -> bool:
    return any(line.startswith("- ") for line in page.split("\n"))


@dataclass
class _List:
    """A list being written: its title, one line per candidate place (at most ``limit`` are shown),
    and how many of ``others`` are not shown, said under the title (early: the last SMS page needs
    its room for a place beside the city page)."""

    sp: Speaker
    now: datetime
    service: str | None
    title: str
    blocks: list[tuple[str, DayCentre]] = field(default_factory=list)
    limit: int = SHORT_LIST
    note: str | None = None
    others: Sequence[DayCentre] = ()  # the places the "+N more" line counts when they are not shown
    after: Sequence[Reply] = ()  # the replies before the list in the same answer
    local: bool = False  # the left-out places are the arrondissement's: name a landmark to narrow
    arrondissement: int | None = None
    title_around: str = ""  # the title when places of other arrondissements are shown too

    def add(self, centres: Iterable[DayCentre], km: Sequence[float] = ()) -> None:
        for index, centre in enumerate(centres):
            distance = km[index] if index < len(km) else None
            self.blocks.append((item(self.sp, centre, self.now, self.service, distance), centre))

    def _more(self, hidden: int) -> str:
        if self.local:
            return self.sp.t("places.more_local", count=hidden)
        return self.sp.t("orientation.list.more", count=hidden)

    def _text(self, blocks: Sequence[tuple[str, DayCentre]]) -> str:
        shown = [centre for _, centre in blocks]
        beyond = any(c.arrondissement != self.arrondissement for c in shown)
        lines = [_header(self.sp, self.title_around if self.title_around and beyond else self.title, shown)]
        if self.service is None and any(c.women_only for c in shown):
            lines.append(self.sp.t("orientation.list.women_note"))
        if self.note:
            lines.append(self.note)
        keys = {c.key for c in shown}
        hidden = sum(c.key not in keys for c in self.others)
        if hidden:
            lines.append(self._more(hidden))
        lines.extend(line for line, _ in blocks)
        lines.append(self.sp.t("orientation.list.footer", url=city_page()))
        return "\n".join(lines)

    def reply(self) -> Reply:
        """Every list ends the same way, 115 and the city page (a women's list starts with 3919), and
        the city page is never alone on the last SMS page: the last places go with it. The SMS pager
        fills each page in turn, so the list keeps as many of the first places as can fall right,
        with later candidates standing in after them where the lines need it."""
        blocks, limit = self.blocks, min(self.limit, len(self.blocks))
        for first in range(limit, 0, -1):
            later = blocks[first + 1 :]  # blocks[first] is left out, or ``first + 1`` would have been kept
            for extra in range(limit - first, -1, -1):
                for chosen in itertools.combinations(later, extra):
                    text = self._text([*blocks[:first], *chosen])
                    if _reads_well_by_sms(self.sp, text, self.after):
                        return Reply(text)
        return Reply(self._text(blocks[:limit]))


def centre_list(
    sp: Speaker,
    now: datetime,
    shown: Sequence[DayCentre],
    *,
    service: str | None = None,
    arrondissement: int | None = None,
    landmark: Landmark | None = None,
    women: bool = False,
    young: bool = False,
    person: places.Asker | None = None,
    everything: bool = False,
    after: Sequence[Reply] = (),
) -> Reply:
    """The places for a service: in an arrondissement and then next to it, or nearest a landmark, or
    Paris-wide (the first SHORT_LIST, or ALL_MAX when ``everything`` was asked for); open ones first.

    ``after``: the replies the list follows in the same answer (its SMS pages are laid out with them).
    """
    person = person or places.Asker(women=women, young=young)
    pool = _pool(shown, service, person)
    if not pool:
        return nothing(sp)
    what = service_label(sp, service, person.women)
    if landmark is not None:
        ranked = places.nearest(pool, landmark.latitude, landmark.longitude, NEAREST + SPARE, service=service, now=now)
        near = _List(
            sp, now, service, sp.t("places.what_near", what=what, place=landmark.name), limit=NEAREST, after=after
        )
        near.add([c for c, _ in ranked], km=[km for _, km in ranked])
        return near.reply()
    if arrondissement is not None:
        where = arrondissement_label(sp, arrondissement)
        found = around(pool, arrondissement, now, service, AROUND + SPARE, NEAREST + SPARE)
        listed = _List(
            sp, now, service, sp.t("orientation.list.what_in", what=what, arr=where), after=after, local=True
        )
        listed.arrondissement = arrondissement
        if found.local:
            listed.title_around = sp.t("places.what_around", what=what, arr=where)
            local = found.local[:LOCAL_MAX]
            listed.add(places.tonight_first([*local, *found.around], service, now))
            listed.limit, listed.others = LOCAL_MAX + AROUND, found.local
        else:
            listed.note = sp.t("orientation.list.none_in_arr", arr=where)
            listed.add(found.around)
            listed.limit = NEAREST
        return listed.reply()
    shown = places.by_status(pool, now, service)
    size = ALL_MAX if everything else SHORT_LIST
    paris = _List(sp, now, service, what, limit=size, others=shown, after=after)
    paris.add(shown[: size + SPARE])
    return paris.reply()


def nearest_list(
    sp: Speaker,
    now: datetime,
    shown: Sequence[DayCentre],
    latitude: float,
    longitude: float,
    *,
    service: str | None = None,
    women: bool = False,
    person: places.Asker | None = None,
) -> Reply:
    """The three closest places to a shared position; women-only places only when asked for."""
    person = person or places.Asker(women=women)
    ranked = places.nearest(
        _pool(shown, service, person), latitude, longitude, NEAREST + SPARE, service=service, now=now
    )
    if not ranked:
        return nothing(sp)
    what = sp.t("orientation.list.what_near", what=service_label(sp, service, person.women))
    near = _List(sp, now, service, what, limit=NEAREST)
    if ranked[0][1] > FAR_KM:
        near.note = sp.t("orientation.list.far")
    near.add([c for c, _ in ranked], km=[km for _, km in ranked])
    return near.reply()
