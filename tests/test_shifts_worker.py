"""A worker's shifts in chat over every channel: planning and next shift (own shifts only), OUI/NON to
the reminder typed, pressed or numbered, cancelling with confirmation, CANCEL and STOP kept for the
engine, and the worker's data (export, forget keeping the payroll's rows)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, time

import pytest

from bot.channels.sms import SmsSender
from bot.channels.telegram import TelegramSender
from bot.channels.whatsapp import WhatsAppSender, message_kinds
from bot.messages import Channel
from bot.people import privacy
from handlers.shifts import model
from handlers.shifts.model import Shift
from handlers.shifts.reminders import answer_key
from tests.conftest import PARIS, Talk, TelegramTalk
from tests.fakes.twilio_api import FakeTwilio
from tests.helpers import conciergerie_shift, register_here, register_on
from tests.test_shifts_reminders import at

NADIA = "GV-WKR3"
OMAR = "GV-WKR4"


async def worker(talk: Talk, who: str = "nadia", code: str = NADIA, name: str = "Nadia Diallo", hours: int = 12) -> int:
    person_id = await register_here(talk, who, {"resident", "worker"}, name, code)
    async with talk.core.store.transaction() as db:
        await model.set_contract(db, talk.core.clock.now(), person_id, hours * 60, date(2026, 1, 1))
    return person_id


async def coordinator(talk: Talk) -> int:
    """The staff member the shifts alert: on SMS whatever the talk's channel (the terminal gets no alerts)."""
    async with talk.core.store.transaction() as db:
        return await register_on(
            db, talk.core.clock.now(), "Claire Coord", {"staff"}, Channel.SMS, "+33639981009", code="GV-CRD2"
        )


async def shift(talk: Talk, day: date, start: str, end: str, *workers: int, coord: int | None = None) -> Shift:
    async with talk.core.store.transaction() as db:
        now = talk.core.clock.now()
        return await conciergerie_shift(
            db, now, talk.core.i18n, day, start, end, *workers, capacity=2, coordinator_id=coord
        )


async def seat(talk: Talk, shift_id: int, person_id: int) -> model.Assignment:
    async with talk.core.store.transaction() as db:
        return [a for a in await model.assignments_of(db, shift_id) if a.person_id == person_id][-1]


async def alerts(talk: Talk, coord: int) -> list[str]:
    """What was queued for the coordinator (the outbox rows: the console has no sender)."""
    rows = await talk.core.store.fetchall("SELECT body FROM outbox WHERE person_id = ? ORDER BY id", (coord,))
    return [row[0] for row in rows]


# Wednesday 25 November 2026, 10:00. This week: 23-29 Nov; next week: 30 Nov - 6 Dec.


async def test_planning_shows_two_weeks_against_the_contract(talk: Talk) -> None:
    """PLANNING: this week's and next week's shifts, each week's total against the contract."""
    nadia = await worker(talk)
    await shift(talk, date(2026, 11, 23), "09:00", "12:00", nadia)  # Monday, already worked: counts
    await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    await shift(talk, date(2026, 12, 1), "11:30", "14:00", nadia)
    said = await talk("planning", who="nadia")
    assert said.text.splitlines() == [
        "Cette semaine : 6 h / 12 h",
        "- lun. 23 nov. 09:00-12:00, Nettoyage des locaux, Conciergerie",
        "- jeu. 26 nov. 11:30-14:30, Nettoyage des locaux, Conciergerie",
        "Semaine prochaine : 2 h 30 / 12 h",
        "- mar. 1 déc. 11:30-14:00, Nettoyage des locaux, Conciergerie",
    ]


