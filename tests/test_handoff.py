"""Hand-off over every channel: asking for a person in everyday words, by the menu or AIDE; when a person
will answer; the next messages filed in the conversation (crisis numbers first, STOP kept); the 24 hours;
the console's API (list, read, answer through the outbox to the person's own channel, close); erasure."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot import people
from bot.clock import FakeClock
from bot.core import Core
from bot.messages import Channel, Inbound
from bot.people import privacy
from bot.text import fold
from handlers.handoff import exchanges, hours, model
from handlers.handoff.model import HandoffError
from tests.conftest import PARIS, START, Said, Talk, TelegramTalk
from tests.helpers import register_here
from tests.test_shifts_worker import sending

OPENED = "un membre de l'équipe vous répond ici"
DURING_HOURS = "en général sous 4 h (lun-ven 9h-18h)"
RECEIVED = "Message transmis à l'équipe"
AWA = "GV-EKP3"  # demo data: staff

ASKING = [
    "parler à quelqu'un",
    "PARLER",
    "parle",
    "parler a qqn",
    "je veux parler a une personne",
    "Je voudrais parler à quelqu'un de l'équipe svp",
    "bonjour, est ce que je peux parler avec un humain",
    "jveux parlé a kelkun",
    "g besoin de parler",
    "j'ai besoin de parler à quelqu'un, c'est pour mon dossier",
    "je veux une vraie personne pas un robot",
    "contacter un membre de l'équipe",
    "talk to someone",
    "can I speak to a real person please",
    "i need to talk",
    "/parler",
]
NOT_ASKING = [
    "assistante sociale",
    "je veux parler à une assistante sociale",
    "comment aider quelqu'un qui dort dehors",
    "je ne parle pas francais",
    "douche 13e",
    "personne",
]


async def person_id(core: Core, channel: Channel, address: str) -> int:
    row = await core.store.fetchone(
        "SELECT person_id FROM identities WHERE channel = ? AND address = ?", (channel.value, address)
    )
    assert row is not None
    return int(row[0])


async def staff_id(core: Core) -> int:
    async with core.store.transaction() as db:
        found = await people.find_person_id(db, member_code=AWA)
    assert found is not None
    return found


async def messages(core: Core) -> list[tuple[str, str]]:
    rows = await core.store.fetchall("SELECT direction, body FROM handoff_messages ORDER BY id")
    return [(row[0], row[1]) for row in rows]


async def open_count(core: Core) -> int:
    row = await core.store.fetchone("SELECT COUNT(*) FROM handoff_conversations WHERE closed_at IS NULL")
    assert row is not None
    return int(row[0])


def position(said: Said, label: str) -> int:
    """The number of a choice, as buttons or as an SMS's numbered lines."""
    lines = said.buttons or [line for text in said.texts for line in text.splitlines() if line[:1].isdigit()]
    return next(int(line.split()[0]) for line in lines if fold(label) in fold(line))


# --- Asking ------------------------------------------------------------------------------------------


async def test_everyday_wordings_open_a_conversation(core: Core) -> None:
    """Every way of asking for a person, typos and SMS spelling included, opens one; a social worker stays
    orientation's answer, and other questions are not a request for a person."""
    for n, text in enumerate(ASKING):
        replies = await core.dispatcher.handle(Inbound(Channel.CONSOLE, f"asker-{n}", text))
        shown = fold(" ".join(reply.text for reply in replies))
        assert fold(OPENED) in shown or fold("member of the team will answer") in shown, (text, shown)
    assert await open_count(core) == len(ASKING)
    for n, text in enumerate(NOT_ASKING):
        replies = await core.dispatcher.handle(Inbound(Channel.CONSOLE, f"other-{n}", text))
        assert fold(OPENED) not in fold(" ".join(reply.text for reply in replies)), text
    assert await open_count(core) == len(ASKING)
    replies = await core.dispatcher.handle(Inbound(Channel.CONSOLE, "social", "parler à une assistante sociale"))
    assert "suivi social" in fold(" ".join(reply.text for reply in replies))


