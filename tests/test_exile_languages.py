"""Arabic, Dari, Pashto and Tigrinya as people type them, over every channel.

Each row is a message typed by someone who has not chosen a language, and the answers that help
(catalog keys): the reply must come in the same language and script, start like that language's
text of one of those keys, and carry the right numbers. The phrasings were written apart from the
keyword files (the words the bot knows), with the habits of each script: Arabic without short
vowels, with ي/ی and ك/ک mixed, Latin-script Arabic; Dari with Iranian words; Pashto typed with and
without its own letters; Tigrinya with its homophone letters.
"""

from __future__ import annotations

import re

import pytest

from bot.i18n import shipped
from bot.sms_text import paginate, render_reply, segments
from bot.text import LRI, PDI, fold
from tests.conftest import Said, Talk
from tests.test_orientation import every_answer

I18N = shipped()

SHELTER = ("orientation.shelter",)
STREET = ("orientation.street",)
SHOWER = ("orientation.service.shower",)
MEAL = ("orientation.service.meal", "orientation.site_meal")
HEALTH = ("orientation.service.health", "orientation.unwell", "orientation.care")
LAUNDRY = ("orientation.service.laundry",)
CLOTHES = ("orientation.service.clothes",)
SOCIAL = ("orientation.service.social",)
EMERGENCY = ("orientation.emergency",)
SUICIDE = ("orientation.crisis.suicide",)
VIOLENCE = ("orientation.crisis.violence",)
MEDICAL = ("orientation.crisis.medical",)
DANGER = ("orientation.crisis.danger", "orientation.crisis.violence", "orientation.crisis.medical")
GREETING = ("orientation.welcome",)
HELP = ("orientation.help", "orientation.welcome")
THANKS = ("orientation.thanks",)
MENU = ("orientation.menu.sleep",)
LANGUAGE_MENU = ("account.choose_language",)
COLD = ("orientation.cold",)

# The number each answer must show, whatever its words.
NUMBERS = {SHELTER: "115", STREET: "115", SUICIDE: "3114", VIOLENCE: "17", MEDICAL: "15", EMERGENCY: "112"}

