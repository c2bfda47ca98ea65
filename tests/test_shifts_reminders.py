"""Shift reminders as outbox rows: the OUI/NON question the day before at the local hour (across the
clock changes), the nudge to those who said OUI, the coordinator's alert on NON and on silence; each
once, after a restart too; nothing pointless sent. Sent for real to the fake Twilio and Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest

from bot.app import build_core
from bot.clock import FakeClock
from bot.config import Settings
from bot.core import Core
from bot.messages import Channel
from bot.sms_text import segments
from bot.text import fold
from handlers.shifts import model
from handlers.shifts.model import Shift
from tests.conftest import PARIS, Said
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.wiring import run, wired
from tests.helpers import conciergerie_shift, register_on

NADIA_SMS = "+33639981001"
OMAR_CHAT = "7200001"
COORD_SMS = "+33639981009"


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class Team:
    nadia: int  # worker, French, SMS
    omar: int  # worker, English, Telegram
    coord: int  # staff, SMS: the coordinator of the shifts below


async def team(core: Core) -> Team:
    """Two workers with a 12 h contract and a coordinator, each reachable on one channel."""
    now = core.clock.now()
    async with core.store.transaction() as db:
        nadia = await register_on(
            db, now, "Nadia Diallo", {"resident", "worker"}, Channel.SMS, NADIA_SMS, code="GV-WKR3"
        )
        omar = await register_on(
            db, now, "Omar Sy", {"worker"}, Channel.TELEGRAM, OMAR_CHAT, language="en", code="GV-WKR4"
        )
        coord = await register_on(db, now, "Claire Coord", {"staff"}, Channel.SMS, COORD_SMS, code="GV-CRD2")
        for worker in (nadia, omar):
            await model.set_contract(db, now, worker, 12 * 60, date(2026, 1, 1))
    return Team(nadia, omar, coord)


async def shift_for(
    core: Core,
    coord: int | None,
    day: date,
    start: str,
    end: str,
    *workers: int,
    activity: str = "Nettoyage des locaux",
) -> Shift:
    """A cleaning shift at the Conciergerie (no demo shift there) with ``workers`` on it, each told at once."""
    async with core.store.transaction() as db:
        return await conciergerie_shift(
            db,
            core.clock.now(),
            core.i18n,
            day,
            start,
            end,
            *workers,
            capacity=3,
            coordinator_id=coord,
            activity=activity,
        )


async def assignment_of(core: Core, shift: Shift, person: int) -> model.Assignment:
    async with core.store.transaction() as db:
        rows = [a for a in await model.assignments_of(db, shift.id) if a.person_id == person]
    return rows[-1]


def sms(twilio: FakeTwilio, number: str, *fragments: str) -> list[str]:
    """Bodies the number received that hold every fragment (folded: no accents or punctuation)."""
    return [m["Body"] for m in twilio.sent_to(number) if all(fold(f) in fold(m["Body"]) for f in fragments)]


def chat(telegram: FakeTelegram, chat_id: str, *fragments: str) -> list[dict[str, object]]:
    return [m for m in telegram.sent_to(int(chat_id)) if all(fold(f) in fold(str(m["text"])) for f in fragments)]


async def answer(core: Core, channel: Channel, address: str, text: str = "", choice: str | None = None) -> str:
    """The worker answers through the dispatcher, as the channel adapters do."""
    from bot.messages import Inbound

    replies = await core.dispatcher.handle(Inbound(channel, address, text, choice=choice))
    return "\n".join(r.text for r in replies)


async def outbox_status(core: Core, cause_part: str) -> list[str]:
    rows = await core.store.fetchall("SELECT status FROM outbox WHERE cause LIKE ? ORDER BY id", (f"%{cause_part}%",))
    return [row[0] for row in rows]


# --- The question the day before ------------------------------------------------------------------


async def test_reminder_the_day_before_at_the_local_hour_once(core: Core, clock: FakeClock) -> None:
    """18:00 the day before: OUI/NON by SMS (numbered, one segment) and by Telegram (buttons), once."""
    crew = await team(core)
    shift = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia, crew.omar)
    async with wired(core) as (twilio, telegram):
        clock.set(at(11, 25, 17, 59))
        await run(core)
        assert sms(twilio, NADIA_SMS, "Vous venez") == [] and chat(telegram, OMAR_CHAT, "Are you coming") == []
        clock.set(at(11, 25, 18, 0))
        await run(core)
        [body] = sms(twilio, NADIA_SMS, "Vous venez")
        assert body == (
            "Premières Heures : vous travaillez le jeu. 26 nov. 11:30-14:30, Nettoyage des locaux, Conciergerie."
            " Vous venez ? Répondez OUI ou NON.\n1 OUI\n2 NON"
        )
        assert segments(body).count == 1
        [message] = chat(telegram, OMAR_CHAT, "Are you coming")
        assert "Thu 26 Nov 11:30-14:30" in str(message["text"])
        buttons = message["reply_markup"]["inline_keyboard"]  # type: ignore[index]
        assert [row[0]["text"] for row in buttons] == ["YES", "NO"]
        assert buttons[0][0]["callback_data"].startswith("shifts.my_answer:")
        for later in (at(11, 25, 18, 1), at(11, 25, 23, 0), at(11, 26, 8, 0)):
            clock.set(later)
            await run(core)
    assert len(sms(twilio, NADIA_SMS, "Vous venez")) == 1 and len(chat(telegram, OMAR_CHAT, "Are you coming")) == 1
    assert await outbox_status(core, f"shift:{shift.id}:v1:reminder") == ["sent", "sent"]


@pytest.mark.parametrize(
    ("shift_day", "before", "due_utc"),
    [
        # Monday after the October change: Sunday 25 Oct 18:00 CET is 17:00 UTC.
        (date(2026, 10, 26), datetime(2026, 10, 25, 16, 59, tzinfo=UTC), datetime(2026, 10, 25, 17, 0, tzinfo=UTC)),
        # Sunday of the October change itself: Saturday 24 Oct 18:00 CEST is 16:00 UTC.
        (date(2026, 10, 25), datetime(2026, 10, 24, 15, 59, tzinfo=UTC), datetime(2026, 10, 24, 16, 0, tzinfo=UTC)),
        # Monday after the March change: Sunday 28 Mar 18:00 CEST is 16:00 UTC.
        (date(2027, 3, 29), datetime(2027, 3, 28, 15, 59, tzinfo=UTC), datetime(2027, 3, 28, 16, 0, tzinfo=UTC)),
        # Sunday of the March change: Saturday 27 Mar 18:00 CET is 17:00 UTC.
        (date(2027, 3, 28), datetime(2027, 3, 27, 16, 59, tzinfo=UTC), datetime(2027, 3, 27, 17, 0, tzinfo=UTC)),
    ],
    ids=["october-monday", "october-sunday", "march-monday", "march-sunday"],
)
async def test_reminder_hour_across_clock_changes(
    core: Core, clock: FakeClock, shift_day: date, before: datetime, due_utc: datetime
) -> None:
    """The day before at 18:00 Paris time whichever side of a clock change: never 24 h of seconds."""
    clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=PARIS))
    crew = await team(core)
    await shift_for(core, crew.coord, shift_day, "09:00", "12:00", crew.nadia)
    async with wired(core) as (twilio, _):
        clock.set(before)
        await run(core)
        assert sms(twilio, NADIA_SMS, "Vous venez") == []
        clock.set(due_utc)
        await run(core)
        [body] = sms(twilio, NADIA_SMS, "Vous venez")
    assert due_utc.astimezone(PARIS).hour == 18
    assert f"{shift_day.day} " in body and "09:00-12:00" in body


async def test_assigned_after_the_hour_is_asked_at_once(core: Core, clock: FakeClock) -> None:
    """Put on tomorrow's shift at 20:00: asked at the next tick, without waiting for the clock to move."""
    crew = await team(core)
    clock.set(at(11, 25, 20, 0))
    async with wired(core) as (twilio, _):
        await run(core)  # a scan in this minute with nothing to do
        await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
        await run(core)
        assert len(sms(twilio, NADIA_SMS, "Vous venez")) == 1
        assert len(sms(twilio, NADIA_SMS, "vous travaillez le jeu. 26 nov.", "Rappel la veille")) == 1  # told too