async def test_the_answer_says_when_a_person_will_answer(talk: Talk) -> None:
    """During the team's hours: within 4 h, with the hours; one short SMS, GSM-7 in French."""
    said = await talk("je voudrais parler à quelqu'un")
    assert said.has("C'est noté", OPENED, DURING_HOURS, "Urgence : 112"), said.text
    if talk.channel == "sms":
        assert len(said.texts) == 1 and len(said.texts[0]) <= 160
    assert await open_count(talk.core) == 1


async def test_outside_hours_it_says_when_the_team_is_back(talk: Talk) -> None:
    """On a Friday evening the answer comes from Monday 9h; before Christmas, after the holiday and the weekend."""
    talk.clock.set(datetime(2026, 11, 27, 20, 0, tzinfo=PARIS))
    assert (await talk("parler")).has(OPENED, "lundi à partir de 9h (lun-ven 9h-18h)")
    now = datetime(2026, 12, 24, 19, 0, tzinfo=PARIS)
    assert hours.team_hours().next_opening(now, PARIS) == datetime(2026, 12, 28, 9, 0, tzinfo=PARIS)
    english = hours.when_answered(talk.core.i18n, "en", now, PARIS)
    assert english == "Monday from 9:00 (Mon-Fri 9:00-18:00)"


async def test_the_menu_and_aide_offer_it(talk: Talk) -> None:
    """The main menu has "Parler à qqn"; so has AIDE for a registered resident; both open it."""
    menu = await talk("menu")
    said = await talk.choose(position(menu, "Parler à qqn"))
    assert said.has(OPENED)
    await register_here(talk, "karim", {"resident"}, "Karim Benali")
    helped = await talk("aide", who="karim")
    assert helped.has("PARLER : parler à quelqu'un de l'équipe")
    assert (await talk.choose(position(helped, "PARLER"), who="karim")).has(OPENED)
    assert await open_count(talk.core) == 2
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM handoff_messages")
    assert row is not None and row[0] == 0  # a pressed choice is not a message for the team


async def test_staff_menus_do_not_offer_it(talk: Talk) -> None:
    """Staff answer the conversations: the entry is not in their menu."""
    await register_here(talk, "awa", {"staff"}, "Awa Diop")
    assert not (await talk("menu", who="awa")).has("Parler à qqn")


async def test_one_open_conversation_per_person(talk: Talk) -> None:
    """Asking again says it is open already, files the words, and opens no second one."""
    await talk("parler")
    said = await talk("je veux parler à quelqu'un svp")
    assert said.has("Votre demande est déjà transmise", DURING_HOURS)
    assert (await talk("parler")).has("déjà transmise")
    assert await open_count(talk.core) == 1
    assert await messages(talk.core) == [
        ("in", "parler"),
        ("in", "je veux parler à quelqu'un svp"),
        ("in", "parler"),
    ]


# --- While it is open ------------------------------------------------------------------------------


async def test_next_messages_go_to_the_conversation(talk: Talk) -> None:
    """Free text is filed, not answered by the bot: one short acknowledgement, then silence for an hour."""
    await talk("parler")
    assert (await talk("j'ai perdu mes papiers")).has(RECEIVED)
    quiet = await talk("douche 13e")  # filed for the team: no list of showers, no SMS at all
    assert quiet.texts == [], quiet.text
    talk.clock.advance(minutes=61)
    assert (await talk("vous etes la ?")).has(RECEIVED)
    assert await messages(talk.core) == [
        ("in", "parler"),
        ("in", "j'ai perdu mes papiers"),
        ("in", "douche 13e"),
        ("in", "vous etes la ?"),
    ]


async def test_menu_closes_nothing_and_the_bot_still_answers(talk: Talk) -> None:
    """MENU shows the menu and its numbers answer; the bot's own words work; the conversation stays open."""
    await talk("parler")
    menu = await talk("menu")
    assert menu.has("Dormir ce soir (115)")
    assert (await talk.choose(1)).has("115")
    assert (await talk("aide")).has("Ecrivez votre question avec vos mots")
    assert await open_count(talk.core) == 1
    assert (await talk("toujours là ?")).has(RECEIVED)


