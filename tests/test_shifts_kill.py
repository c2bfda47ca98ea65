"""A real ``voisins run`` sends tomorrow's shift reminders, is killed with SIGKILL, and starts again.

A subprocess runs on the real clock, so the reminder hour is set to 00:00: tomorrow's shift is due
its reminder as soon as the bot starts. The first run sends it (to the fake Twilio and the fake
Telegram) and dies; the second run sends nothing again, then takes a NON by a signed SMS webhook
(the digit of the numbered choice, remembered across the restart) and an OUI by a Telegram button.
Each answer is recorded once and the coordinator is alerted once, for the NON.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

from bot.clock import SystemClock
from bot.i18n import I18n
from bot.messages import Channel
from handlers.shifts import model
from tests.commands import sending_env, start_bot, terminate
from tests.conftest import PARIS, PATIENCE, eventually, opened_store
from tests.fakes import twilio_webhook as tw
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import conciergerie_shift, register_on, rows

WORKER_SMS = "+33639982001"
WORKER_CHAT = 7300001
COORD_SMS = "+33639982009"
# Workers added while the test runs, one after each step whose repeats the test looks for.
LATE = {"first run": ("GV-LAT2", "+33639982101"), "restart": ("GV-LAT3", "+33639982102"),
        "answers": ("GV-LAT4", "+33639982103")}  # fmt: skip
UNSENT = "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"


async def seed(database: Path, day: date) -> int:
    """Two workers (SMS, Telegram) on a shift ``day`` 20:00-22:00 whose coordinator reads SMS; the shift id.

    The shift has seats for the workers :func:`join_late` adds while the test runs.
    """
    now = SystemClock().now()
    async with opened_store(database) as store, store.transaction() as db:
        coord = await register_on(db, now, "Claire Coord", {"staff"}, Channel.SMS, COORD_SMS, code="GV-CRD2")
        by_sms = await register_on(db, now, "Nadia Diallo", {"worker"}, Channel.SMS, WORKER_SMS, code="GV-WKR3")
        by_chat = await register_on(
            db, now, "Omar Sy", {"worker"}, Channel.TELEGRAM, str(WORKER_CHAT), language="en", code="GV-WKR4"
        )
        for worker in (by_sms, by_chat):
            await model.set_contract(db, now, worker, 12 * 60, day - timedelta(days=7))
        shift = await conciergerie_shift(
            db, now, I18n("fr"), day, "20:00", "22:00", by_sms, by_chat, capacity=4, coordinator_id=coord
        )
    return shift.id


async def join_late(database: Path, shift_id: int, day: date, code: str, phone: str) -> None:
    """Another worker put on the shift (by another process, the team's command line): the bot's next scan sees it.

    Their reminder arriving is the sign that a scan ran after everything before it: had that scan
    repeated an earlier reminder, the repeat would have been queued with it.
    """
    now = SystemClock().now()
    async with opened_store(database) as store, store.transaction() as db:
        person = await register_on(db, now, "Tard Venu", {"worker"}, Channel.SMS, phone, code=code)
        await model.set_contract(db, now, person, 12 * 60, day - timedelta(days=7))
        await model.assign(db, now, I18n("fr"), shift_id, person, notify=False)


async def test_reminders_survive_a_kill_and_answers_count_once(tmp_path: Path) -> None:
    """SIGKILL after the reminders went: a restart repeats none; NON and OUI recorded once; one alert."""
    database = tmp_path / "run.db"
    tomorrow = datetime.now(PARIS).date() + timedelta(days=1)
    shift_id = await seed(database, tomorrow)
    reminders = "SELECT status FROM outbox WHERE cause LIKE 'shift:%:reminder:%'"
    async with FakeTelegram() as telegram, FakeTwilio() as twilio, httpx.AsyncClient(timeout=PATIENCE) as client:
        env = sending_env(tmp_path, twilio, telegram, sms_rate=50, SHIFT_REMINDER_AT="00:00")

        def asked_by_sms() -> list[str]:
            return [m["Body"] for m in twilio.sent_to(WORKER_SMS) if "Vous venez" in m["Body"]]

        def asked_by_chat() -> list[dict[str, object]]:
            return [m for m in telegram.sent_to(WORKER_CHAT) if "Are you coming" in str(m.get("text"))]

        async def scanned_again(step: str) -> None:
            """Until a scan later than ``step`` has reminded a newcomer and everything queued has gone."""
            phone = LATE[step][1]
            await eventually(
                lambda: (
                    any("Vous venez" in m["Body"] for m in twilio.sent_to(phone)) and rows(database, UNSENT) == [(0,)]
                ),
                what=f"the reminder of the worker added after the {step}",
            )

        first, _ = await start_bot(tmp_path, env)
        try:
            await eventually(lambda: [r[0] for r in rows(database, reminders)] == ["sent", "sent"])
            await join_late(database, shift_id, tomorrow, *LATE["first run"])
            await scanned_again("first run")  # a scan more in the same process: nothing repeated there either
        finally:
            first.kill()
            await first.wait()
        assert len(asked_by_sms()) == 1 and len(asked_by_chat()) == 1
        assert asked_by_sms()[0].endswith("Répondez OUI ou NON.\n1 OUI\n2 NON")

        await join_late(database, shift_id, tomorrow, *LATE["restart"])
        second, url = await start_bot(tmp_path, env)
        try:
            await scanned_again("restart")  # the new process scans at once
            assert len(asked_by_sms()) == 1 and len(asked_by_chat()) == 1

            response = await tw.post_sms(client, url, tw.sms_params(WORKER_SMS, "2"))
            assert response.status_code == 200, response.text
            assert tw.messages(response.text)[0].startswith("C'est noté : vous ne venez pas le")
            response = await tw.post_sms(client, url, tw.sms_params(WORKER_SMS, "non"))  # said again
            assert tw.messages(response.text)[0].startswith("C'est déjà noté")

            yes = asked_by_chat()[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
            telegram.push_callback(WORKER_CHAT, yes, language_code="en")
            await eventually(
                lambda: any("Thank you, noted" in str(m.get("text")) for m in telegram.sent_to(WORKER_CHAT))
            )
            await eventually(lambda: any("ne viendra pas" in m["Body"] for m in twilio.sent_to(COORD_SMS)))
            await join_late(database, shift_id, tomorrow, *LATE["answers"])
            await scanned_again("answers")  # a scan after both answers: no second alert queued by it
        finally:
            await terminate(second)
        assert second.returncode == 0

    assert len(asked_by_sms()) == 1 and len(asked_by_chat()) == 1
    alerts = [m["Body"] for m in twilio.sent_to(COORD_SMS)]
    assert len(alerts) == 1 and "Nadia Diallo (GV-WKR3) ne viendra pas" in alerts[0] and "a répondu NON" in alerts[0]
    answers = rows(
        database,
        "SELECT p.member_code, x.status, x.released_reason, x.answer FROM shift_assignments x"
        " JOIN persons p ON p.id = x.person_id WHERE x.shift_id = ? ORDER BY p.member_code",
        (shift_id,),
    )
    assert answers[-2:] == [("GV-WKR3", "released", "declined", "no"), ("GV-WKR4", "assigned", None, "yes")]
    assert [a[1:] for a in answers[:-2]] == [("assigned", None, None)] * len(LATE)  # the late ones (GV-LAT*)