async def test_a_bot_down_at_the_hour_sends_when_it_starts(settings: Settings, clock: FakeClock) -> None:
    """Down from 17:00 to 20:00: the reminder goes at 20:00; down until the shift began: nothing."""
    core = await build_core(settings, clock)
    try:
        crew = await team(core)
        await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
        late = await shift_for(core, crew.coord, date(2026, 11, 26), "08:00", "09:00", crew.omar)
    finally:
        await core.close()
    clock.set(at(11, 26, 8, 30))  # the 08:00 shift has begun, the 11:30 one is ahead
    core = await build_core(settings, clock)
    try:
        async with wired(core) as (twilio, telegram):
            await run(core)
            assert len(sms(twilio, NADIA_SMS, "Vous venez")) == 1
            assert chat(telegram, OMAR_CHAT, "Are you coming") == []
        assert await outbox_status(core, f"shift:{late.id}:v1:reminder") == []
    finally:
        await core.close()


# --- OUI, NON, silence ------------------------------------------------------------------------------


async def test_oui_gets_the_nudge_and_silence_alerts_the_coordinator(core: Core, clock: FakeClock) -> None:
    """OUI: thanked, nudged 2 h before; silence: the coordinator is alerted 3 h before, once; no nudge."""
    crew = await team(core)
    shift = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia, crew.omar)
    async with wired(core) as (twilio, telegram):
        clock.set(at(11, 25, 18, 0))
        await run(core)
        nadia = await assignment_of(core, shift, crew.nadia)
        said = await answer(core, Channel.SMS, NADIA_SMS, "1")  # the numbered choice, as the SMS said
        assert "Merci, c'est noté : vous venez le jeu. 26 nov. 11:30-14:30, Conciergerie." == said
        assert (await assignment_of(core, shift, crew.nadia)).answer == "yes"
        clock.set(at(11, 26, 8, 29))
        await run(core)
        assert sms(twilio, COORD_SMS, "pas de réponse") == []
        clock.set(at(11, 26, 8, 30))  # 3 h before: Omar has not answered
        await run(core)
        [alert] = sms(twilio, COORD_SMS, "pas de réponse")
        assert "Omar Sy (GV-WKR4)" in alert and "Nadia" not in alert and "Places prises : 2/3" in alert
        clock.set(at(11, 26, 9, 30))  # 2 h before: only Nadia, who said OUI
        await run(core)
        assert len(sms(twilio, NADIA_SMS, "à tout à l'heure", "11:30-14:30", "Conciergerie")) == 1
        assert chat(telegram, OMAR_CHAT, "see you soon") == []
        clock.set(at(11, 26, 10, 0))
        await run(core)
    assert len(sms(twilio, COORD_SMS, "pas de réponse")) == 1 and len(sms(twilio, NADIA_SMS, "tout à l'heure")) == 1
    assert nadia.answer is None  # the row read before the answer


