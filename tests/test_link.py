"""Linking a new account to a registered person with a one-time code, over every channel."""

from __future__ import annotations

import re

import pytest

from bot.core import Core
from bot.messages import Channel, Inbound
from bot.people import add_person
from handlers.account import link
from tests.conftest import Talk
from tests.helpers import register_here

REGISTERED_PHONE = "+33639982001"
REGISTERED_TELEGRAM = "880001"
CODE = "GV-RKM4"


def identity_channel(talk: Talk) -> Channel:
    return Channel.CONSOLE if talk.channel == "console" else Channel(talk.channel)


async def registered(talk: Talk, name: str = "Karim") -> int:
    """A registered person (code GV-RKM4) whose known account is on another channel than the talk's."""
    phone = None if talk.channel == "sms" else REGISTERED_PHONE
    telegram = REGISTERED_TELEGRAM if talk.channel == "sms" else None
    return await add_person(
        talk.core.store,
        talk.core.clock.now(),
        name,
        {"resident"},
        phone=phone,
        telegram_id=telegram,
        language="fr",
        member_code=CODE,
    )


async def staff(talk: Talk, who: str = "staff") -> int:
    return await register_here(talk, who, {"staff"}, "Awa", language=None)


async def code_in_outbox(talk: Talk) -> str:
    row = await talk.core.store.fetchone("SELECT body FROM outbox WHERE cause LIKE 'link-code:%' ORDER BY id DESC")
    assert row is not None, "no code was queued"
    match = re.search(r"\b(\d{6})\b", row[0])
    assert match is not None
    return match.group(1)


async def owner_of(talk: Talk, who: str) -> int | None:
    row = await talk.core.store.fetchone(
        "SELECT person_id FROM identities WHERE channel = ? AND address = ?",
        (identity_channel(talk).value, talk.address(who)),
    )
    return int(row[0]) if row else None


async def test_right_code_links_the_account(talk: Talk) -> None:
    """The code sent to the other account links this one; the person is told there; the link is recorded."""
    person_id = await registered(talk)
    await talk("bonjour")
    assert (await talk("LIER")).has("numéro de téléphone inscrit ou votre code membre")
    assert (await talk("gv rkm4")).has("un code à 6 chiffres")
    said = await talk(await code_in_outbox(talk))
    assert said.has("C'est fait, Karim")
    assert await owner_of(talk, "alice") == person_id
    links = await talk.core.store.fetchall(
        "SELECT channel, method FROM identity_links WHERE person_id = ?", (person_id,)
    )
    assert [tuple(r) for r in links] == [(identity_channel(talk).value, "code")]
    told = await talk.core.store.fetchall("SELECT channel, body FROM outbox WHERE cause LIKE 'link-done:%'")
    assert len(told) == 1 and "vient d'être relié" in told[0][1]
    assert told[0][0] != identity_channel(talk).value
    guests = await talk.core.store.fetchone("SELECT COUNT(*) FROM persons WHERE status = 'guest'")
    assert guests is not None and guests[0] == 0


async def test_linking_by_phone_number(talk: Talk) -> None:
    """The registered phone number, typed the French way, works as well as the member code."""
    if talk.channel == "sms":
        return  # the SMS person's registered account is a Telegram one: covered by the member code
    person_id = await registered(talk)
    await talk("/link")
    assert (await talk("06 39 98 20 01")).has("un code à 6 chiffres")
    (row,) = await talk.core.store.fetchall("SELECT channel, address FROM outbox WHERE cause LIKE 'link-code:%'")
    assert tuple(row) == ("sms", REGISTERED_PHONE)
    await talk(await code_in_outbox(talk))
    assert await owner_of(talk, "alice") == person_id


async def _ask(talk: Talk, who: str = "alice") -> None:
    await registered(talk)
    await talk("/link", who=who)
    await talk(CODE, who=who)