async def test_crisis_words_come_first_and_are_filed(talk: Talk) -> None:
    """Danger words get the emergency numbers first, and staff find the message in the conversation."""
    await talk("parler")
    said = await talk("je veux mourir")
    assert said.texts and said.texts[0].startswith("3114"), said.text
    assert ("in", "je veux mourir") in await messages(talk.core)


async def test_crisis_and_asking_for_a_person_opens_it_after_the_numbers(core: Core) -> None:
    """Numbers first; the conversation opens too, and when a person answers comes in a message of its own."""
    replies = await core.dispatcher.handle(
        Inbound(Channel.SMS, "+33639911111", "j'ai besoin de parler, je veux mourir")
    )
    assert replies[0].text.startswith("3114")
    [opened] = await model.list_open(core.store, core.clock.now())
    assert opened.opened_via == "crisis" and opened.last_message == "j'ai besoin de parler, je veux mourir"
    row = await core.store.fetchone("SELECT body FROM outbox WHERE cause = ?", (f"handoff:opened:{opened.id}",))
    assert row is not None and fold(OPENED) in fold(row[0])


async def test_stop_still_opts_out(talk: Talk) -> None:
    """STOP in an open conversation opts out as always; staff see that an answer cannot reach the person."""
    await talk("parler")
    assert (await talk("STOP")).has("vous ne recevrez plus de messages")
    who = await person_id(talk.core, talk.identity_channel, talk.address("alice"))
    [conversation] = await model.list_open(talk.core.store, talk.core.clock.now())
    assert conversation.person_id == who
    thread = await model.get(talk.core.store, conversation.id, talk.core.clock.now())
    assert not thread.reachable
    with pytest.raises(HandoffError) as refused:
        await model.answer(
            talk.core.store, talk.core.clock, talk.core.i18n, conversation.id, await staff_id(talk.core), "ok"
        )
    assert refused.value.key == "handoff.error_unreachable"


async def test_it_closes_24_hours_after_the_last_message(talk: Talk) -> None:
    """A message keeps it open another 24 hours; after 24 hours of silence the bot answers again."""
    await talk("parler")
    talk.clock.advance(hours=23)
    assert (await talk("j'attends")).has(RECEIVED)
    talk.clock.advance(hours=23)
    assert await open_count(talk.core) == 1
    talk.clock.advance(hours=2)
    assert (await talk("douche 13e")).has("Douche")  # the bot's answer again, not filed
    assert await open_count(talk.core) == 0
    [closed] = await model.list_closed(talk.core.store, talk.core.clock.now())
    assert closed.closed_reason == "expired" and closed.closed_at == START + timedelta(hours=47)
    assert not closed.last_from_staff
    assert ("in", "douche 13e") not in await messages(talk.core)


# --- The console's API -----------------------------------------------------------------------------


async def test_answer_goes_out_on_the_persons_own_channel(talk: Talk) -> None:
    """An answer is filed and queued in one go, to the person's address, and reaches their phone or chat."""
    if talk.channel == "console":
        pytest.skip("the terminal receives nothing through the outbox")
    await talk("parler")
    await talk("j'ai perdu mes papiers")
    core = talk.core
    [conversation] = await model.list_open(core.store, core.clock.now())
    assert conversation.channel == talk.identity_channel and conversation.address == talk.address("alice")
    assert conversation.last_message == "j'ai perdu mes papiers" and conversation.waiting_since == START
    sent = await model.answer(
        core.store, core.clock, core.i18n, conversation.id, await staff_id(core), "Passez demain 10h"
    )
    assert sent.staff_name == "Awa Diallo (équipe)" and sent.direction == "out"
    row = await core.store.fetchone(
        "SELECT channel, address, body, status FROM outbox WHERE cause = ?", (f"handoff:answer:{sent.id}",)
    )
    assert row is not None and tuple(row) == (
        talk.identity_channel.value,
        talk.address("alice"),
        "L'équipe : Passez demain 10h",
        "pending",
    )
    async with sending(talk) as twilio:
        assert await core.outbox.drain() >= 1
        if twilio is not None:
            assert [m["Body"] for m in twilio.sent_to(talk.recipient("alice"))] == ["L'équipe : Passez demain 10h"]
    if isinstance(talk, TelegramTalk):
        texts = [m["text"] for m in talk.fake.sent_to(int(talk.address("alice")))]
        assert texts[-1] == "L'équipe : Passez demain 10h"
    [after] = await model.list_open(core.store, core.clock.now())
    assert after.waiting_since is None and after.last_from_staff
    assert (await talk("merci, a demain")).has(RECEIVED)  # after an answer, the next message is acknowledged