async def test_non_frees_the_seat_and_alerts_at_once(core: Core, clock: FakeClock) -> None:
    """A NON button: the seat is freed, the coordinator alerted at once, and nothing more is sent about it."""
    crew = await team(core)
    shift = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia, crew.omar)
    async with wired(core) as (twilio, telegram):
        clock.set(at(11, 25, 18, 0))
        await run(core)
        [question] = chat(telegram, OMAR_CHAT, "Are you coming")
        no = question["reply_markup"]["inline_keyboard"][1][0]["callback_data"]  # type: ignore[index]
        said = await answer(core, Channel.TELEGRAM, OMAR_CHAT, choice=no)
        assert said == (
            "Noted: you are not coming on Thu 26 Nov 11:30-14:30, Nettoyage des locaux, Conciergerie."
            " The team has been told."
        )
        omar = await assignment_of(core, shift, crew.omar)
        assert (omar.status, omar.released_reason, omar.answer) == ("released", "declined", "no")
        await run(core)
        [alert] = sms(twilio, COORD_SMS, "ne viendra pas")
        assert "Omar Sy (GV-WKR4)" in alert and "a répondu NON" in alert and "Places prises : 1/3" in alert
        said = await answer(core, Channel.TELEGRAM, OMAR_CHAT, choice=no)  # pressed again
        assert said.startswith("Already noted: you are not coming")
        for moment in (at(11, 26, 8, 30), at(11, 26, 9, 30)):
            clock.set(moment)
            await run(core)
    assert len(sms(twilio, COORD_SMS, "ne viendra pas")) == 1
    assert sms(twilio, COORD_SMS, "pas de réponse", "Omar") == []  # Nadia's silence is another matter
    assert chat(telegram, OMAR_CHAT, "see you soon") == []


