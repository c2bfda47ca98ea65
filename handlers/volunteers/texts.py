"""How a meeting is said, in a person's language: the same words in answers, reminders and the staff's lists."""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_date

from bot.i18n import I18n
from handlers.volunteers import calendar
from handlers.volunteers.calendar import CalendarError, Meeting

ICS_PATH = "/permanence.ics"


def day_text(day: date, language: str) -> str:
    """ "mercredi 2 décembre", "Wednesday 2 December"."""
    return format_date(day, "EEEE d MMMM", locale=language)


def full_day_text(day: date, language: str) -> str:
    """ "mercredi 2 décembre 2026": a date inside a sentence to staff, who may mean another year."""
    return format_date(day, "EEEE d MMMM y", locale=language)


def error_text(i18n: I18n, language: str, error: CalendarError) -> str:
    """A refusal in ``language``, its dates written as people read them."""
    params = {k: full_day_text(v, language) if isinstance(v, date) else v for k, v in error.params.items()}
    return i18n.t(language, error.key, **params)


def clock_text(i18n: I18n, language: str, at: time) -> str:
    """ "18h30", "18:30": as the catalog writes an hour (``volunteers.clock``), not Babel's "6:30 PM"."""
    return i18n.t(language, "volunteers.clock", hour=at.hour, minute=at.minute)


def _span(i18n: I18n, language: str, starts: time, ends: time) -> str:
    return f"{clock_text(i18n, language, starts)}-{clock_text(i18n, language, ends)}"


def hours_text(i18n: I18n, language: str, meeting: Meeting) -> str:
    return _span(i18n, language, meeting.starts.time(), meeting.ends.time())


def rule(i18n: I18n, language: str) -> str:
    """The rhythm as the site's own text says it: known before staff set any date, so always said."""
    return i18n.t(
        language,
        "volunteers.rule",
        hours=rule_hours(i18n, language),
        place=i18n.t(language, "volunteers.place"),
    )


def rule_hours(i18n: I18n, language: str) -> str:
    return _span(i18n, language, calendar.STARTS, calendar.ENDS)


def when(i18n: I18n, language: str, meeting: Meeting) -> str:
    return f"{day_text(meeting.day, language)}, {hours_text(i18n, language, meeting)}"


def _reason(i18n: I18n, language: str, reason: str | None) -> str:
    return i18n.t(language, "volunteers.reason", reason=reason) if reason else ""


def note(i18n: I18n, language: str, meeting: Meeting) -> str:
    """What is unusual about a meeting that takes place: an extra one, or one moved here."""
    if meeting.moved_from is not None:
        return i18n.t(
            language,
            "volunteers.note_moved_here",
            day=day_text(meeting.moved_from, language),
            reason=_reason(i18n, language, meeting.reason),
        )
    if meeting.extra:
        return i18n.t(language, "volunteers.note_extra", reason=_reason(i18n, language, meeting.reason))
    return ""


def change(i18n: I18n, language: str, meeting: Meeting) -> str:
    """A cancelled meeting, said as people need it: cancelled, or moved to when."""
    reason = _reason(i18n, language, meeting.cancel_reason)
    if meeting.moved_to is not None:
        return i18n.t(
            language,
            "volunteers.moved",
            day=day_text(meeting.day, language),
            when=when(i18n, language, meeting.moved_to),
            reason=reason,
        )
    return i18n.t(language, "volunteers.cancelled", day=day_text(meeting.day, language), reason=reason)


def later_text(i18n: I18n, language: str, meeting: Meeting) -> str:
    """A date after the next one: its day, and its hours only when they are not the rule's."""
    usual = (meeting.starts.time(), meeting.ends.time()) == (calendar.STARTS, calendar.ENDS)
    head = day_text(meeting.day, language) if usual else when(i18n, language, meeting)
    return head + note(i18n, language, meeting)


def next_meeting(i18n: I18n, language: str, found: list[Meeting], public_url: str | None, now: datetime) -> str:
    """The answer to "prochaine permanence": the rule and the next date, the changes people must know, the dates after.

    Without dates (staff have set no reference yet) the rule still answers, and says the dates will follow.
    """
    live = [m for m in found if m.live]
    shown = {m.key for m in live}
    # A move to a date listed here is said by that meeting's own note ("moved from Wednesday 2").
    changes = [
        change(i18n, language, m)
        for m in found
        if m.cancelled and not (m.moved_to is not None and m.moved_to.key in shown)
    ]
    if not live:
        return "\n".join([rule(i18n, language), *changes, i18n.t(language, "volunteers.dates_unset")])
    first, later = live[0], live[1:]
    key = "volunteers.now_on" if first.starts <= now else "volunteers.next"
    # The rule and the next date first: by SMS they are on the first page, whatever follows.
    lines = [
        rule(i18n, language),
        i18n.t(language, key, when=when(i18n, language, first), note=note(i18n, language, first)),
    ]
    lines += changes
    dates = ", ".join(later_text(i18n, language, m) for m in later)
    tail = [i18n.t(language, "volunteers.later", dates=dates)] if later else []
    if public_url:  # on the same line as text, so a page of SMS is never the address alone
        tail.append(i18n.t(language, "volunteers.ics", url=public_url + ICS_PATH))
    if tail:
        lines.append(" ".join(tail))
    return "\n".join(lines)


def staff_line(i18n: I18n, language: str, meeting: Meeting) -> str:
    """One line of the staff's list: the date as typed in commands, then what happens."""
    head = f"{meeting.day.isoformat()} {hours_text(i18n, language, meeting)}"
    if meeting.cancelled:
        reason = _reason(i18n, language, meeting.cancel_reason)
        if meeting.moved_to is not None:
            target = f"{meeting.moved_to.day.isoformat()} {hours_text(i18n, language, meeting.moved_to)}"
            return f"{head} {i18n.t(language, 'volunteers.staff_moved', to=target, reason=reason)}"
        return f"{head} {i18n.t(language, 'volunteers.staff_cancelled', reason=reason)}"
    extra = note(i18n, language, meeting)
    return f"{head}{extra}"


def dropped_text(i18n: I18n, language: str, meeting: Meeting) -> str:
    """One staff change a new reference drops, as the preview names it ("le déplacement du mercredi 23 décembre")."""
    day = day_text(meeting.day, language)
    if meeting.moved_to is not None:
        return i18n.t(language, "volunteers.dropped_move", day=day, to=day_text(meeting.moved_to.day, language))
    if meeting.cancelled:
        return i18n.t(language, "volunteers.dropped_cancel", day=day)
    if meeting.moved_from is not None:
        return i18n.t(language, "volunteers.dropped_moved_here", day=day)
    return i18n.t(language, "volunteers.dropped_extra", day=day)


def dates_text(i18n: I18n, language: str, meetings: list[Meeting]) -> str:
    """ "mercredi 2 décembre, mercredi 16 décembre": the days, with hours only where they are not the rule's."""
    usual = (calendar.STARTS, calendar.ENDS)
    return ", ".join(
        day_text(m.day, language) if (m.starts.time(), m.ends.time()) == usual else when(i18n, language, m)
        for m in meetings
    )
