"""The Trocshop ledger on its own: amounts, balanced entries, floors, idempotency, reversals, notes, the check."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import people
from bot.store import Store
from bot.text import format_minutes
from handlers.trocshop import ledger
from handlers.trocshop.amounts import find_amount, parse_minutes
from handlers.trocshop.ledger import LedgerError

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def _people(store: Store, count: int) -> list[int]:
    return [await people.add_person(store, NOW, f"P{i}", {"resident"}) for i in range(count)]


async def _credit(store: Store, person_id: int, minutes: int, key: str) -> ledger.Written:
    async with store.transaction() as db:
        return await ledger.credit(db, NOW, key=key, person_id=person_id, minutes=minutes, actor=None)


async def _account(store: Store, person_id: int) -> int:
    async with store.transaction() as db:
        return await ledger.person_account(db, person_id, NOW)


async def _balance(store: Store, account: int) -> int:
    async with store.transaction() as db:
        return await ledger.balance(db, account)


async def _check(store: Store) -> list[ledger.Problem]:
    async with store.transaction() as db:
        return await ledger.check(db)


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("30", 30),
        ("30min", 30),
        ("30 mn", 30),
        ("1h", 60),
        ("1H30", 90),
        ("1 h 30", 90),
        ("1 heure", 60),
        ("2 heures", 120),
        ("une demi-heure", 30),
        ("une demi heure", 30),
        ("un quart d'heure", 15),
        ("1h et demie", 90),
        ("45 min", 45),
        ("0", 0),
    ],
)
def test_amounts_as_people_type_them(typed: str, minutes: int) -> None:
    """Amounts are read as residents write them in an SMS, without accents or with typos."""
    assert parse_minutes(typed) == minutes


@pytest.mark.parametrize("typed", ["", "abc", "1h75", "lingerie", "gv k7p2"])
def test_what_is_not_an_amount(typed: str) -> None:
    """Anything else is not an amount, so nothing is guessed."""
    assert parse_minutes(typed) is None


def test_amounts_are_shown_as_people_say_them() -> None:
    """45 min, 1 h, 1 h 30: never 90 minutes or 1.5 h."""
    assert [format_minutes(m) for m in (45, 60, 90, 125, -30)] == ["45 min", "1 h", "1 h 30", "2 h 05", "-30 min"]


async def test_credit_and_transfer_balance_and_check(store: Store) -> None:
    """A credit comes from the issuing account; a payment moves minutes; the books prove right."""
    alice, bob = await _people(store, 2)
    await _credit(store, alice, 90, "c1")
    async with store.transaction() as db:
        a, b = await ledger.person_account(db, alice, NOW), await ledger.person_account(db, bob, NOW)
        await ledger.transfer(db, NOW, key="t1", source=a, target=b, minutes=30, actor=alice)
        issuing = await ledger.system_account(db, "issuing", NOW)
    assert (await _balance(store, a), await _balance(store, b), await _balance(store, issuing)) == (60, 30, -90)
    assert await _check(store) == []


async def test_same_key_is_written_once(store: Store) -> None:
    """A retried request with the same idempotency key returns the first entry and moves nothing more."""
    (alice,) = await _people(store, 1)
    first = await _credit(store, alice, 60, "same")
    again = await _credit(store, alice, 60, "same")
    assert first.created and not again.created and first.entry_id == again.entry_id
    assert await _balance(store, await _account(store, alice)) == 60


@pytest.mark.parametrize("minutes", [0, -15])
async def test_zero_or_negative_is_refused(store: Store, minutes: int) -> None:
    """Zero and negative amounts are refused and write nothing."""
    alice, bob = await _people(store, 2)
    a, b = await _account(store, alice), await _account(store, bob)
    with pytest.raises(LedgerError):
        async with store.transaction() as db:
            await ledger.transfer(db, NOW, key="t", source=a, target=b, minutes=minutes, actor=alice)
    assert await store.fetchone("SELECT 1 FROM troc_entries") is None


async def test_floor_refuses_overdraft_and_staff_can_lower_it(store: Store) -> None:
    """A balance never goes under its floor; a floor set by staff lets it go that far and no further."""
    alice, bob = await _people(store, 2)
    await _credit(store, alice, 30, "c")
    a, b = await _account(store, alice), await _account(store, bob)
    with pytest.raises(LedgerError) as refused:
        async with store.transaction() as db:
            await ledger.transfer(db, NOW, key="t", source=a, target=b, minutes=45, actor=alice)
    assert refused.value.key == "trocshop.not_enough"
    async with store.transaction() as db:
        await ledger.set_floor(db, a, -15)
        await ledger.transfer(db, NOW, key="t", source=a, target=b, minutes=45, actor=alice)
    assert await _balance(store, a) == -15
    assert await _check(store) == []


async def test_paying_oneself_is_refused(store: Store) -> None:
    """Paying one's own account is refused."""
    (alice,) = await _people(store, 1)
    await _credit(store, alice, 30, "c")
    a = await _account(store, alice)
    with pytest.raises(LedgerError):
        async with store.transaction() as db:
            await ledger.transfer(db, NOW, key="t", source=a, target=a, minutes=15, actor=alice)