async def test_get_shows_the_messages_and_recent_exchanges(talk: Talk) -> None:
    """Staff read the conversation and what the person asked the bot before, with the bot's replies."""
    await talk("douche 13e")
    await talk("parler")
    await talk("mes papiers")
    core = talk.core
    [conversation] = await model.list_open(core.store, core.clock.now())
    thread = await model.get(core.store, conversation.id, core.clock.now())
    assert [(m.direction, m.body) for m in thread.messages] == [("in", "parler"), ("in", "mes papiers")]
    asked = [exchange.inbound for exchange in thread.exchanges]
    assert asked == ["douche 13e", "parler", "mes papiers"]
    assert "douche" in fold(thread.exchanges[0].replies) and fold(OPENED) in fold(thread.exchanges[1].replies)


async def test_close_tells_the_person_and_gives_the_bot_back(talk: Talk) -> None:
    """Closed by staff: the person is told how to ask again, their messages go to the bot, it stays readable."""
    await talk("parler")
    core, staff = talk.core, await staff_id(talk.core)
    [conversation] = await model.list_open(core.store, core.clock.now())
    assert await model.close(core.store, core.clock, core.i18n, conversation.id, staff)
    assert not await model.close(core.store, core.clock, core.i18n, conversation.id, staff)
    notice = await core.store.fetchone(
        "SELECT body FROM outbox WHERE cause = ?", (f"handoff:closed:{conversation.id}",)
    )
    if talk.channel != "console":
        assert notice is not None and "écrivez PARLER" in notice[0]
    assert (await talk("douche 13e")).has("Douche")
    with pytest.raises(HandoffError) as refused:
        await model.answer(core.store, core.clock, core.i18n, conversation.id, staff, "trop tard")
    assert refused.value.key == "handoff.error_closed"
    thread = await model.get(core.store, conversation.id, core.clock.now())
    assert thread.conversation.closed_reason == "staff" and thread.conversation.closed_by == staff
    assert (await talk("parler")).has(OPENED)  # a new one may open


async def test_an_answer_opens_an_expired_conversation_again(core: Core, clock: FakeClock) -> None:
    """A Friday-night request expired on Saturday is answered on Monday: it opens again for the person."""
    await core.dispatcher.handle(Inbound(Channel.SMS, "+33639922222", "parler"))
    [conversation] = await model.list_open(core.store, core.clock.now())
    clock.advance(days=2)
    assert await model.list_open(core.store, core.clock.now()) == []
    await model.answer(core.store, core.clock, core.i18n, conversation.id, await staff_id(core), "Bonjour")
    [again] = await model.list_open(core.store, core.clock.now())
    assert again.id == conversation.id