PHRASINGS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "ar": [
        ("أين أنام الليلة؟", SHELTER),
        ("اين انام الليله", SHELTER),
        ("ما عندي مكان انام فيه", SHELTER),
        ("انا نايم في الشارع", SHELTER),
        ("ابحث عن مأوى", SHELTER),
        ("wen anam", SHELTER),
        ("أريد أن أستحم", SHOWER),
        ("وين الحمام", SHOWER),
        ("وين اتحمم", SHOWER),
        ("أنا جائع", MEAL),
        ("انا جوعان", MEAL),
        ("وين اكل مجاني", MEAL),
        ("ابغى اكل", MEAL),
        ("أحتاج طبيب", HEALTH),
        ("انا مريض", HEALTH),
        ("مستشفى", HEALTH),
        ("غسيل الملابس", LAUNDRY),
        ("أريد ملابس", CLOTHES),
        ("مساعدة اجتماعية", SOCIAL),
        ("رقم الطوارئ", EMERGENCY),
        ("أريد أن أموت", SUICIDE),
        ("بدي انتحر", SUICIDE),
        ("زوجي يضربني", VIOLENCE),
        ("لا يتنفس", MEDICAL),
        ("السلام عليكم", GREETING),
        ("مرحبا", GREETING),
        ("شكرا", THANKS),
        ("القائمة", MENU),
        ("اللغة", LANGUAGE_MENU),
        ("بردان", COLD),
    ],
    "fa_AF": [
        ("امشب کجا بخوابم", SHELTER),
        ("امشب كجا بخوابم", SHELTER),  # Arabic kaf
        ("جای خواب ندارم", SHELTER),
        ("جاي خواب ندارم", SHELTER),  # Arabic yeh
        ("در سرک می خوابم", SHELTER),
        ("پناهگاه", SHELTER),
        ("میخواهم حمام کنم", SHOWER),
        ("حمام کجاست", SHOWER),
        ("کجا دوش بگیرم", SHOWER),
        ("گرسنه هستم", MEAL),
        ("گشنه ام", MEAL),
        ("نان مفت کجاست", MEAL),
        ("غذا", MEAL),
        ("داکتر میخواهم", HEALTH),
        ("مریض هستم", HEALTH),
        ("شفاخانه", HEALTH),
        ("لباس شویی", LAUNDRY),
        ("کالا ضرورت دارم", CLOTHES),
        ("مددکار اجتماعی", SOCIAL),
        ("شماره عاجل", EMERGENCY),
        ("میخواهم بمیرم", SUICIDE),
        ("خودکشی", SUICIDE),
        ("شوهرم مرا می زند", VIOLENCE),
        ("نفس نمی کشد", MEDICAL),
        ("سلام، خوب هستید؟", GREETING),
        ("تشکر", THANKS),
        ("مینو", MENU),
        ("زبان", LANGUAGE_MENU),
    ],
    "ps": [
        ("نن شپه چیرته ویده شم", SHELTER),
        ("د خوب ځای نلرم", SHELTER),
        ("د خوب زای نلرم", SHELTER),  # typed without Pashto letters
        ("په سړک کې ویده یم", SHELTER),
        ("پناه ځای", SHELTER),
        ("غواړم ځان ووینځم", SHOWER),
        ("حمام چیرته دی", SHOWER),
        ("شاور چیرته دی", SHOWER),
        ("وږی یم", MEAL),
        ("ډوډۍ غواړم", MEAL),
        ("ډوډی غواړم", MEAL),
        ("خواړه", MEAL),
        ("ډاکټر ته اړتیا لرم", HEALTH),
        ("ناروغ یم", HEALTH),
        ("روغتون", HEALTH),
        ("جامې مینځل", LAUNDRY),
        ("جامې غواړم", CLOTHES),
        ("ټولنیز کارکوونکی", SOCIAL),
        ("بیړنۍ شمیره", EMERGENCY),
        ("غواړم ومرم", SUICIDE),
        ("ځان وژنه", SUICIDE),
        ("میړه مې وهي", VIOLENCE),
        ("ساه نه اخلي", MEDICAL),
        ("سلام، څنګه یې؟", GREETING),
        ("مننه", THANKS),
        ("لړلیک", MENU),
        ("ژبه", LANGUAGE_MENU),
    ],
    "ti": [
        ("ሎሚ ለይቲ ኣበይ ክድቅስ", SHELTER),
        ("ሎሚ ለይቲ አበይ ክድቅስ", SHELTER),  # አ for ኣ
        ("መደቀሲ የብለይን", SHELTER),
        ("ኣብ ጎደና እየ ዝድቅስ", SHELTER),
        ("መዕቆቢ", SHELTER),
        ("ክሕጸብ እደሊ", SHOWER),
        ("ሻወር", SHOWER),
        ("መሕጸቢ ኣበይ ኣሎ", SHOWER),
        ("ጠምየ", MEAL),
        ("መግቢ", MEAL),
        ("መግቢ ኣበይ ይርከብ", MEAL),
        ("ሓኪም እደሊ", HEALTH),
        ("ሐኪም እደሊ", HEALTH),  # ሐ for ሓ
        ("ሓሚመ", HEALTH),
        ("ሆስፒታል", HEALTH),
        ("ክዳን ምሕጻብ", LAUNDRY),
        ("ክዳን እደሊ", CLOTHES),
        ("ማሕበራዊ ሰራሕተኛ", SOCIAL),
        ("ናይ ህጹጽ ቁጽሪ", EMERGENCY),
        ("ክመውት እደሊ", SUICIDE),
        ("ርእሰይ ክቐትል", SUICIDE),
        ("ሰብኣየይ ይወቕዓኒ", VIOLENCE),
        ("ኣይተንፍስን", MEDICAL),
        ("ሰላም", GREETING),
        ("ሠላም", GREETING),  # ሠ for ሰ
        ("የቐንየለይ", THANKS),
        ("ዝርዝር", MENU),
        ("ቋንቋ", LANGUAGE_MENU),
    ],
}
ROWS = [(language, text, keys) for language, rows in PHRASINGS.items() for text, keys in rows]
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def opening(language: str, key: str, words: int = 3) -> str:
    """The first words of ``key``'s text in ``language``, before any placeholder, folded."""
    text = I18N.catalogs[language].get(key) or I18N.catalogs[I18N.default_language][key]
    return " ".join(fold(_PLACEHOLDER.split(text)[0]).split()[:words])


def in_script(said: Said, language: str) -> bool:
    """At least a few letters of the language's script (the answers also hold Latin place names)."""
    script = I18N.script(language)
    return sum(I18N.script_of(ch) == script for ch in said.text) >= 6


def test_there_are_enough_phrasings() -> None:
    """At least 25 ways of asking per language, none twice."""
    for language, rows in PHRASINGS.items():
        assert len(rows) >= 25, language
        assert len({text for text, _ in rows}) == len(rows), language


