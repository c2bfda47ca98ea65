"""How a meeting is said, in a person's language: the same words in answers, reminders and the staff's lists."""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_date

from bot.i18n import I18n
from handlers.volunteers.calendar import Meeting

ICS_PATH = "/permanence.ics"


def day_text(day: date, language: str) -> str:
    """ "mercredi 2 décembre", "Wednesday 2 December"."""
    return format_date(day, "EEEE d MMMM", locale=language)


def clock_text(i18n: I18n, language: str, at: time) -> str:
    """ "18h30", "18:30": as the catalog writes an hour (``volunteers.clock``), not Babel's "6:30 PM"."""
    return i18n.t(language, "volunteers.clock", hour=at.hour, minute=at.minute)


def hours_text(i18n: I18n, language: str, meeting: Meeting) -> str:
    start, end = (clock_text(i18n, language, at.time()) for at in (meeting.starts, meeting.ends))
    return f"{start}-{end}"


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


def next_meeting(i18n: I18n, language: str, found: list[Meeting], public_url: str | None, now: datetime) -> str:
    """The answer to "prochaine permanence": the changes people must know, then the next one that takes place."""
    live = next((m for m in found if m.live), None)
    # A move to the next meeting is said by that meeting's own note ("moved from Wednesday 2").
    lines = [
        change(i18n, language, m)
        for m in found
        if m.cancelled and not (live is not None and m.moved_to is not None and m.moved_to.key == live.key)
    ]
    if live is None:
        lines.append(i18n.t(language, "volunteers.next_none"))
    else:
        key = "volunteers.now_on" if live.starts <= now else "volunteers.next"
        lines.append(
            i18n.t(
                language,
                key,
                when=when(i18n, language, live),
                place=i18n.t(language, "volunteers.place"),
                note=note(i18n, language, live),
            )
        )
        if public_url:
            lines.append(i18n.t(language, "volunteers.ics", url=public_url + ICS_PATH))
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