async def test_no_coordinator_alerts_every_staff_member(core: Core, clock: FakeClock) -> None:
    """A shift with no coordinator: silence alerts the team (Awa, the demo's staff member, among them)."""
    crew = await team(core)
    await shift_for(core, None, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    async with wired(core) as (twilio, _):
        clock.set(at(11, 26, 8, 30))
        await run(core)
        assert len(sms(twilio, "+33639980001", "pas de réponse", "Nadia Diallo")) == 1
        assert len(sms(twilio, COORD_SMS, "pas de réponse", "Nadia Diallo")) == 1


async def test_put_on_after_the_cutoff_is_not_reported_silent(core: Core, clock: FakeClock) -> None:
    """Assigned two hours before the start: asked at once, but the coordinator is not told of a silence."""
    crew = await team(core)
    clock.set(at(11, 26, 9, 30))
    async with wired(core) as (twilio, _):
        await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
        await run(core)
        clock.set(at(11, 26, 11, 0))
        await run(core)
        assert len(sms(twilio, NADIA_SMS, "Vous venez")) == 1
        assert sms(twilio, COORD_SMS, "pas de réponse") == []


# --- Restarts ---------------------------------------------------------------------------------------


async def test_restart_between_reminder_and_answer(settings: Settings, clock: FakeClock) -> None:
    """A new core after the reminder: not sent again; the SMS digit and the Telegram button still answer."""
    first = await build_core(settings, clock)
    crew = await team(first)
    shift = await shift_for(first, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia, crew.omar)
    clock.set(at(11, 25, 18, 0))
    async with wired(first) as (twilio, telegram):
        await run(first)
        [question] = chat(telegram, OMAR_CHAT, "Are you coming")
    await first.close()
    assert len(sms(twilio, NADIA_SMS, "Vous venez")) == 1
    clock.set(at(11, 25, 19, 0))
    second = await build_core(settings, clock)
    try:
        async with wired(second) as (twilio, telegram):
            await run(second)
            assert sms(twilio, NADIA_SMS, "Vous venez") == [] and chat(telegram, OMAR_CHAT, "Are you coming") == []
            said = await answer(second, Channel.SMS, NADIA_SMS, "2")
            assert said.startswith("C'est noté : vous ne venez pas le jeu. 26 nov.")
            yes = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
            assert (await answer(second, Channel.TELEGRAM, OMAR_CHAT, choice=yes)).startswith("Thank you, noted")
            await run(second)
            assert len(sms(twilio, COORD_SMS, "Nadia Diallo", "ne viendra pas")) == 1
        assert (await assignment_of(second, shift, crew.nadia)).released_reason == "declined"
        assert (await assignment_of(second, shift, crew.omar)).answer == "yes"
    finally:
        await second.close()


async def test_queued_before_a_restart_is_sent_once(settings: Settings, clock: FakeClock) -> None:
    """Queued at 18:00 by a bot that stopped before sending: the next start sends it, once."""
    first = await build_core(settings, clock)
    crew = await team(first)
    await shift_for(first, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    clock.set(at(11, 25, 18, 0))
    await first.outbox.tick()  # queued; no sender yet
    await first.close()
    second = await build_core(settings, clock)
    try:
        async with wired(second) as (twilio, _):
            await run(second)
            await run(second)
        assert len(sms(twilio, NADIA_SMS, "Vous venez")) == 1
    finally:
        await second.close()


# --- Pointless reminders are not sent ---------------------------------------------------------------


async def test_cancelled_shift_sends_no_reminder(core: Core, clock: FakeClock) -> None:
    """Cancelled after the reminder was queued: the reminder is skipped, the cancellation told instead."""
    crew = await team(core)
    shift = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    clock.set(at(11, 25, 18, 0))
    await core.outbox.tick()  # queued while nothing could send
    async with core.store.transaction() as db:
        await model.cancel_shift(db, clock.now(), core.i18n, shift.id, "Cantine fermée")
    async with wired(core) as (twilio, _):
        await run(core)
    assert sms(twilio, NADIA_SMS, "Vous venez") == []
    assert len(sms(twilio, NADIA_SMS, "annulé", "Cantine fermée")) == 1
    assert await outbox_status(core, f"shift:{shift.id}:v1:reminder") == ["skipped"]


async def test_moved_shift_is_asked_again_and_the_old_question_dropped(core: Core, clock: FakeClock) -> None:
    """Moved after the old question was queued: the old one is skipped, the new time is asked once."""
    crew = await team(core)
    shift = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    clock.set(at(11, 25, 18, 0))
    await core.outbox.tick()
    async with core.store.transaction() as db:
        await model.change_shift(db, clock.now(), core.i18n, PARIS, shift.id, start=time(12, 0), end=time(15, 0))
    async with wired(core) as (twilio, _):
        await run(core)
        await run(core)
    asked = sms(twilio, NADIA_SMS, "Vous venez")
    assert len(asked) == 1 and "12:00-15:00" in asked[0]
    assert await outbox_status(core, f"shift:{shift.id}:v1:reminder") == ["skipped"]
    assert await outbox_status(core, f"shift:{shift.id}:v2:reminder") == ["sent"]


async def test_released_seat_and_past_shift_send_nothing(core: Core, clock: FakeClock) -> None:
    """A seat freed by staff, or a shift begun before the row could go: the queued reminder and nudge are skipped."""
    crew = await team(core)
    first = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    second = await shift_for(core, crew.coord, date(2026, 11, 26), "08:00", "09:00", crew.omar)
    clock.set(at(11, 25, 18, 0))
    await core.outbox.tick()
    nadia = await assignment_of(core, first, crew.nadia)
    async with core.store.transaction() as db:
        await model.release(db, clock.now(), core.i18n, nadia.id, "unassigned")
    clock.set(at(11, 26, 8, 0))  # the 08:00 shift began before anything was sent
    async with wired(core) as (twilio, telegram):
        await run(core)
    assert sms(twilio, NADIA_SMS, "Vous venez") == [] and chat(telegram, OMAR_CHAT, "Are you coming") == []
    assert await outbox_status(core, f"shift:{first.id}:v1:reminder") == ["skipped"]
    assert await outbox_status(core, f"shift:{second.id}:v1:reminder") == ["skipped"]
    assert len(sms(twilio, NADIA_SMS, "n'êtes plus prévu")) == 1  # staff's unassignment is told instead


async def test_a_queued_nudge_is_dropped_when_the_worker_cancels(core: Core, clock: FakeClock) -> None:
    """OUI, then the nudge queued, then the worker cancels from chat: the nudge is not sent."""
    crew = await team(core)
    shift = await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    clock.set(at(11, 25, 18, 0))
    await core.outbox.tick()
    assert (await answer(core, Channel.SMS, NADIA_SMS, "oui")).startswith("Merci")
    clock.set(at(11, 26, 9, 30))
    await core.outbox.tick()  # the nudge is queued
    prompt = await answer(core, Channel.SMS, NADIA_SMS, "je peux pas venir")
    assert "Annuler votre créneau du jeu. 26 nov." in prompt
    code = Said(texts=[prompt]).code  # by SMS the cancellation is confirmed with the prompt's code
    assert (await answer(core, Channel.SMS, NADIA_SMS, f"oui {code}")).startswith("Créneau annulé")
    async with wired(core) as (twilio, _):
        await run(core)
    assert sms(twilio, NADIA_SMS, "tout à l'heure") == []
    assert await outbox_status(core, f"shift:{shift.id}:v1:nudge") == ["skipped"]
    assert len(sms(twilio, COORD_SMS, "Nadia Diallo", "a annulé")) == 1


async def test_the_scan_runs_once_a_minute_or_when_shifts_change(core: Core, clock: FakeClock) -> None:
    """Ticks every second cost one cheap read; the shifts are scanned on a new minute or after a change."""
    from handlers.shifts.reminders import ShiftReminders

    [hook] = [h for h in core.outbox.hooks if isinstance(h, ShiftReminders)]
    scans: list[datetime] = []
    scan = hook.queue_due

    async def counted(now: datetime) -> int:
        scans.append(now)
        return await scan(now)

    hook.queue_due = counted  # type: ignore[method-assign]
    crew = await team(core)
    clock.set(at(11, 25, 20, 0))
    for _ in range(3):
        await core.outbox.tick()
        clock.advance(seconds=1)
    assert len(scans) == 1
    await shift_for(core, crew.coord, date(2026, 11, 26), "11:30", "14:30", crew.nadia)
    await core.outbox.tick()
    await core.outbox.tick()
    assert len(scans) == 2
    clock.set(at(11, 25, 20, 1))
    await core.outbox.tick()
    assert len(scans) == 3
