"""The one amount parser of the Trocshop (chat and command line): how people type a duration, and what it refuses."""

from __future__ import annotations

import pytest

from handlers.trocshop.amounts import (
    MAX_MINUTES,
    leading_amount,
    read_amount,
    read_entry,
    read_notes,
    search_amount,
)
from handlers.trocshop.ledger import LedgerError

# Every minus sign and dash a phone keyboard or a copy-paste can produce.
MINUSES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\ufe63", "\uff0d"]


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("1,5 h", 90),
        ("1.5h", 90),
        ("1,5h", 90),
        ("2,5 h", 150),
        ("0,25 h", 15),
        (",5 h", 30),
        ("1.5 hours", 90),
        ("1,5 heure", 90),
        ("1h30", 90),
        ("1H30", 90),
        ("1 h 30", 90),
        ("1h 30min", 90),
        ("1 h 30 min", 90),
        ("1hr30", 90),
        ("1 heure 30 minutes", 90),
        ("1 heure et 30 minutes", 90),
        ("1:30", 90),
        ("90 min", 90),
        ("90mn", 90),
        ("90 minutes", 90),
        ("45", 45),
        ("une heure", 60),
        ("deux heures", 120),
        ("1 heure et demie", 90),
        ("une heure et demie", 90),
        ("2 heures et quart", 135),
        ("1 heure moins le quart", 45),
        ("une demi-heure", 30),
        ("une demi heure", 30),
        ("un quart d'heure", 15),
        ("un quart d\u2019heure", 15),
        ("trois quarts d'heure", 45),
        ("half an hour", 30),
        ("an hour and a half", 90),
        ("one and a half hours", 90),
        ("a quarter of an hour", 15),
        ("1h1/2", 90),
        ("1\u00bd h", 90),
        ("\u00bd h", 30),
        ("3/4 h", 45),
        ("24 h", MAX_MINUTES),
        ("\uff11h", 60),  # a full-width digit
    ],
)
def test_durations_as_people_type_them(typed: str, minutes: int) -> None:
    """Decimal comma and point, hours and minutes in every order, words: all read to the same minutes."""
    assert read_amount(typed) == minutes


@pytest.mark.parametrize("minus", MINUSES)
@pytest.mark.parametrize("amount", ["30min", "30", " 1h", "1,5 h"])
def test_every_minus_is_a_negative(minus: str, amount: str) -> None:
    """A minus sign or any dash before an amount is refused as a negative, never read as the amount."""
    with pytest.raises(LedgerError) as refused:
        read_amount(minus + amount)
    assert refused.value.key == "trocshop.amount_negative"
    with pytest.raises(LedgerError) as in_a_sentence:
        search_amount(f"payer {minus}{amount} lingerie")
    assert in_a_sentence.value.key == "trocshop.amount_negative"


def test_a_dash_inside_words_is_not_a_minus() -> None:
    """ "demi-heure", "GV-K7P2", "06-39-98-00-03" and "t-shirt" carry dashes that are not signs."""
    assert read_amount("une demi-heure") == 30
    found = search_amount("payer 30 au 06-39-98-00-03")
    assert found is not None and found.minutes == 30
    found = search_amount("payer t-shirt 15")
    assert found is not None and found.minutes == 15


@pytest.mark.parametrize("typed", ["1,5 min", "0,33 h", "1.333h", "1,5", "2.5"])
def test_fractions_of_a_minute_are_refused(typed: str) -> None:
    """Whole minutes only: nothing is rounded behind the person's back."""
    with pytest.raises(LedgerError) as refused:
        read_amount(typed)
    assert refused.value.key == "trocshop.amount_fraction"


@pytest.mark.parametrize(
    "typed", ["999h", "25 h", "24 h 01", "1441", "1441 min", "99999999999999999999999 h", "9" * 5000]
)
def test_the_cap_is_said(typed: str) -> None:
    """More than the per-operation cap is refused, and the refusal names the cap; huge numbers too."""
    with pytest.raises(LedgerError) as refused:
        read_amount(typed)
    assert refused.value.key == "trocshop.amount_too_big"
    assert refused.value.params == {"max": "24 h"}


