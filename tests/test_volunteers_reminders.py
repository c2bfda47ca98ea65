"""Meeting reminders: the day before and on the day, each once (after a restart too), at the configured
hours, only when still useful; a cancelled or moved meeting sends one notice instead; STOP RAPPELS,
a withdrawal or an opt-out stop them. Sent for real to the fake Twilio and the fake Telegram."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from bot import people
from bot.app import build_core
from bot.clock import FakeClock
from bot.config import Settings
from bot.core import Core
from bot.messages import Channel
from bot.text import fold
from handlers.volunteers import calendar, signups, staff
from tests.conftest import PARIS, START, make_settings
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.wiring import run, wired

# Demo data: Lucie (+33639980004) signed up, French, SMS only; the meetings count from 2 December 2026.
LUCIE = "+33639980004"
CHAT = "7100001"


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


async def telegram_volunteer(core: Core, language: str = "en") -> int:
    """Someone who signed up from Telegram, in English."""
    now = core.clock.now()
    async with core.store.transaction() as db:
        person_id = await people.register(db, now, "Sam", {"resident"}, language)
        await people.attach_identity(db, now, person_id, Channel.TELEGRAM, CHAT)
        await signups.save(db, now, person_id, name="Sam", activities=("music",), availability="weekends", consent=True)
    return person_id


def bodies(twilio: FakeTwilio, number: str = LUCIE) -> list[str]:
    """What the number received, folded (no accents or punctuation) to compare with what people read."""
    return [fold(m["Body"]) for m in twilio.sent_to(number)]


async def test_day_before_and_same_day_each_once(core: Core, clock: FakeClock) -> None:
    """At 18:00 the day before and 10:00 on the day, one reminder each, on each person's channel and language."""
    await telegram_volunteer(core)
    async with wired(core) as (twilio, telegram):
        clock.set(at(1, 17, 59))
        await run(core)
        assert bodies(twilio) == [] and telegram.sent_to(int(CHAT)) == []
        clock.set(at(1, 18, 0))
        await run(core)
        assert [m["Body"] for m in twilio.sent_to(LUCIE)] == [
            "Rappel : permanence bénévole demain, mercredi 2 décembre, 18h30-20h00, au Magasin général."
            " STOP RAPPELS : ne plus recevoir ces rappels."
        ]
        assert [m["text"] for m in telegram.sent_to(int(CHAT))] == [
            "Reminder: volunteer meeting tomorrow, Wednesday 2 December, 18:30-20:00, at the Magasin général."
            " STOP REMINDERS: no more reminders."
        ]
        for later in (at(1, 18, 1), at(1, 19, 0), at(2, 4, 0)):  # ticks go on: nothing more
            clock.set(later)
            await run(core)
        assert len(bodies(twilio)) == 1
        clock.set(at(2, 10, 0))
        await run(core)
        await run(core)
        assert len(bodies(twilio)) == 2 and "aujourd hui 18h30 20h00" in bodies(twilio)[1]
        assert len(telegram.sent_to(int(CHAT))) == 2 and "today, 18:30-20:00" in telegram.sent_to(int(CHAT))[-1]["text"]
        clock.set(at(2, 18, 31))
        await run(core)
    assert len(bodies(twilio)) == 2


async def test_a_restart_sends_nothing_twice(settings: Settings, clock: FakeClock) -> None:
    """A new core on the same database, after the reminder went, does not send it again."""
    first = await build_core(settings, clock)  # seeded at START: the meetings count from 2 December
    clock.set(at(1, 18, 5))
    async with wired(first) as (twilio, _):
        await run(first)
        assert len(bodies(twilio)) == 1
    await first.close()
    second = await build_core(settings, clock)
    try:
        async with wired(second) as (twilio, _):
            await second.outbox.recover()
            await run(second)
            assert bodies(twilio) == []
            clock.set(at(2, 10, 0))
            await run(second)
            await run(second)
            assert len(bodies(twilio)) == 1 and "aujourd hui" in bodies(twilio)[0]
    finally:
        await second.close()


async def test_a_restart_between_queueing_and_sending_sends_once(settings: Settings, clock: FakeClock) -> None:
    """Queued but not sent when the bot stopped: the next start sends it once."""
    first = await build_core(settings, clock)
    clock.set(at(1, 18, 0))
    await first.outbox.tick()  # queued, no sender yet
    await first.close()
    second = await build_core(settings, clock)
    try:
        async with wired(second) as (twilio, _):
            await run(second)
            await run(second)
        assert len(bodies(twilio)) == 1
    finally:
        await second.close()