async def test_reversal_points_to_the_original_and_happens_once(store: Store) -> None:
    """A mistake is undone by a mirror entry that names the original; a second reversal is refused."""
    (alice,) = await _people(store, 1)
    credit = await _credit(store, alice, 60, "c")
    async with store.transaction() as db:
        undo = await ledger.reverse(db, NOW, key="r", entry_id=credit.entry_id, reason="typo", actor=None)
    row = await store.fetchone("SELECT reverses_entry_id, category FROM troc_entries WHERE id = ?", (undo.entry_id,))
    assert row is not None and tuple(row) == (credit.entry_id, "correction")
    assert await _balance(store, await _account(store, alice)) == 0
    with pytest.raises(LedgerError) as again:
        async with store.transaction() as db:
            await ledger.reverse(db, NOW, key="r2", entry_id=credit.entry_id, reason="again", actor=None)
    assert again.value.key == "trocshop.already_reversed"
    assert await _check(store) == []


async def test_notes_withdrawal_and_deposit_are_counted(store: Store) -> None:
    """Withdrawals turn minutes into notes by denomination; deposits bring them back; the count is known."""
    (alice,) = await _people(store, 1)
    await _credit(store, alice, 180, "c")
    async with store.transaction() as db:
        await ledger.move_notes(db, NOW, key="w", person_id=alice, notes={30: 2, 15: 1, 60: 1}, withdraw=True, actor=1)
        await ledger.move_notes(db, NOW, key="d", person_id=alice, notes={30: 1}, withdraw=False, actor=1)
        counts = await ledger.notes_in_circulation(db)
        circulation = await ledger.system_account(db, "notes", NOW)
    assert counts == {15: 1, 30: 1, 60: 1}
    assert await _balance(store, circulation) == 105
    assert await _balance(store, await _account(store, alice)) == 75
    with pytest.raises(LedgerError):  # more notes back than are out there
        async with store.transaction() as db:
            await ledger.move_notes(db, NOW, key="d2", person_id=alice, notes={60: 2}, withdraw=False, actor=1)
    assert await _check(store) == []


async def test_notes_of_a_value_not_out_cannot_come_back(store: Store) -> None:
    """A 30-min note out, a 15-min note handed back: refused by value, even though the total would fit;
    a withdrawal reversed after its notes came back is refused the same way. Nothing is written."""
    (alice,) = await _people(store, 1)
    await _credit(store, alice, 120, "c")
    async with store.transaction() as db:
        withdrawn = await ledger.move_notes(db, NOW, key="w", person_id=alice, notes={30: 1}, withdraw=True, actor=1)
    with pytest.raises(LedgerError) as refused:
        async with store.transaction() as db:
            await ledger.move_notes(db, NOW, key="d", person_id=alice, notes={15: 1}, withdraw=False, actor=1)
    assert refused.value.key == "trocshop.notes_not_out" and refused.value.params == {"value": 15, "out": 0}
    async with store.transaction() as db:
        await ledger.move_notes(db, NOW, key="d30", person_id=alice, notes={30: 1}, withdraw=False, actor=1)
    with pytest.raises(LedgerError):
        async with store.transaction() as db:
            await ledger.reverse(db, NOW, key="r", entry_id=withdrawn.entry_id, reason="erreur", actor=1)
    async with store.transaction() as db:
        assert await ledger.notes_in_circulation(db) == {d: 0 for d in ledger.DENOMINATIONS}
    assert await _balance(store, await _account(store, alice)) == 120
    assert await _check(store) == []