async def test_planning_words_and_typos(talk: Talk) -> None:
    """The planning answers the ways workers write it, accents, capitals and typos included."""
    nadia = await worker(talk)
    await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    for words in (
        "mes horaires",
        "Mon planning",
        "planing",
        "mes horraires",
        "my shifts",
        "SCHEDULE",
        "c quoi mon planing",
    ):
        said = await talk(words, who="nadia")
        assert said.has("Cette semaine : 3 h / 12 h", "jeu. 26 nov. 11:30-14:30", "Semaine prochaine : 0 min / 12 h"), (
            words
        )


async def test_someone_elses_schedule_is_never_shown(talk: Talk) -> None:
    """Two workers on the same days: each sees only their own shifts."""
    nadia = await worker(talk)
    omar = await worker(talk, "omar", OMAR, "Omar Sy")
    await shift(talk, date(2026, 11, 26), "08:00", "10:00", nadia)
    await shift(talk, date(2026, 11, 26), "15:00", "18:00", omar)
    nadia_sees = await talk("planning", who="nadia")
    assert nadia_sees.has("08:00-10:00", "2 h / 12 h") and "15:00" not in nadia_sees.text
    omar_sees = await talk("prochain", who="omar")
    assert omar_sees.has("15:00-18:00") and "08:00" not in omar_sees.text


async def test_next_shift_with_place_and_time(talk: Talk) -> None:
    """PROCHAIN: the next shift ahead (not one already over), with the place, in one short message."""
    nadia = await worker(talk)
    await shift(talk, date(2026, 11, 25), "07:00", "09:00", nadia)  # this morning, over
    await shift(talk, date(2026, 12, 2), "11:30", "14:30", nadia)
    await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia)
    for words in ("prochain", "prochain creneau", "kan c mon prochain creneau", "next", "/next"):
        said = await talk(words, who="nadia")
        assert said.text == "Prochain créneau : ven. 27 nov. 09:00-11:00, Nettoyage des locaux, Conciergerie.", words


async def test_nothing_planned(talk: Talk) -> None:
    """A worker with no shift and no contract is told so, not shown an error."""
    await register_here(talk, "nadia", {"worker"}, "Nadia Diallo", NADIA)
    assert (await talk("prochain", who="nadia")).has("Pas de créneau prévu")
    said = await talk("planning", who="nadia")
    assert said.has("Cette semaine : 0 min (pas de contrat enregistré)", "aucun créneau")


async def test_not_a_worker_gets_a_clear_answer(talk: Talk) -> None:
    """A resident without the worker role, or an unknown sender, is told who the planning is for."""
    await register_here(talk, "sam", {"resident"}, "Sam", "GV-TST2")
    assert (await talk("mon planning", who="sam")).has("pour les salariés Premières Heures")
    assert (await talk("prochain creneau", who="sam")).has("pour les salariés Premières Heures")
    assert (await talk("planning", who="stranger")).has("il faut être inscrit")
    said = await talk("horaires douche", who="sam")  # someone else's "horaires"
    assert "Premières Heures" not in said.text


async def test_menu_entry_only_for_workers(talk: Talk) -> None:
    """Workers find their planning in the menu; the menu entry shows the planning and what to do next."""
    await worker(talk)
    await register_here(talk, "sam", {"resident"}, "Sam", "GV-TST2")
    assert "Mon planning" not in (await talk("menu", who="sam")).text
    menu = await talk("menu", who="nadia")
    number = next(line.split()[0] for line in menu.text.splitlines() if "Mon planning" in line)
    said = await talk.choose(int(number), who="nadia")
    assert said.has("Cette semaine", "Prochain créneau", "Annuler un créneau")


# --- Answers to the reminder -----------------------------------------------------------------------