@pytest.mark.parametrize(("language", "text", "keys"), ROWS, ids=[f"{lang}:{text}" for lang, text, _ in ROWS])
async def test_a_question_gets_its_answer_in_its_language(
    talk: Talk, language: str, text: str, keys: tuple[str, ...]
) -> None:
    """Answered in the language and script it was written in, with the answer that helps and its number."""
    said = await talk(text)
    assert in_script(said, language), said.text
    assert any(fold(opening(language, key)) in fold(said.text) for key in keys), (keys, said.text)
    number = NUMBERS.get(keys)
    if number is not None:
        assert re.search(rf"(?<!\d){number}(?!\d)", said.text), said.text


@pytest.mark.parametrize("language", list(PHRASINGS))
async def test_a_crisis_gives_the_numbers_and_the_french_sentence(talk: Talk, language: str) -> None:
    """A crisis text still marked for review is followed by the French one, with the same digits."""
    text = next(text for text, keys in PHRASINGS[language] if keys == SUICIDE)
    said = await talk(text)
    first = said.texts[0]
    assert "3114" in first and I18N.t(language, "orientation.crisis.suicide")[:12] in first, first
    more = I18N.words("core.more", language)
    while talk.paged and fold(I18N.t(language, "core.more")) in fold(said.texts[-1]):
        said = Said(texts=said.texts + (await talk(min(more, key=len))).texts)  # the French behind the more word
    assert fold(I18N.t("fr", "orientation.crisis.suicide")) in fold(said.text), said.text


@pytest.mark.parametrize("language", list(PHRASINGS))
async def test_the_language_menu_lists_each_language_in_its_own_script(talk: Talk, language: str) -> None:
    """Asked in any of them, the menu names the six languages in their own names; on SMS, numbered."""
    text = next(text for text, keys in PHRASINGS[language] if keys == LANGUAGE_MENU)
    said = await talk(text)
    for code in I18N.languages:
        assert I18N.language_name(code, title=True) in said.text, (code, said.text)
    position = I18N.languages.index(language) + 1
    chosen = await talk.choose(position)
    assert fold(opening(language, "account.language_set")) in fold(chosen.text), chosen.text
    again = await talk("115")  # no words of any language: the chosen one
    assert in_script(again, language) and "115" in again.text, again.text


@pytest.mark.parametrize("language", list(PHRASINGS))
async def test_a_language_name_alone_chooses_it(talk: Talk, language: str) -> None:
    said = await talk(I18N.language_name(language))
    assert fold(opening(language, "account.language_set")) in fold(said.text), said.text


async def test_the_language_follows_what_people_write_until_they_choose(talk: Talk) -> None:
    """Arabic, then Tigrinya, then French: each answered in its own language, nothing chosen yet."""
    assert in_script(await talk("أين أنام الليلة"), "ar")
    tigrinya = await talk("ሎሚ ለይቲ ኣበይ ክድቅስ")
    assert in_script(tigrinya, "ti") and "115" in tigrinya.text
    french = await talk("ou dormir ce soir")
    assert french.has("115", "gratuit")


@pytest.mark.parametrize("language", list(PHRASINGS))
def test_orientation_answers_take_three_segments_at_most_paged_beyond(language: str) -> None:
    """In UCS-2 every SMS page is at most three segments, the rest behind the "more" word; the first
    page of a fixed answer already has its number."""
    for name, reply in every_answer(language).items():
        pages = paginate(render_reply(reply), I18N.t(language, "core.more"))
        assert all(segments(page).count <= 3 for page in pages), name
        if name in ("shelter", "street", "cold"):
            assert "115" in pages[0], (name, pages[0])
        if name.startswith("crisis:"):
            assert re.search(r"\d{2,4}", pages[0].split("\n")[0][:40]), (name, pages[0])


@pytest.mark.parametrize("language", ["ar", "fa_AF", "ps"])
async def test_numbers_stay_left_to_right_in_right_to_left_answers(talk: Talk, language: str) -> None:
    """The emergency numbers with Latin words ("15 SAMU") are isolated left to right, on every channel."""
    text = next(text for text, keys in PHRASINGS[language] if keys == EMERGENCY)
    said = await talk(text)
    assert re.search(f"{LRI}[^{PDI}]*[0-9][^{PDI}]*{PDI}", said.text), said.text
    assert "112" in said.text and "3114" in said.text