async def test_a_late_start_sends_only_what_is_still_useful(core: Core, clock: FakeClock) -> None:
    """Down from Tuesday noon to Wednesday 11:00: only the day's reminder goes; after 18:30, nothing."""
    async with wired(core) as (twilio, _):
        clock.set(at(2, 11, 0))
        await run(core)
        assert len(bodies(twilio)) == 1 and "aujourd hui" in bodies(twilio)[0]
        clock.set(at(16, 18, 45))  # the next meeting has begun: its reminders are past
        await run(core)
    assert len(bodies(twilio)) == 1


async def test_configured_hours_are_obeyed(tmp_path: Path, clock: FakeClock) -> None:
    """MEETING_REMINDER_DAY_BEFORE_AT=20:30 and MEETING_REMINDER_SAME_DAY_AT=08:15 move the reminders."""
    settings = make_settings(tmp_path, meeting_reminder_day_before_at="20:30", meeting_reminder_same_day_at="08:15")
    core = await build_core(settings, clock)
    try:
        async with wired(core) as (twilio, _):
            clock.set(at(1, 20, 29))
            await run(core)
            assert bodies(twilio) == []
            clock.set(at(1, 20, 30))
            await run(core)
            clock.set(at(2, 8, 15))
            await run(core)
        assert ["demain" in b for b in bodies(twilio)] == [True, False]
    finally:
        await core.close()


async def change(core: Core, op: str, day: str, **kwargs: object) -> int:
    made = staff.make(op, date.fromisoformat(day), **kwargs)  # type: ignore[arg-type]
    async with core.store.transaction() as db:
        _, notified = await staff.apply(db, PARIS, core.clock.now(), core.i18n, made, None)
    return notified


async def test_a_cancelled_meeting_sends_one_notice_instead(core: Core, clock: FakeClock) -> None:
    """The day-before reminder is queued, then staff cancel: the notice goes, the reminders never do."""
    async with wired(core) as (twilio, _):
        clock.set(at(1, 18, 0))
        await core.outbox.tick()  # queued, not sent yet
        assert await change(core, "cancel", "2026-12-02", reason="fuite d'eau") == 1
        await run(core)
        clock.set(at(2, 10, 0))
        await run(core)
        await change(core, "cancel", "2026-12-16", reason="vacances")  # a second change: its own notice
        await run(core)
    assert [m["Body"] for m in twilio.sent_to(LUCIE)] == [
        "La permanence bénévole du mercredi 2 décembre est annulée : fuite d'eau. STOP RAPPELS : ne plus recevoir"
        " ces messages.",
        "La permanence bénévole du mercredi 16 décembre est annulée : vacances. STOP RAPPELS : ne plus recevoir"
        " ces messages.",
    ]
    statuses = await core.store.fetchall("SELECT cause, status FROM outbox WHERE cause LIKE 'permanence:%' ORDER BY id")
    assert tuple(statuses[0]) == ("permanence:r2026-12-02:day_before", "cancelled")


async def test_a_moved_meeting_is_reminded_at_its_new_date(core: Core, clock: FakeClock) -> None:
    """Moved from Wednesday 2 to Thursday 3: one notice, then reminders for Thursday saying where it came from."""
    async with wired(core) as (twilio, _):
        await change(core, "move", "2026-12-02", new_day=date(2026, 12, 3), reason="salle prise")
        await run(core)
        for moment in (at(1, 18, 0), at(2, 10, 0), at(2, 18, 0), at(3, 10, 0)):
            clock.set(moment)
            await run(core)
    sent = bodies(twilio)
    assert len(sent) == 3
    assert "deplacee au jeudi 3 decembre 18h30 20h00 salle prise" in sent[0]
    assert sent[1].startswith("rappel permanence benevole demain jeudi 3 decembre 18h30 20h00 deplacee du mercredi")
    assert sent[2].startswith("rappel permanence benevole aujourd hui 18h30 20h00 deplacee du mercredi 2")