async def test_typed_oui_then_again_is_idempotent(talk: Talk) -> None:
    """After the reminder hour, a typed "o" confirms; "OUI" again says it is noted; nothing else changes."""
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    assert not (await talk("oui", who="nadia")).has("noté")  # before 18:00 nothing was asked
    assert (await seat(talk, made.id, nadia)).answer is None
    talk.clock.set(at(11, 25, 18, 5))
    said = await talk("o", who="nadia")
    assert said.text == "Merci, c'est noté : vous venez le jeu. 26 nov. 11:30-14:30, Conciergerie."
    said = await talk("OUI", who="nadia")
    assert said.has("déjà noté", "vous venez")
    assert (await seat(talk, made.id, nadia)).answer == "yes"
    assert (await talk("planning", who="nadia")).has("11:30-14:30, Nettoyage des locaux, Conciergerie (confirmé)")
    assert (await talk("prochain", who="nadia")).text.endswith(
        "11:30-14:30, Nettoyage des locaux, Conciergerie (confirmé)."
    )


async def test_typed_non_frees_the_seat_and_alerts(talk: Talk) -> None:
    """ "non": the seat is freed, the coordinator alerted at once; "n" again changes nothing."""
    coord = await coordinator(talk)
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia, coord=coord)
    talk.clock.set(at(11, 25, 18, 5))
    said = await talk("non", who="nadia")
    assert said.has("vous ne venez pas le jeu. 26 nov.", "équipe est prévenue")
    assert (await seat(talk, made.id, nadia)).released_reason == "declined"
    assert (await talk("n", who="nadia")).has("déjà noté")
    [alert] = await alerts(talk, coord)
    assert "Nadia Diallo (GV-WKR3) ne viendra pas" in alert and "a répondu NON" in alert
    assert (await talk("oui", who="nadia")).has("Vous n'avez plus le créneau du jeu. 26 nov.")
    assert (await seat(talk, made.id, nadia)).status == "released"


async def test_answers_to_a_cancelled_or_past_shift_change_nothing(talk: Talk) -> None:
    """OUI to a cancelled shift, or after the start, says so and records nothing."""
    nadia = await worker(talk)
    cancelled = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    started = await shift(talk, date(2026, 11, 26), "08:00", "09:00", nadia)
    async with talk.core.store.transaction() as db:
        await model.cancel_shift(db, talk.clock.now(), talk.core.i18n, cancelled.id, "")
    talk.clock.set(at(11, 26, 8, 30))
    said = await talk("oui", who="nadia")
    assert said.has("a déjà commencé", "rien n'a changé")
    assert (await seat(talk, started.id, nadia)).answer is None
    said = await talk.press(answer_key((await seat(talk, cancelled.id, nadia)).id, 1, "yes"), who="nadia")
    assert said.has("est annulé")
    assert (await seat(talk, cancelled.id, nadia)).answer is None


async def test_buttons_answer_and_someone_elses_button_changes_nothing(talk: Talk) -> None:
    """A reminder's button answers it; the same button data sent by another worker is refused."""
    nadia = await worker(talk)
    await worker(talk, "omar", OMAR, "Omar Sy")
    made = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    mine = (await seat(talk, made.id, nadia)).id
    talk.clock.set(at(11, 25, 18, 5))
    said = await talk.press(answer_key(mine, made.version, "no"), who="omar")
    assert said.has("pas à vous", "Rien n'a changé")
    assert (await seat(talk, made.id, nadia)).status == "assigned"
    said = await talk.press(answer_key(mine, made.version, "yes"), who="nadia")
    assert said.has("Merci, c'est noté")


async def test_an_old_button_after_a_move_is_not_taken(talk: Talk) -> None:
    """The shift moved after the question: the old button says the new time and records nothing."""
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    mine = (await seat(talk, made.id, nadia)).id
    async with talk.core.store.transaction() as db:
        await model.change_shift(db, talk.clock.now(), talk.core.i18n, PARIS, made.id, start=time(12), end=time(15))
    talk.clock.set(at(11, 25, 18, 5))
    said = await talk.press(answer_key(mine, 1, "yes"), who="nadia")
    assert said.has("a changé", "12:00-15:00")
    assert (await seat(talk, made.id, nadia)).answer is None