def test_zero_is_refused() -> None:
    """Zero is an amount, refused as not above zero."""
    for typed in ("0", "0 min", "0h00"):
        with pytest.raises(LedgerError) as refused:
            read_amount(typed)
        assert refused.value.key == "trocshop.amount_positive"


@pytest.mark.parametrize("typed", ["", "abc", "1h75", "lingerie", "gv k7p2", "06 39 98 00 03", "1h lingerie"])
def test_what_is_not_only_an_amount(typed: str) -> None:
    """Anything else is not an amount, so nothing is guessed."""
    assert read_amount(typed) is None


@pytest.mark.parametrize(
    ("sentence", "minutes", "payee"),
    [
        ("payer 1,5 h lingerie", 90, "lingerie"),
        ("payer 2,5 h lingerie", 150, "lingerie"),
        ("payer 1,5h GV-K7P2", 90, "GV-K7P2"),
        ("payer GV-K7P2 1,5h", 90, "GV-K7P2"),
        ("payer 1h 06 39 98 00 03", 60, "06 39 98 00 03"),
        ("payer 1h30 06 39 98 00 03", 90, "06 39 98 00 03"),
        ("payer 30 0639980003", 30, "0639980003"),
        ("payer 06 39 98 00 03 30 min", 30, "06 39 98 00 03"),
        ("payer 45 +33 6 39 98 00 03", 45, "+33 6 39 98 00 03"),
        ("envoyer 30 min a GV-2346", 30, "GV-2346"),
        ("payer GV-2H34 1h", 60, "GV-2H34"),
        ("payer 30 GV-2346", 30, "GV-2346"),
        ("send half an hour to gv-k7p2", 30, "gv-k7p2"),
        ("envoyer une heure et demie a la lingerie", 90, "la lingerie"),
    ],
)
def test_the_amount_never_swallows_the_payee(sentence: str, minutes: int, payee: str) -> None:
    """The amount is found in the sentence and the member code, phone number or place is left whole."""
    found = search_amount(sentence)
    assert found is not None and found.minutes == minutes
    assert payee in sentence[: found.start] + sentence[found.end :]


def test_pieces_of_a_phone_number_are_not_an_amount() -> None:
    """Without a unit, a phone number's groups of digits are never read as minutes."""
    assert search_amount("payer 06 39 98 00 03 30") is None


def test_staff_amount_comes_first() -> None:
    """A staff command's amount is the one it begins with, whatever the memo says after it."""
    found = leading_amount("30 atelier de 2 h")
    assert found is not None and found.minutes == 30
    assert leading_amount("atelier 1h") is None


def test_notes_as_staff_type_them() -> None:
    """Notes are counted by denomination; their total is under the same cap as any amount."""
    assert read_notes("2x30 1x15") == {30: 2, 15: 1}
    assert read_notes("2 x 30, 1x15") == {30: 2, 15: 1}
    assert read_notes("60 30") == {60: 1, 30: 1}
    assert read_notes("2x20") is None and read_notes("0x30") is None
    for too_many in ("999x60", "25x60", "99999999999999999999999x60", "20x60 20x60"):
        with pytest.raises(LedgerError) as refused:
            read_notes(too_many)
        assert refused.value.key == "trocshop.amount_too_big", too_many
    for minus in MINUSES:
        with pytest.raises(LedgerError) as negative:
            read_notes(f"{minus}2x30")
        assert negative.value.key == "trocshop.amount_negative"


def test_entry_numbers_are_bounded() -> None:
    """An entry number too long for any journal is refused before it reaches the database."""
    assert read_entry("12") == 12 and read_entry("#12") == 12
    assert read_entry("x") is None and read_entry("\u00b2") is None and read_entry("\u0663") is None
    with pytest.raises(LedgerError) as refused:
        read_entry("99999999999999999999999")
    assert refused.value.key == "trocshop.no_entry"