async def test_an_added_meeting_gets_reminders(core: Core, clock: FakeClock) -> None:
    """An extra meeting on Saturday 5 December, 14:00-16:00: reminders on Friday 18:00 and Saturday 10:00."""
    async with wired(core) as (twilio, _):
        await change(core, "add", "2026-12-05", reason="portes ouvertes", hours=(time(14), time(16)))
        await run(core)
        assert bodies(twilio) == []  # adding is no notice: the reminders will say it
        for moment in (at(4, 18, 0), at(5, 10, 0)):
            clock.set(moment)
            await run(core)
    sent = bodies(twilio)
    assert len(sent) == 2
    assert "demain samedi 5 decembre 14h00 16h00 permanence en plus portes ouvertes" in sent[0]


async def test_reminders_that_became_pointless_are_dropped(core: Core, clock: FakeClock) -> None:
    """Queued, then STOP RAPPELS, a withdrawal or a cancellation behind the hook's back: never sent."""
    sam = await telegram_volunteer(core)
    async with wired(core) as (twilio, telegram):
        clock.set(at(1, 18, 0))
        await core.outbox.tick()
        async with core.store.transaction() as db:
            lucie = await people.find_person_id(db, member_code="GV-MRT4")
            assert lucie is not None
            await signups.set_reminders(db, clock.now(), lucie, False)
            await signups.withdraw(db, sam)
        await core.outbox.drain()
        assert bodies(twilio) == [] and telegram.sent_to(int(CHAT)) == []
        async with core.store.transaction() as db:
            await signups.set_reminders(db, clock.now(), lucie, True)
        clock.set(at(2, 10, 0))
        await core.outbox.tick()
        async with core.store.transaction() as db:  # cancelled without the notices (as by an older version)
            await calendar.cancel(db, PARIS, clock.now(), date(2026, 12, 2), "x", None)
        await core.outbox.drain()
        assert bodies(twilio) == []
    skipped = await core.store.fetchall("SELECT error FROM outbox WHERE status = 'skipped' ORDER BY id")
    assert [s["error"] for s in skipped] == ["no longer wanted", "no longer wanted", "meeting cancelled or moved"]


async def test_stop_rappels_keeps_other_messages_and_stop_silences_all(core: Core, clock: FakeClock) -> None:
    """STOP RAPPELS: no reminder but other messages still go; STOP (the channel opt-out): no reminder queued."""
    async with core.store.transaction() as db:
        lucie = await people.find_person_id(db, member_code="GV-MRT4")
        assert lucie is not None
        await signups.set_reminders(db, clock.now(), lucie, False)
    async with wired(core) as (twilio, _):
        clock.set(at(1, 18, 0))
        await run(core)
        assert bodies(twilio) == []
        await change(core, "cancel", "2026-12-16", reason="vacances")  # notices follow the reminders' choice
        async with core.store.transaction() as db:
            from bot import outbox

            await outbox.enqueue_for_person(
                db, clock.now(), core.i18n, lucie, cause="other:1", key="volunteers.message", params={"text": "Bonjour"}
            )
        await run(core)
        assert bodies(twilio) == ["bonjour"]
        async with core.store.transaction() as db:
            await signups.set_reminders(db, clock.now(), lucie, True)
            await db.execute(
                "UPDATE identities SET opted_out_at = ? WHERE address = ?", (clock.now().isoformat(), LUCIE)
            )
        clock.set(at(2, 10, 0))
        await run(core)
    assert bodies(twilio) == ["bonjour"]
    assert await core.store.fetchall("SELECT * FROM outbox WHERE cause = 'permanence:r2026-12-02:same_day'") == []


async def test_a_reminder_fits_one_sms(core: Core, clock: FakeClock) -> None:
    """Reminders are one SMS segment (GSM-7, at most 160 characters) for a plain meeting."""
    from bot.sms_text import is_gsm, septets

    async with wired(core) as (twilio, _):
        for moment in (at(1, 18, 0), at(2, 10, 0)):
            clock.set(moment)
            await run(core)
    sent = [m["Body"] for m in twilio.sent_to(LUCIE)]
    assert len(sent) == 2
    for body in sent:
        assert is_gsm(body) and septets(body) <= 160, body


def test_start_is_the_fixtures_wednesday() -> None:
    """The demo's reference (a Wednesday at least a week after seeding) is 2 December for START."""
    assert START.date() == date(2026, 11, 25) and date(2026, 12, 2).weekday() == 2