async def test_two_questions_open_asks_which(talk: Talk) -> None:
    """Two shifts tomorrow, both asked: a typed OUI asks which one, the number answers it."""
    nadia = await worker(talk)
    morning = await shift(talk, date(2026, 11, 26), "08:00", "10:00", nadia)
    noon = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    talk.clock.set(at(11, 25, 18, 5))
    said = await talk("oui", who="nadia")
    assert said.has("Vous venez à quel créneau", "08:00-10:00", "11:30-14:30")
    said = await talk.choose(2, who="nadia")
    assert said.has("Merci", "11:30-14:30")
    assert (await seat(talk, noon.id, nadia)).answer == "yes"
    assert (await seat(talk, morning.id, nadia)).answer is None


# --- Cancelling from chat -----------------------------------------------------------------------


async def test_cancel_asks_then_frees_the_seat(talk: Talk) -> None:
    """The worker cancels in their words, confirms OUI: the seat is freed and the coordinator alerted, each time."""
    coord = await coordinator(talk)
    nadia = await worker(talk)
    phrases = ("je peux pas venir", "annuler", "Annuler mon créneau", "cancel my shift", "j'peux pas venir demain")
    for number, words in enumerate(phrases):
        made = await shift(talk, date(2026, 11, 27), f"0{number}:00", f"0{number}:30", nadia, coord=coord)
        said = await talk(words, who="nadia")
        assert said.has(f"Annuler votre créneau du ven. 27 nov. 0{number}:00-0{number}:30", "OUI", "NON"), words
        assert (await seat(talk, made.id, nadia)).status == "assigned"  # nothing before the answer
        said = await talk.confirm(said, who="nadia", word="oui")
        assert said.has("Créneau annulé", "équipe est prévenue")
        assert (await seat(talk, made.id, nadia)).released_reason == "worker_cancelled"
        alert = (await alerts(talk, coord))[-1]
        assert f"Nadia Diallo (GV-WKR3) ne viendra pas le ven. 27 nov. 0{number}:00" in alert and "a annulé" in alert
    assert len(await alerts(talk, coord)) == len(phrases)


async def test_cancel_picks_among_several_and_non_keeps_it(talk: Talk) -> None:
    """Several shifts ahead: a numbered list; NON at the confirmation keeps the shift."""
    nadia = await worker(talk)
    await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia)
    later = await shift(talk, date(2026, 12, 1), "11:30", "14:00", nadia)
    said = await talk("je ne pourrai pas venir", who="nadia")
    assert said.has("Quel créneau annuler", "ven. 27 nov.", "mar. 1 déc.")
    said = await talk.choose(2, who="nadia")
    assert said.has("Annuler votre créneau du mar. 1 déc. 11:30-14:00")
    said = await talk("non", who="nadia")
    assert said.has("Rien n'a changé")
    assert (await seat(talk, later.id, nadia)).status == "assigned"


async def test_cancel_inside_the_step_cancels_the_step_not_the_shift(talk: Talk) -> None:
    """CANCEL at the confirmation ends the question and keeps the shift; the identity is not opted out."""
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia)
    await talk("annuler mon creneau", who="nadia")
    said = await talk("cancel", who="nadia")
    assert not said.has("Créneau annulé")
    assert (await seat(talk, made.id, nadia)).status == "assigned"
    identity = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE address = ?", (talk.address("nadia"),)
    )
    assert identity is not None and identity[0] is None
    said = await talk("annuler", who="nadia")  # "annuler" outside a step starts the cancellation again
    assert said.has("Annuler votre créneau du ven. 27 nov.")
    assert (await talk("annuler", who="nadia")).has("Rien n'a changé")  # and inside it, means NON
    assert (await seat(talk, made.id, nadia)).status == "assigned"