async def test_wrong_code_counts_tries_and_links_nothing(talk: Talk) -> None:
    """A wrong code says how many tries are left and links nothing."""
    await _ask(talk)
    one_time = await code_in_outbox(talk)
    wrong = f"{(int(one_time) + 1) % 1_000_000:06d}"
    assert (await talk(wrong)).has("pas le bon code", "4 essai")
    registered_id = (await talk.core.store.fetchone("SELECT id FROM persons WHERE member_code = ?", (CODE,)))[0]
    assert await owner_of(talk, "alice") != registered_id


async def test_five_wrong_codes_kill_the_code(talk: Talk) -> None:
    """After five wrong tries even the right code is refused."""
    await _ask(talk)
    one_time = await code_in_outbox(talk)
    wrong = f"{(int(one_time) + 1) % 1_000_000:06d}"
    for _ in range(4):
        await talk(wrong)
    assert (await talk(wrong)).has("Trop d'essais")
    await talk("lier")  # even starting the code step again
    said = await talk(one_time)
    registered_id = (await talk.core.store.fetchone("SELECT id FROM persons WHERE member_code = ?", (CODE,)))[0]
    assert await owner_of(talk, "alice") != registered_id
    assert not said.has("C'est fait")


async def test_expired_code_is_refused(talk: Talk) -> None:
    """A code typed after 15 minutes is refused."""
    await _ask(talk)
    one_time = await code_in_outbox(talk)
    talk.clock.advance(minutes=16)
    assert (await talk(one_time)).has("a expiré")


async def test_a_code_for_someone_else_does_not_link(talk: Talk) -> None:
    """Bob typing the code Alice asked for links nothing: a code belongs to the account that asked."""
    await _ask(talk, who="alice")
    one_time = await code_in_outbox(talk)
    await talk("lier", who="bob")
    await talk(CODE, who="bob")
    said = await talk(one_time, who="bob")
    assert not said.has("C'est fait")
    registered_id = (await talk.core.store.fetchone("SELECT id FROM persons WHERE member_code = ?", (CODE,)))[0]
    assert await owner_of(talk, "bob") != registered_id


async def test_unknown_number_gets_the_same_neutral_answer(talk: Talk) -> None:
    """Asking with a number nobody registered says the same as for a registered one, and sends nothing."""
    await talk("lier")
    said = await talk("06 39 98 99 99")
    assert said.has("Si ce numéro ou ce code est inscrit")
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM outbox")
    assert row is not None and row[0] == 0


UNKNOWN_CODE = "GV-2222"  # a member code nobody has
UNKNOWN_PHONE = "06 39 98 99 99"


async def link_codes_queued(talk: Talk) -> int:
    row = await talk.core.store.fetchone("SELECT COUNT(*) FROM outbox WHERE cause LIKE 'link-code:%'")
    assert row is not None
    return int(row[0])


async def conversation(talk: Talk, who: str, typed: list[str]) -> list[str]:
    """What the person saw after each message, as text."""
    return [(await talk(text, who=who)).text for text in typed]


async def test_known_and_unknown_get_the_same_answers(talk: Talk) -> None:
    """LIER, then a registered code or one nobody has, then wrong codes: every answer is the same word for word;
    only the registered person is sent a code."""
    await registered(talk)
    wrong = ["000000", "111111", "222222", "333333", "444444"]
    known = await conversation(talk, "alice", ["lier", CODE, *wrong])
    assert await link_codes_queued(talk) == 1
    if await code_in_outbox(talk) in wrong:  # one chance in a million and a half: the test would mean nothing
        return
    for who, target in (("bob", UNKNOWN_CODE), ("carol", UNKNOWN_PHONE)):
        unknown = await conversation(talk, who, ["lier", target, *wrong])
        assert unknown == known, who
    assert await link_codes_queued(talk) == 1
    assert "Si ce numéro ou ce code est inscrit" in known[1]
    assert "4 essai" in known[2] and "Trop d'essais" in known[6]


async def test_the_limit_per_person_asked_for_is_silent(talk: Talk) -> None:
    """Past three codes an hour to one person nothing more is sent; the asker is told exactly what the others were."""
    await registered(talk)
    answers = [await conversation(talk, who, ["lier", CODE, "000000"]) for who in ("a", "b", "c", "d", "e")]
    assert all(answer == answers[0] for answer in answers), answers
    assert await link_codes_queued(talk) == 3
    talk.clock.advance(minutes=61)
    await conversation(talk, "f", ["lier", CODE])
    assert await link_codes_queued(talk) == 4


