"""The team's hours (``data/handoff/hours.yaml``): when someone who asks for a person will be answered.

The hours are data the staff edit. Whether the team is there now and when it is back, public
holidays included, come from the OpenStreetMap ``opening_hours`` library (``Mo,Tu,We,Th,Fr
09:00-18:00; PH off``), not from a calendar loop of ours. Day names come from Babel; the way an hour
is written ("9h", "9:00") from the catalogs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, get_day_names
from opening_hours import OpeningHours

from bot.i18n import I18n

HOURS_FILE = Path(__file__).resolve().parents[2] / "data" / "handoff" / "hours.yaml"
DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# Beyond this many days ahead, the day is said with its date ("lundi 4 janvier"), not its name alone.
NAMED_DAYS = 6


class HoursError(ValueError):
    """A wrong hours file: the bot refuses to start, naming what is wrong."""


@dataclass(frozen=True)
class TeamHours:
    days: tuple[int, ...]  # weekdays, 0 is Monday
    opens: time
    closes: time
    holidays: str | None  # a country code: closed on its public holidays
    answer_within: int  # hours, while the team is there

    @property
    def expression(self) -> str:
        """The hours in OpenStreetMap's opening_hours format."""
        days = ",".join(DAYS[day].title() for day in self.days)
        rule = f"{days} {self.opens:%H:%M}-{self.closes:%H:%M}"
        return f"{rule}; PH off" if self.holidays else rule

    def next_opening(self, at: datetime, tz: ZoneInfo) -> datetime | None:
        """When the team is next there, in ``tz``; None when it is there now."""
        schedule = _schedule(self.expression, tz.key, self.holidays)
        local = at.astimezone(tz)
        if schedule.is_open(local):
            return None
        found = schedule.next_change(local)
        return found.astimezone(tz) if found is not None else None


@cache
def _schedule(expression: str, zone: str, country: str | None) -> OpeningHours:
    return OpeningHours(expression, timezone=ZoneInfo(zone), country=country)


def _clock(raw: object, name: str) -> time:
    match = _CLOCK.match(str(raw))
    if match is None:
        raise HoursError(f"{HOURS_FILE.name}: {name} must be HH:MM, not {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


@cache
def team_hours(path: Path = HOURS_FILE) -> TeamHours:
    """The hours file, read and checked once."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise HoursError(f"{path.name}: expected days, opens, closes, holidays and answer_within_hours")
    days = raw.get("days")
    if not isinstance(days, list) or not days or any(str(day).lower() not in DAYS for day in days):
        raise HoursError(f"{path.name}: days must list some of {', '.join(DAYS)}")
    opens, closes = _clock(raw.get("opens"), "opens"), _clock(raw.get("closes"), "closes")
    if closes <= opens:
        raise HoursError(f"{path.name}: closes must come after opens")
    within = raw.get("answer_within_hours")
    if not isinstance(within, int) or isinstance(within, bool) or not 1 <= within <= 72:
        raise HoursError(f"{path.name}: answer_within_hours must be a number of hours from 1 to 72")
    holidays = raw.get("holidays")
    return TeamHours(
        days=tuple(sorted({DAYS.index(str(day).lower()) for day in days})),
        opens=opens,
        closes=closes,
        holidays=str(holidays).upper() if holidays else None,
        answer_within=within,
    )


# -- how the hours are said ---------------------------------------------------------------------


def _locale(i18n: I18n, language: str) -> str:
    """A language Babel does not know (a catalog of ours only) is dated in the default language."""
    try:
        Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return i18n.default_language
    return language


def clock(i18n: I18n, language: str, at: time) -> str:
    """ "9h", "9h30" ("9:00", "9:30" in English): as the catalog writes an hour."""
    if at.minute:
        return i18n.t(language, "handoff.clock_minutes", hour=at.hour, minute=at.minute)
    return i18n.t(language, "handoff.clock", hour=at.hour)


def days_text(i18n: I18n, language: str, days: tuple[int, ...]) -> str:
    """ "lun-ven", "lun-mer, ven": runs of days one after the other joined by a dash."""
    names = get_day_names("abbreviated", locale=_locale(i18n, language))
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    shown = [names[run[0]].rstrip(".") + ("" if len(run) == 1 else "-" + names[run[-1]].rstrip(".")) for run in runs]
    return ", ".join(shown)


def hours_text(i18n: I18n, language: str, hours: TeamHours) -> str:
    """ "lun-ven 9h-18h"."""
    return i18n.t(
        language,
        "handoff.hours",
        days=days_text(i18n, language, hours.days),
        opens=clock(i18n, language, hours.opens),
        closes=clock(i18n, language, hours.closes),
    )


def _moment(i18n: I18n, language: str, at: datetime, today: datetime) -> str:
    """ "aujourd'hui à partir de 14h", "demain à partir de 9h", "lundi 4 janvier à partir de 9h"."""
    ahead = (at.date() - today.date()).days
    hour = clock(i18n, language, at.time())
    if ahead <= 0:
        return i18n.t(language, "handoff.today", time=hour)
    if ahead == 1:
        return i18n.t(language, "handoff.tomorrow", time=hour)
    pattern = "EEEE" if ahead <= NAMED_DAYS else "EEEE d MMMM"
    return i18n.t(language, "handoff.on_day", day=format_date(at, pattern, locale=_locale(i18n, language)), time=hour)


def when_answered(i18n: I18n, language: str, now: datetime, tz: ZoneInfo, hours: TeamHours | None = None) -> str:
    """When a person will answer: "en général sous 4 h (lun-ven 9h-18h)", or "lundi à partir de 9h (...)"."""
    hours = hours or team_hours()
    shown = hours_text(i18n, language, hours)
    opening = hours.next_opening(now, tz)
    if opening is None:
        return i18n.t(language, "handoff.when_open", within=hours.answer_within, hours=shown)
    return i18n.t(language, "handoff.when_closed", at=_moment(i18n, language, opening, now.astimezone(tz)), hours=shown)
