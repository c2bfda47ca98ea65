"""The orientation answers, built from the catalogs and the data: no text lives here.

Each builder takes a :class:`Speaker` (the handler's ``Context`` is one), so the SMS-size test can
render every answer in every language without a conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Protocol

from babel.numbers import format_decimal

from bot.messages import Choice, Reply
from handlers.orientation import places
from handlers.orientation.content import DayCentre, centres, references
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
CRISIS_KINDS = ("medical", "violence", "suicide", "danger")
FAR_KM = 30.0  # beyond this, the person is not in Paris: their own département's 115 knows better
SHORT_LIST = 2  # a Paris-wide list shows this many, and says how to narrow it: an SMS has little room


class Speaker(Protocol):
    """What an answer needs from a conversation: its language and its catalog."""

    language: str

    def t(self, key: str, **params: object) -> str: ...


def city_page() -> str:
    return references().city_page


# -- fixed answers ---------------------------------------------------------------------------


def shelter(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.shelter", url=city_page()))


def street(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.street", url=city_page()))


def emergency(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.emergency"))


def crisis(sp: Speaker, kinds: Sequence[str]) -> Reply:
    """The numbers come first: each kind's text starts with them."""
    return Reply("\n".join(sp.t(f"orientation.crisis.{kind}") for kind in kinds))


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


def arrondissement_label(sp: Speaker, number: int) -> str:
    return sp.t("orientation.arr_first") if number == 1 else sp.t("orientation.arr", n=number)


def _time(sp: Speaker, at: time) -> str:
    if at.minute:
        return sp.t("orientation.time.hour_min", h=at.hour, m=at.minute)
    return sp.t("orientation.time.hour", h=at.hour)


def status_text(sp: Speaker, status: Status) -> str:
    if status.state is State.OPEN and status.at is not None:
        return sp.t("orientation.hours.open_until", time=_time(sp, status.at))
    if status.state is State.OPENS_TODAY and status.at is not None:
        return sp.t("orientation.hours.opens_today", time=_time(sp, status.at))
    if status.state is State.OPENS_LATER and status.at is not None:
        return sp.t(
            "orientation.hours.opens_later", day=sp.t(f"orientation.day.{status.weekday}"), time=_time(sp, status.at)
        )
    if status.state is State.CLOSED:
        return sp.t("orientation.hours.closed")
    return sp.t("orientation.hours.unknown")


def distance_text(sp: Speaker, km: float) -> str:
    if km < 1:
        return sp.t("orientation.distance.m", m=max(100, round(km * 10) * 100))
    return sp.t("orientation.distance.km", km=format_decimal(km, format="0.0", locale=sp.language))


def display_name(sp: Speaker, centre: DayCentre) -> str:
    """Women-only and young people's places say so, with the age range when it is known."""
    if centre.women_only:
        return sp.t("orientation.public.women", name=centre.short_name)
    if centre.young_only and centre.age_min is not None and centre.age_max is not None:
        return sp.t("orientation.public.young_range", name=centre.short_name, min=centre.age_min, max=centre.age_max)
    if centre.young_only:
        return sp.t("orientation.public.young", name=centre.short_name)
    return centre.short_name


def item(sp: Speaker, centre: DayCentre, now: datetime, service: str | None, km: float | None = None) -> str:
    name = display_name(sp, centre)
    if km is not None:
        name = sp.t("orientation.list.near_name", name=name, distance=distance_text(sp, km))
    state = status_text(sp, places.status(centre, now))
    if service is not None and service in centre.appointment:
        state = sp.t("orientation.list.by_appointment", status=state)
    return sp.t(
        "orientation.list.item",
        name=name,
        address=centre.address,
        postcode=centre.postcode,
        phone=centre.phone.replace(" ", ""),  # a number without spaces is callable on every phone
        status=state,
    )


def _header(sp: Speaker, what: str, shown: Sequence[DayCentre]) -> str:
    """Dated with the oldest record shown, and "to be checked" while any is unconfirmed."""
    year, month = min(c.verified for c in shown)
    date = sp.t("orientation.date", month=month, year=year)
    if any(c.to_check for c in shown):
        return sp.t("orientation.list.header", what=what, date=date)
    return sp.t("orientation.list.header_checked", what=what, date=date)


def _close(sp: Speaker, lines: list[str], shown: Sequence[DayCentre], service: str | None) -> Reply:
    """Every list ends the same way: 115 and the city page; the list of women's places adds 3919."""
    if service is None and any(c.women_only for c in shown):
        lines.append(sp.t("orientation.list.women_note"))
    lines.append(sp.t("orientation.list.footer", url=city_page()))
    return Reply("\n".join(lines))


def nothing(sp: Speaker) -> Reply:
    return Reply(sp.t("orientation.list.none", url=city_page()))


def centre_list(
    sp: Speaker,
    now: datetime,
    *,
    service: str | None = None,
    arrondissement: int | None = None,
    women: bool = False,
    young: bool = False,
    everything: bool = False,
) -> Reply:
    """The places for a service, in an arrondissement when one is named, open ones first.

    Without an arrondissement, only the first SHORT_LIST unless ``everything`` was asked for.
    """
    pool = places.eligible(centres().centres, service=service, women=women, young=young)
    if not pool:
        return nothing(sp)
    what = service_label(sp, service, women)
    note = None
    more = 0
    if arrondissement is None:
        shown = places.by_status(pool, now)
        if not everything and len(shown) > SHORT_LIST:
            more = len(shown) - SHORT_LIST
            shown = shown[:SHORT_LIST]
    else:
        where = arrondissement_label(sp, arrondissement)
        what = sp.t("orientation.list.what_in", what=what, arr=where)
        shown = places.by_status(places.in_arrondissement(pool, arrondissement), now)
        if not shown:
            latitude, longitude = references().arrondissements[arrondissement]
            shown = [c for c, _ in places.nearest(pool, latitude, longitude)]
            note = sp.t("orientation.list.none_in_arr", arr=where)
    lines = [_header(sp, what, shown)]
    if note:
        lines.append(note)
    lines.extend(item(sp, c, now, service) for c in shown)
    if more:
        lines.append(sp.t("orientation.list.more", count=more))
    return _close(sp, lines, shown, service)


def nearest_list(
    sp: Speaker,
    now: datetime,
    latitude: float,
    longitude: float,
    *,
    service: str | None = None,
    women: bool = False,
) -> Reply:
    """The three closest places to a shared position; women-only places only when asked for."""
    pool = places.eligible(centres().centres, service=service, women=women)
    ranked = places.nearest(pool, latitude, longitude)
    if not ranked:
        return nothing(sp)
    what = sp.t("orientation.list.what_near", what=service_label(sp, service, women))
    lines = [_header(sp, what, [c for c, _ in ranked])]
    if ranked[0][1] > FAR_KM:
        lines.append(sp.t("orientation.list.far"))
    lines.extend(item(sp, c, now, service, km) for c, km in ranked)
    return _close(sp, lines, [c for c, _ in ranked], service)