async def test_the_limit_per_asking_account_does_not_depend_on_the_target(talk: Talk) -> None:
    """A sixth request in an hour from one account is refused, in the same words whether it names someone or not."""
    await registered(talk)
    asks = ["lier", CODE] * 6
    known = await conversation(talk, "alice", asks)
    unknown = await conversation(talk, "bob", ["lier", UNKNOWN_CODE] * 6)
    assert known == unknown
    assert "Trop de demandes" in known[-1] and all("Trop de demandes" not in text for text in known[:-1])
    assert await link_codes_queued(talk) == 3  # the per-person limit, silently
    talk.clock.advance(minutes=61)
    assert "Si ce numéro ou ce code est inscrit" in (await conversation(talk, "alice", ["lier", CODE]))[-1]


async def test_the_overall_limit_bounds_what_is_sent(talk: Talk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bot's hourly number of requests, everyone is refused the same way: nothing is sent to anyone."""
    monkeypatch.setattr(link, "MAX_REQUESTS_OVERALL", 3)
    await registered(talk)
    for who in ("a", "b", "c"):
        await conversation(talk, who, ["lier", UNKNOWN_CODE])
    refused_known = await conversation(talk, "d", ["lier", CODE])
    refused_unknown = await conversation(talk, "e", ["lier", UNKNOWN_PHONE])
    assert refused_known == refused_unknown and "Trop de demandes" in refused_known[-1]
    assert await link_codes_queued(talk) == 0
    talk.clock.advance(minutes=61)
    await conversation(talk, "d", ["lier", CODE])
    assert await link_codes_queued(talk) == 1


async def test_every_request_does_the_same_work(core: Core) -> None:
    """A registered code and an unknown one run the same statements (a code row is written either way);
    only the outbox write is added for the registered one, so the answer does not come back sooner."""
    now = core.clock.now()
    await add_person(core.store, now, "Karim", {"resident"}, phone=REGISTERED_PHONE, member_code=CODE)
    statements: list[str] = []

    def traced(sql: str) -> None:
        statements.append(re.sub(r"'[^']*'|\b\d+\b|\bNULL\b", "?", " ".join(sql.split())))

    async def ask(address: str, typed: str) -> list[str]:
        await core.dispatcher.handle(Inbound(Channel.CONSOLE, address, "lier"))
        await core.store.db.set_trace_callback(traced)
        try:
            await core.dispatcher.handle(Inbound(Channel.CONSOLE, address, typed))
        finally:
            await core.store.db.set_trace_callback(None)
        taken = list(statements)
        statements.clear()
        return taken

    known = await ask("terminal-a", CODE)
    unknown = await ask("terminal-b", UNKNOWN_CODE)
    assert sum("INSERT INTO link_codes" in s for s in known) == sum("INSERT INTO link_codes" in s for s in unknown) == 1
    assert sum("INSERT OR IGNORE INTO outbox" in s for s in known) == 1
    assert not any("outbox" in s for s in unknown)
    inserted = next(i for i, s in enumerate(known) if "INSERT INTO link_codes" in s)
    assert unknown[: inserted + 1] == known[: inserted + 1]
    queuing = ("SELECT language FROM persons WHERE id", "FROM identities WHERE person_id", "INTO outbox")
    assert unknown[inserted + 1 :] == [s for s in known[inserted + 1 :] if not any(q in s for q in queuing)]


async def test_staff_can_read_the_code(talk: Talk) -> None:
    """Staff read the live code for someone with no credit; others are refused and learn nothing."""
    await _ask(talk, who="alice")
    one_time = await code_in_outbox(talk)
    await staff(talk)
    said = await talk(f"/code {CODE}", who="staff")
    assert said.has(one_time, "Karim")
    refused = await talk(f"/code {CODE}", who="alice")
    assert refused.has("réservée à l'équipe") and one_time not in refused.text
