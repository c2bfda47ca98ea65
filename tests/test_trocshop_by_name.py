"""Paying by name, over every channel: "payer 1h a sam" reaches someone the payer has paid or been
paid by before; two who match are asked about; anyone else is never offered, so the bot is no directory."""

from __future__ import annotations

from handlers.trocshop import ledger
from tests.conftest import Talk
from tests.test_trocshop_chat import alice, balance_of, entries, register_here

SAMIR = "GV-SMR7"
SAMIA = "GV-SMA8"


async def exchange(talk: Talk, payer: int, payee: int, minutes: int = 15) -> None:
    """A past payment between two people, as the ledger keeps it."""
    async with talk.core.store.transaction() as db:
        now = talk.core.clock.now()
        await ledger.transfer(
            db,
            now,
            key=f"past:{payer}:{payee}:{minutes}",
            source=await ledger.person_account(db, payer, now),
            target=await ledger.person_account(db, payee, now),
            minutes=minutes,
            actor=payer,
            category="exchange",
        )


async def test_a_person_paid_before_is_paid_by_first_name(talk: Talk) -> None:
    """ "payer 1h a samir": Samir was paid before, so the preview names him and OUI pays him."""
    me = await alice(talk, 180)
    samir = await register_here(talk, "samir", {"resident"}, "Samir Haddad", SAMIR)
    await exchange(talk, me, samir)
    asked = await talk("payer 1h a samir", who="alice")
    assert asked.has("1 h", "Samir (GV-SMR7)"), asked.text
    done = await talk.confirm(asked, who="alice")
    assert done.has("Samir"), done.text
    assert await balance_of(talk, SAMIR) == 75


async def test_a_person_who_paid_me_can_be_named_too(talk: Talk) -> None:
    """Being paid by someone counts as knowing them: "envoyer 30 min a haddad" (a family name) works."""
    me = await alice(talk, 60)
    samir = await register_here(talk, "samir", {"resident"}, "Samir Haddad", SAMIR, minutes=60)
    await exchange(talk, samir, me)
    asked = await talk("envoyer 30 min a haddad", who="alice")
    assert asked.has("30 min", "Samir (GV-SMR7)"), asked.text


async def test_a_stranger_is_never_found_by_name(talk: Talk) -> None:
    """Someone registered but never paid by or paying the payer is not found by name, and nothing says
    they exist: the answer is the same as for a name nobody has."""
    await alice(talk, 60)
    await register_here(talk, "samir", {"resident"}, "Samir Haddad", SAMIR)
    before = await entries(talk)
    stranger = await talk("payer 30 min a samir", who="alice")
    nobody = await talk("payer 30 min a zoltan", who="alice")
    assert "Samir" not in stranger.text and "GV-SMR7" not in stranger.text
    assert stranger.text == nobody.text
    assert stranger.has("GV-XXXX"), stranger.text  # the way to pay someone new: their member code
    assert await entries(talk) == before


async def test_two_who_match_are_asked_about(talk: Talk) -> None:
    """Two people the payer knows share a first name: the bot asks which one (the latest met first),
    the choice goes to the preview, and OUI pays the one chosen."""
    me = await alice(talk, 120)
    first = await register_here(talk, "samir", {"resident"}, "Sam Haddad", SAMIR)
    second = await register_here(talk, "samia", {"resident"}, "Sam Benali", SAMIA, minutes=60)
    await exchange(talk, me, first)
    await exchange(talk, second, me)
    which = await talk("payer 1h a sam", who="alice")
    assert which.has("Sam (GV-SMR7)", "Sam (GV-SMA8)"), which.text
    chosen = await talk.choose(1, who="alice")  # the latest one met comes first: Sam Benali paid last
    assert chosen.has("1 h", "Sam (GV-SMA8)"), chosen.text
    await talk.confirm(chosen, who="alice")
    assert await balance_of(talk, SAMIA) == 60 - 15 + 60
    assert await balance_of(talk, SAMIR) == 15


async def test_payer_alone_says_how_to_pay(talk: Talk) -> None:
    """ "payer" alone, from a registered person, is how to pay; nothing is written."""
    await alice(talk, 60)
    before = await entries(talk)
    said = await talk("payer", who="alice")
    assert said.has("GV-K7P2"), said.text  # the usage's example
    assert await entries(talk) == before