async def test_journal_is_append_only(store: Store) -> None:
    """The database itself refuses to edit or delete an entry or a posting."""
    (alice,) = await _people(store, 1)
    await _credit(store, alice, 60, "c")
    for sql in (
        "UPDATE troc_entries SET memo = 'x'",
        "DELETE FROM troc_entries",
        "UPDATE troc_postings SET minutes = 1",
        "DELETE FROM troc_postings",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            await store.execute(sql)


async def test_check_names_what_is_wrong(store: Store) -> None:
    """A balance changed behind the journal's back, or an unbalanced entry, is named by the check."""
    (alice,) = await _people(store, 1)
    written = await _credit(store, alice, 60, "c")
    account = await _account(store, alice)
    await store.execute("UPDATE troc_accounts SET balance = 999 WHERE id = ?", (account,))
    problems = await _check(store)
    assert [(p.key, p.params) for p in problems] == [
        ("trocshop_cli.check_balance", {"account": account, "kind": "person", "kept": 999, "summed": 60})
    ]
    await store.execute("UPDATE troc_accounts SET balance = 60 WHERE id = ?", (account,))
    await store.execute("DROP TRIGGER troc_postings_no_update")
    await store.execute("UPDATE troc_postings SET minutes = 61 WHERE entry_id = ? AND minutes > 0", (written.entry_id,))
    unbalanced = [p for p in await _check(store) if p.key == "trocshop_cli.check_unbalanced"]
    assert [(p.params, p.count) for p in unbalanced] == [({"entry": written.entry_id, "sum": 1}, 2)]


async def test_two_hundred_payments_at_once_never_overdraw(store: Store) -> None:
    """200 payments launched together between 20 accounts: no overdraft, no lost update, the books prove right."""
    persons = await _people(store, 20)
    accounts = [await _account(store, p) for p in persons]
    for person in persons:
        await _credit(store, person, 60, f"seed:{person}")
    rng = random.Random(7)

    async def pay(i: int) -> bool:
        source, target = rng.sample(range(20), 2)
        try:
            async with store.transaction() as db:
                await ledger.transfer(
                    db,
                    NOW,
                    key=f"pay:{i}",
                    source=accounts[source],
                    target=accounts[target],
                    minutes=rng.choice((15, 30, 45)),
                    actor=persons[source],
                )
        except LedgerError:
            return False
        return True

    results = await asyncio.gather(*(pay(i) for i in range(200)))
    balances = [await _balance(store, a) for a in accounts]
    assert all(b >= 0 for b in balances)
    assert sum(balances) == 20 * 60
    row = await store.fetchone("SELECT COUNT(*) FROM troc_entries WHERE idem_key LIKE 'pay:%'")
    assert row is not None and row[0] == sum(results)
    assert await _check(store) == []


OPERATION = st.one_of(
    st.tuples(st.just("credit"), st.integers(0, 4), st.integers(-30, 240)),
    st.tuples(st.just("pay"), st.integers(0, 4), st.integers(0, 4), st.integers(-30, 240)),
    st.tuples(st.just("withdraw"), st.integers(0, 4), st.sampled_from(ledger.DENOMINATIONS), st.integers(0, 3)),
    st.tuples(st.just("deposit"), st.integers(0, 4), st.sampled_from(ledger.DENOMINATIONS), st.integers(0, 3)),
    st.tuples(st.just("reverse"), st.integers(1, 40)),
    st.tuples(st.just("retry"), st.integers(0, 40)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATION, max_size=30))
# Found by a run under load: a 15-min note handed back when only a 30-min one was out.
@example(operations=[("credit", 0, 30), ("withdraw", 0, 30, 1), ("deposit", 0, 15, 1)])
def test_random_operations_keep_every_invariant(tmp_path: Path, operations: list[tuple[object, ...]]) -> None:
    """Whatever sequence of operations, refused or not, the books always prove right and floors hold."""
    asyncio.run(_run_operations(tmp_path, operations))


async def _run_operations(tmp_path: Path, operations: list[tuple[object, ...]]) -> None:
    # A fresh folder per example: hypothesis reseeds `random`, so a random name would repeat.
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "troc.db"
    store = Store(path)
    await store.open()
    try:
        persons = await _people(store, 5)
        accounts = [await _account(store, p) for p in persons]
        keys: list[str] = []
        for n, op in enumerate(operations):
            key = f"op:{n}"
            try:
                async with store.transaction() as db:
                    match op:
                        case ("credit", int(who), int(minutes)):
                            await ledger.credit(db, NOW, key=key, person_id=persons[who], minutes=minutes, actor=None)
                        case ("pay", int(a), int(b), int(minutes)):
                            await ledger.transfer(
                                db, NOW, key=key, source=accounts[a], target=accounts[b], minutes=minutes, actor=None
                            )
                        case ("withdraw" | "deposit", int(who), int(denomination), int(count)):
                            await ledger.move_notes(
                                db,
                                NOW,
                                key=key,
                                person_id=persons[who],
                                notes={denomination: count},
                                withdraw=op[0] == "withdraw",
                                actor=None,
                            )
                        case ("reverse", int(entry)):
                            await ledger.reverse(db, NOW, key=key, entry_id=entry, reason="test", actor=None)
                        case ("retry", int(index)) if keys:
                            before = await store.fetchone("SELECT COUNT(*) FROM troc_entries")
                            again = await ledger.credit(
                                db, NOW, key=keys[index % len(keys)], person_id=persons[0], minutes=15, actor=None
                            )
                            assert not again.created
                            after = await store.fetchone("SELECT COUNT(*) FROM troc_entries")
                            assert before is not None and after is not None and before[0] == after[0]
                if op[0] != "retry":
                    keys.append(key)
            except LedgerError:
                pass
            assert await _check(store) == []
        for account in accounts:
            assert await _balance(store, account) >= 0
        async with store.transaction() as db:
            assert all(count >= 0 for count in (await ledger.notes_in_circulation(db)).values())
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("sentence", "minutes", "rest"),
    [
        ("1h a gv k7p2", 60, "a gv k7p2"),
        ("une heure a la lingerie", 60, "a la lingerie"),
        ("half an hour to gv k7p2", 30, "to gv k7p2"),
        ("45 min au 06 39 98 00 03", 45, "au 06 39 98 00 03"),
    ],
)
def test_amount_inside_a_sentence(sentence: str, minutes: int, rest: str) -> None:
    """The amount is found in the sentence and the words around it are left for the payee."""
    words = sentence.split()
    found = find_amount(words)
    assert found is not None and found[0] == minutes
    assert " ".join(words[: found[1]] + words[found[2] :]) == rest