async def test_only_staff_answer_and_texts_are_checked(core: Core) -> None:
    """Someone without the staff role is refused; an empty or too long answer is refused; nothing is queued."""
    await core.dispatcher.handle(Inbound(Channel.SMS, "+33639933333", "parler"))
    [conversation] = await model.list_open(core.store, core.clock.now())
    resident = await person_id(core, Channel.SMS, "+33639933333")
    cases = [
        (resident, "bonjour", "handoff.error_not_staff"),
        (await staff_id(core), " \n ", "handoff.error_empty"),
        (await staff_id(core), "x" * (model.MAX_ANSWER + 1), "handoff.error_too_long"),
    ]
    for who, text, key in cases:
        with pytest.raises(HandoffError) as refused:
            await model.answer(core.store, core.clock, core.i18n, conversation.id, who, text)
        assert refused.value.key == key
    with pytest.raises(HandoffError, match=r"handoff\.error_not_found"):
        await model.get(core.store, 999, core.clock.now())
    assert await core.store.fetchone("SELECT 1 FROM outbox WHERE cause LIKE 'handoff:answer:%'") is None


async def test_staff_are_told_once_at_the_next_opening_hour(core: Core, clock: FakeClock) -> None:
    """Each staff member gets one notice per conversation, naming nobody; at night it waits for 9h."""
    clock.set(datetime(2026, 11, 27, 22, 0, tzinfo=PARIS))
    for _ in range(2):
        await core.dispatcher.handle(Inbound(Channel.SMS, "+33639944444", "parler"))
    rows = await core.store.fetchall("SELECT cause, body, due_at FROM outbox WHERE cause LIKE 'handoff:new:%'")
    async with core.store.transaction() as db:
        staff = await people.staff_ids(db)
    assert len(rows) == len(staff) >= 1
    assert {row[2] for row in rows} == {"2026-11-30T08:00:00+00:00"}
    assert all("+33639944444" not in row[1] for row in rows)


# --- Exchanges and privacy ---------------------------------------------------------------------------


async def test_exchanges_are_bounded(core: Core, clock: FakeClock) -> None:
    """The last 20 exchanges of a person, for 7 days; staff's are not kept."""
    for n in range(exchanges.KEEP + 5):
        await core.dispatcher.handle(Inbound(Channel.SMS, "+33639955555", f"question {n}"))
    who = await person_id(core, Channel.SMS, "+33639955555")
    async with core.store.transaction() as db:
        kept = await exchanges.recent(db, who, core.clock.now())
    assert [e.inbound for e in kept] == [f"question {n}" for n in range(5, exchanges.KEEP + 5)]
    clock.advance(days=8)
    await core.dispatcher.handle(Inbound(Channel.SMS, "+33639955555", "encore"))
    rows = await core.store.fetchall("SELECT inbound FROM handoff_exchanges WHERE person_id = ?", (who,))
    assert [row[0] for row in rows] == ["encore"]
    await core.dispatcher.handle(Inbound(Channel.SMS, "+33639980001", "menu"))  # Awa, staff
    staff = await person_id(core, Channel.SMS, "+33639980001")
    assert await core.store.fetchone("SELECT 1 FROM handoff_exchanges WHERE person_id = ?", (staff,)) is None


async def test_export_and_erasure_cover_it_all(talk: Talk) -> None:
    """MES DONNEES counts the conversations; OUBLIER leaves no conversation, message or exchange of theirs."""
    await register_here(talk, "karim", {"resident"}, "Karim Benali", code="GV-HND7")
    await talk("parler", who="karim")
    await talk("mon dossier caf", who="karim")
    core = talk.core
    [conversation] = await model.list_open(core.store, core.clock.now())
    if talk.channel != "console":  # the terminal cannot be answered through the outbox
        await model.answer(core.store, core.clock, core.i18n, conversation.id, await staff_id(core), "Venez lundi")
    assert (await talk("mes données", who="karim")).has("Conversations avec l'équipe : 1")
    who = conversation.person_id
    await privacy.forget_person(core.store, who, core.dispatcher.personal_data, core.clock.now(), core.i18n)
    for table, where in (
        ("handoff_conversations", "person_id = ?"),
        ("handoff_exchanges", "person_id = ?"),
        ("handoff_messages", "conversation_id IN (SELECT id FROM handoff_conversations WHERE person_id = ?)"),
    ):
        assert await core.store.fetchone(f"SELECT 1 FROM {table} WHERE {where}", (who,)) is None, table
    assert await core.store.fetchone("SELECT 1 FROM handoff_messages") is None
