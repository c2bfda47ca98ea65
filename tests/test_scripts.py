"""Arabic, Persian, Pashto and Ge'ez scripts: how words are folded, how a message's language is told from its
script and letters, how right-to-left answers keep their numbers readable, and what an SMS in them costs."""

from __future__ import annotations

import pytest

from bot.i18n import I18n, shipped
from bot.messages import Choice, Reply
from bot.sms_text import PAGE_UCS2_UNITS, UCS2_MULTI, paginate, render_reply, segments, to_gsm
from bot.text import LRI, PDI, clean, fold, isolate_ltr

I18N = shipped()


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("أين أنام الليلة؟", "اين انام الليله"),  # hamza on alif, ta marbuta, Arabic question mark
        ("مَرْحَبًا", "مرحبا"),  # short vowels and tanwin
        ("كجا بخوابم", "کجا بخوابم"),  # Arabic kaf typed for the Persian one
        ("مي خواهم", "می خواهم"),  # Arabic yeh typed for the Persian one
        ("على", "علي"),  # alif maqsura and yeh
        ("مـــرحبا", "مرحبا"),  # tatweel
        ("زه غوارم", "زه غواړم"),  # Pashto typed on a Persian keyboard
        ("ډاکټر", "داکتر"),  # Pashto letters and their Persian look-alikes
        ("ሠላም", "ሰላም"),  # Ge'ez homophone series
        ("አበይ", "ኣበይ"),  # the bare vowel typed either way
        ("١١٥", "115"),  # Arabic-Indic digits
        ("۱۱۵", "115"),  # Persian digits
    ],
)
def test_the_ways_of_typing_a_word_fold_alike(typed: str, listed: str) -> None:
    assert fold(typed) == fold(listed)


def test_latin_text_folds_as_before() -> None:
    assert fold("Où  DORMIR ce soir ?!") == "ou dormir ce soir"
    assert fold("115 : appelez") == "115 appelez"


def test_a_zero_width_non_joiner_is_spelling_not_a_control() -> None:
    """Persian writes می‌خواهم with a ZWNJ: it stays in what the handler reads, and folds away."""
    typed = "می\u200cخواهم"
    assert clean(typed) == typed
    assert fold(typed) == fold("میخواهم")


def test_numbers_with_spaces_and_addresses_are_isolated_in_right_to_left_text() -> None:
    phone = isolate_ltr("الهاتف: 01 45 44 00 00، مجاني 24h/24")
    assert f"{LRI}01 45 44 00 00{PDI}" in phone and f"{LRI}24h/24{PDI}" in phone
    address = isolate_ltr("العنوان: 82 avenue Denfert-Rochereau, 75014 Paris.")
    assert f"{LRI}82 avenue Denfert-Rochereau, 75014 Paris{PDI}." in address
    assert isolate_ltr("اتصل بالرقم 115 الآن") == "اتصل بالرقم 115 الآن"  # a bare number is shown right
    assert isolate_ltr(phone) == phone  # isolated once, whatever the parts


def test_right_to_left_catalogs_isolate_their_numbers_and_left_to_right_ones_do_not() -> None:
    assert I18N.right_to_left("ar") and I18N.right_to_left("fa_AF") and I18N.right_to_left("ps")
    assert not I18N.right_to_left("fr") and not I18N.right_to_left("ti")
    for language in ("ar", "fa_AF", "ps"):
        text = I18N.t(language, "orientation.shelter", url="https://www.paris.fr/pages/12")
        assert "115" in text and f"{LRI}https://www.paris.fr/pages/12{PDI}" in text
    assert LRI not in I18N.t("fr", "orientation.shelter", url="https://www.paris.fr/pages/12")


