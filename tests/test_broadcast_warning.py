"""The broadcast preview names each character an SMS cannot carry and what it becomes, readably on every
channel; counts in broadcast texts are singular or plural as the language says."""

from __future__ import annotations

import pytest

from bot.i18n import I18n
from handlers.broadcast import logic as bc
from tests.conftest import PARIS, Talk
from tests.test_broadcast import queue, read_all, staff_here

I18N = I18n()
TYPED = "Fête de l’hiver ☺\u00a0à la Lingerie"


def preview_of(
    text: bc.SmsText,
    *,
    people: int = 1,
    skipped: dict[str, int] | None = None,
) -> bc.Preview:
    """A preview of ``text`` sent by SMS to ``people``, with ``skipped`` left out."""
    left_out = dict.fromkeys(bc.SKIP_REASONS, 0) | (skipped or {})
    return bc.Preview(bc.Audience(), {"telegram": 0, "sms": people}, left_out, [(text, people)], 0.0725, None)


def test_each_replaced_character_is_shown_with_what_it_becomes() -> None:
    """ê, ’, ☺ and a no-break space are each named once, with their GSM-7 spelling; the space by its code point."""
    text = bc.SmsText.of("fr", f"{TYPED} ! Fête")
    assert [typed for typed, _ in text.replaced] == ["ê", "’", "☺", "\u00a0"]
    shown = bc.render_preview(I18N, "fr", 3, preview_of(text), urgent=False, tz=PARIS)
    assert "seront remplacés : ê → e, ’ → ', ☺ → ?, U+00A0 → espace." in shown, shown
    assert "Fete de l'hiver ? à la Lingerie" in shown
    english = bc.render_preview(I18N, "en", 3, preview_of(text), urgent=False, tz=PARIS)
    assert "will be replaced: ê → e, ’ → ', ☺ → ?, U+00A0 → space." in english, english


def test_the_cost_is_said_only_when_the_replaced_characters_change_it() -> None:
    """A short text costs one segment either way: no "2 segments instead of 1"; a long one says what they would cost."""
    short = bc.SmsText.of("fr", "Fête à la Lingerie jeudi à 18h30, venez nombreux")
    assert short.would_be_ucs2 and short.typed_segments == short.segments == 1
    shown = bc.render_preview(I18N, "fr", 3, preview_of(short), urgent=False, tz=PARIS)
    assert "seront remplacés : ê → e. Il partira donc écrit ainsi : « Fete à la Lingerie" in shown, shown
    assert "coûterait" not in shown
    long = bc.SmsText.of(
        "fr", "Fête de fin d'année à la Lingerie jeudi à 18h30 : repas, musique et jeux, venez nombreux !"
    )
    assert long.typed_segments == 2 and long.segments == 1
    shown = bc.render_preview(I18N, "fr", 3, preview_of(long), urgent=False, tz=PARIS)
    assert "Avec eux, chaque SMS coûterait 2 segments au lieu de 1." in shown, shown


def test_for_a_reader_by_sms_the_characters_are_code_points() -> None:
    """By SMS the characters themselves would arrive replaced: each is named by its code point instead."""
    text = bc.SmsText.of("fr", TYPED)
    shown = bc.render_preview(I18N, "fr", 3, preview_of(text), urgent=False, tz=PARIS, gsm_only=True)
    assert "U+00EA → e, U+2019 → ', U+263A → ?, U+00A0 → espace" in shown, shown


def test_a_text_gsm_7_carries_has_no_warning() -> None:
    """é, è, à and € are in the SMS alphabet: nothing is replaced, nothing is said."""
    text = bc.SmsText.of("fr", "Repas à 5 € chez Léa, très bon")
    assert text.replaced == () and not text.would_be_ucs2 and not text.lost
    assert "remplacés" not in bc.render_preview(I18N, "fr", 3, preview_of(text), urgent=False, tz=PARIS)


async def test_the_warning_over_every_channel(talk: Talk) -> None:
    """Staff composing in the chat see which characters change: themselves, or by SMS their code points."""
    await staff_here(talk)
    await talk(f"/annonce {TYPED}", who="staff")
    await talk("aucun", who="staff")
    said = await read_all(talk, await talk("résidents", who="staff"))
    if talk.channel == "sms":
        assert "U+00EA -> e, U+2019 -> ', U+263A -> ?" in said.text, said.text
    else:
        assert "ê → e, ’ → ', ☺ → ?." in said.text, said.text  # the chat reads a no-break space as a space
    assert said.has("2 personnes la recevront", "SMS en français : 2 × 1 segment")


@pytest.mark.parametrize(
    ("language", "expected", "wrong"),
    [
        (
            "fr",
            ["1 personne la recevra", "1 a demandé STOP", "1 injoignable", "1 × 1 segment", "En tout 1 segment SMS"],
            ["1 personnes", "1 ont", "1 injoignables", "1 segments"],
        ),
        ("en", ["1 person will get it", "1 said STOP", "1 SMS segment in all"], ["1 people", "1 SMS segments"]),
    ],
)
def test_one_is_singular_in_the_preview(language: str, expected: list[str], wrong: list[str]) -> None:
    """One person, one STOP, one unreachable, one segment: no "1 personnes"."""
    text = bc.SmsText.of("fr", "Atelier vélo samedi")
    found = preview_of(text, skipped={"opted_out": 1, "unreachable": 1})
    shown = bc.render_preview(I18N, language, 3, found, urgent=False, tz=PARIS)
    assert all(part in shown for part in expected), shown
    assert not any(part in shown for part in wrong), shown


def test_plural_categories_are_the_language_s() -> None:
    """French says "0 personne", English "0 people"; a category without its own text (French "many") is plural."""
    assert I18N.plural("fr", "broadcast.preview_people", 0).startswith("0 personne la recevra")
    assert I18N.plural("en", "broadcast.preview_people", 0).startswith("0 people will")
    assert "personnes la recevront" in I18N.plural("fr", "broadcast.preview_people", 1_000_000, count="1 000 000")


def test_every_singular_text_has_its_plural() -> None:
    """A ``_one`` text without its ``_other`` would leave every other count unsaid in that language."""
    for language, messages in I18N.catalogs.items():
        alone = [
            key for key in messages if key.endswith("_one") and key.removesuffix("_one") + "_other" not in messages
        ]
        assert alone == [], language


async def test_stopping_one_message_is_said_in_the_singular(talk: Talk) -> None:
    """Stopping a broadcast with one message left: "1 message pas encore parti ne partira pas"."""
    await staff_here(talk)
    broadcast_id = await queue(talk.core, "volunteers", "Réunion des bénévoles mercredi")
    said = await talk(f"/annuler_annonce {broadcast_id}", who="staff")
    assert said.has("1 message pas encore parti ne partira pas"), said.text
    said = await talk.confirm(said, who="staff")
    assert said.has(f"Annonce {broadcast_id} arrêtée : 1 message ne partira pas"), said.text