async def test_single_word_stop_and_cancel_stay_the_opt_out(talk: Talk) -> None:
    """Outside a step, CANCEL alone is the channel's opt-out, not a shift cancellation."""
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia)
    await talk("cancel", who="nadia")
    identity = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE address = ? AND channel = ?",
        (talk.address("nadia"), talk.identity_channel.value),
    )
    assert identity is not None and identity[0] is not None
    assert (await seat(talk, made.id, nadia)).status == "assigned"


async def test_nothing_to_cancel(talk: Talk) -> None:
    """A worker with no shift ahead is told so; a shift that began while OUI was awaited is not cancelled."""
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia)
    talk.clock.set(at(11, 27, 8, 55))
    prompt = await talk("je peux pas venir", who="nadia")
    talk.clock.set(at(11, 27, 9, 1))
    said = await talk.confirm(prompt, who="nadia")
    assert said.has("déjà commencé")
    assert (await seat(talk, made.id, nadia)).status == "assigned"
    assert (await talk("je peux pas venir", who="nadia")).has("pas de créneau à venir")


async def test_a_forged_sms_yes_does_not_cancel_the_shift(talk: Talk) -> None:
    """By SMS the cancellation prompt carries a code: a bare OUI or "1" gets the code again, three wrong
    answers drop it; the seat stays and the coordinator hears nothing."""
    if talk.channel != "sms":
        pytest.skip("a forged sender is an SMS matter")
    coord = await coordinator(talk)
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia, coord=coord)
    prompt = await talk("annuler mon creneau", who="nadia")
    assert prompt.code is not None and "1 OUI" not in prompt.text, prompt.text
    for forged in ("OUI", "1", "o"):
        said = await talk(forged, who="nadia")
        if forged != "o":
            assert said.code == prompt.code and said.has("Il faut le code"), said.text
        assert (await seat(talk, made.id, nadia)).status == "assigned"
    assert said.has("Code faux 3 fois"), said.text
    await talk(f"OUI {prompt.code}", who="nadia")
    assert (await seat(talk, made.id, nadia)).status == "assigned"
    assert await alerts(talk, coord) == []


async def test_the_sms_code_cancels_the_shift_once(talk: Talk) -> None:
    """The worker's own phone shows the code: OUI and the code free the seat; the coordinator is told once."""
    if talk.channel != "sms":
        pytest.skip("the code is for SMS only")
    coord = await coordinator(talk)
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia, coord=coord)
    prompt = await talk("je peux pas venir", who="nadia")
    said = await talk(f"oui {prompt.code}", who="nadia")
    assert said.has("Créneau annulé"), said.text
    await talk(f"oui {prompt.code}", who="nadia")
    assert (await seat(talk, made.id, nadia)).released_reason == "worker_cancelled"
    assert len(await alerts(talk, coord)) == 1


async def test_the_cancel_buttons_work_without_a_code(talk: Talk) -> None:
    """On Telegram and in the terminal the prompt has OUI/NON buttons and no code, on WhatsApp numbered
    choices and no code (WhatsApp verified the number); a forged button does nothing."""
    if talk.channel == "sms":
        pytest.skip("SMS has no buttons")
    coord = await coordinator(talk)
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 27), "09:00", "11:00", nadia, coord=coord)
    prompt = await talk("annuler mon creneau", who="nadia")
    shown = prompt.buttons if talk.buttons else prompt.texts[-1].splitlines()[-2:]
    assert prompt.code is None and shown == ["1 OUI", "2 NON"], prompt.text
    if talk.buttons:
        said = await talk.press("shifts.my_drop_confirm.yes:forged", who="nadia")  # not the pending token
        assert said.has("Rien n'a changé") and (await seat(talk, made.id, nadia)).status == "assigned"
    await talk("annuler mon creneau", who="nadia")
    said = await talk.choose(1, who="nadia")
    assert said.has("Créneau annulé"), said.text
    assert (await seat(talk, made.id, nadia)).released_reason == "worker_cancelled"
    assert len(await alerts(talk, coord)) == 1