def test_an_arabic_sms_is_sent_as_written_and_paged_at_three_segments() -> None:
    text = "115: " + "اتصل بالرقم مجانا على مدار الساعة. " * 12
    assert to_gsm(text) == text  # never transliterated into letters nobody reads
    pages = paginate(text, I18N.t("ar", "core.more"))
    assert len(pages) > 1
    assert all(segments(page).encoding == "UCS-2" and segments(page).count <= 3 for page in pages)
    assert all(len(page.encode("utf-16-le")) // 2 <= PAGE_UCS2_UNITS for page in pages)
    assert "".join(pages).count("115") == 1
    short = "اتصل بالرقم 115"
    assert paginate(short, "x") == [short] and segments(short).count == 1 and UCS2_MULTI == 67


def test_a_tigrinya_choice_list_is_numbered_and_kept_in_geez() -> None:
    sent = render_reply(Reply("ምረጽ", (Choice("a", "ትግርኛ"), Choice("b", "Français"))))
    assert sent == "ምረጽ\n1 ትግርኛ\n2 Français"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ኣበይ ክድቅስ ሎሚ ለይቲ", "ti"),  # Ge'ez: the one language of its script
        ("زه نن شپه چیرته ویده شم", "ps"),  # Pashto's own letters
        ("ډوډۍ غواړم", "ps"),
        ("امشب کجا بخوابم", "fa_AF"),  # Dari's words and letters
        ("گرسنه هستم", "fa_AF"),
        ("أين أنام الليلة", "ar"),
        ("وين فيه اكل", "ar"),
        ("I need a bed tonight", "en"),
    ],
)
def test_the_language_is_told_by_the_script_letters_and_words(text: str, language: str) -> None:
    assert I18N.written_in(text, "fr") == language


def test_a_message_without_letters_keeps_the_language() -> None:
    assert I18N.written_in("115", "ar") == "ar"
    assert I18N.written_in("١١٥", "ps") == "ps"


def test_a_language_is_known_by_the_hint_of_its_language() -> None:
    """Telegram says "fa" (or "fa-IR") for a Persian phone: Dari is configured as fa_AF."""
    assert I18N.normalise("fa") == "fa_AF"
    assert I18N.normalise("fa-IR") == "fa_AF"
    assert I18N.normalise("ar-SD") == "ar"
    assert I18N.normalise("ti-ER") == "ti"
    assert I18N.normalise("am") is None


def test_each_language_is_named_in_its_own_script() -> None:
    names = [I18N.language_name(code, title=True) for code in I18N.languages]
    assert names[:2] == ["Français", "English"]
    assert I18N.script_of(names[2]) == "Arab" and I18N.script_of(names[3]) == "Arab"
    assert I18N.script_of(names[4]) == "Arab" and I18N.script_of(names[5]) == "Ethi"
    assert len(set(names)) == 6


def test_the_menu_line_for_languages_stays_in_the_readers_script() -> None:
    """ "Langue / Language" in a French SMS stays GSM-7; an Arabic reader sees the Arabic-script names too."""
    assert I18N.every_language("account.menu_language", "fr") == "Langue / Language"
    assert I18N.every_language("account.menu_language", "en") == "Langue / Language"
    arabic = I18N.every_language("account.menu_language", "ar")
    assert arabic == f"Langue / {I18N.t('ar', 'account.menu_language')}" and I18N.script_of(arabic[9:]) == "Arab"
    assert I18N.every_language("account.menu_language", "ti").split(" / ")[0] == "Langue"
    assert len(I18N.every_language("account.menu_language").split(" / ")) == 6  # no reader: every language


def test_entries_marked_for_review_are_used_and_known() -> None:
    """Fuzzy entries are written without a native speaker: the bot still uses them, and knows which they are."""
    for language in ("ar", "fa_AF", "ps", "ti"):
        assert I18N.needs_review(language, "orientation.shelter")
        assert I18N.t(language, "orientation.shelter", url="u") != I18N.t("fr", "orientation.shelter", url="u")
    assert not I18N.needs_review("fr", "orientation.shelter")


def test_only_configured_languages_count(tmp_path: object) -> None:
    narrow = I18n(languages=("fr", "en", "ti"))
    assert narrow.languages == ["fr", "en", "ti"]
    assert narrow.written_in("أين أنام", "fr") == "fr"  # no Arabic-script language configured
    assert narrow.written_in("ኣበይ ክድቅስ", "fr") == "ti"