# --- Over the real channels: the reminder and its answer ---------------------------------------


@contextlib.asynccontextmanager
async def sending(talk: Talk) -> AsyncIterator[FakeTwilio | None]:
    """The talk's outbox sending: to the fake Telegram the talk already uses, or to a fake Twilio."""
    if isinstance(talk, TelegramTalk):
        talk.core.outbox.add_sender(TelegramSender(talk.telegram.application.bot, 30))
        yield None
        return
    async with FakeTwilio() as twilio:
        settings = talk.core.settings.model_copy(update={"twilio_api_url": twilio.url, "sms_max_per_second": 50})
        talk.core.outbox.add_sender(SmsSender(settings))
        kinds = message_kinds(talk.core.routers)
        talk.core.outbox.add_sender(WhatsAppSender(settings, talk.core.store, talk.core.clock, kinds))
        yield twilio


async def test_reminder_answered_after_a_restart(talk: Talk) -> None:
    """The reminder reaches the phone or the chat; after a restart, its number or button still answers, once."""
    if talk.channel == "console":
        pytest.skip("the terminal receives no reminders")
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 26), "11:30", "14:30", nadia)
    talk.clock.set(at(11, 25, 18, 0))
    async with sending(talk) as twilio:
        await talk.core.outbox.tick()
        await talk.core.outbox.drain()
        if twilio is not None:
            [question] = [m["Body"] for m in twilio.sent_to(talk.recipient("nadia")) if "Vous venez" in m["Body"]]
            assert question.endswith("Répondez OUI ou NON.\n1 OUI\n2 NON")
    await talk.restart()
    async with sending(talk) as twilio:
        await talk.core.outbox.tick()
        assert await talk.core.outbox.drain() == 0  # nothing repeated
        said = await talk.choose(1, who="nadia")  # "1" by SMS, the OUI button on Telegram
        assert said.has("Merci, c'est noté : vous venez le jeu. 26 nov. 11:30-14:30, Conciergerie")
        said = await (talk.choose(1, who="nadia") if isinstance(talk, TelegramTalk) else talk("oui", who="nadia"))
        assert said.has("déjà noté")
    assert (await seat(talk, made.id, nadia)).answer == "yes"
    if isinstance(talk, TelegramTalk):
        asked = [m for m in talk.fake.sent_to(int(talk.address("nadia"))) if "Vous venez" in str(m["text"])]
        assert len(asked) == 1
        assert [row[0]["text"] for row in asked[0]["reply_markup"]["inline_keyboard"]] == ["OUI", "NON"]


# --- Personal data -------------------------------------------------------------------------------


async def test_export_shows_the_shifts_and_forget_keeps_the_payroll(talk: Talk) -> None:
    """MES DONNEES names the shifts; forgetting keeps the worked hours under an anonymous person."""
    nadia = await worker(talk)
    made = await shift(talk, date(2026, 11, 23), "09:00", "12:00", nadia, coord=nadia)
    said = await talk("mes donnees", who="nadia")
    assert said.has("Premières Heures : contrat 12 h par semaine, créneaux : 1.")
    export = await privacy.export_person(talk.core.store, nadia, talk.core.dispatcher.personal_data)
    [row] = export["features"]["shifts"]["shifts"]
    assert (row["date"], row["start"], row["activity"], row["status"]) == (
        "2026-11-23",
        "09:00",
        "Nettoyage des locaux",
        "assigned",
    )
    await privacy.forget_person(talk.core.store, nadia, talk.core.dispatcher.personal_data, talk.clock.now())
    kept = await seat(talk, made.id, nadia)
    assert kept.status == "assigned" and kept.name is None and kept.member_code is None
    async with talk.core.store.transaction() as db:
        assert await model.planned_minutes(db, nadia, date(2026, 11, 23)) == 180
        assert (await model.get_shift(db, made.id)).coordinator_id is None  # type: ignore[union-attr]
