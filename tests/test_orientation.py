"""Orientation: 115, day centres, emergency and crisis numbers, the site; its data, matcher and SMS cost."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.core import Core
from bot.i18n import I18n
from bot.messages import Channel, Inbound, Location, Reply
from bot.sms_text import PAGE_SEPTETS, is_gsm, paginate, render_reply, septets
from bot.text import fold
from handlers.orientation import answers, places
from handlers.orientation.content import DayCentre, centres, references
from handlers.orientation.matching import Matcher, arrondissement, matcher
from handlers.orientation.places import State
from tests.conftest import Said, Talk

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
URL = "http://www.paris.fr/services-et-infos-pratiques/social-et-solidarites/personnes-en-situation-de-precarite/lieux-d-accueil-128"
I18N = I18n("fr")
MORE = tuple(I18N.t(language, "core.more") for language in I18N.languages)
GRANDS_VOISINS = (48.8365, 2.3356)  # 82 avenue Denfert-Rochereau, 14e
NEXT_TO_HALTE_FEMMES = (48.8440, 2.3790)
YOUNG_NAMES = ("Itinerances", "PAJ Ramponeau", "Halte Jeunes")
CHECKED_MONTH = re.compile(r"\b(0[1-9]|1[0-2])/20\d\d\b")  # the month a list's places were checked
# Tuesday 24 November 2026 (Wednesday the 25th): the Bains-douches Saint-Merri open 7:30-13:00 on Tuesdays,
# the Butte-aux-Cailles ones are closed on Wednesdays, the Bagagerie Coeur du Cinq opens 7-9 and 19-21.
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
TUESDAY_12H30 = datetime(2026, 11, 24, 12, 30, tzinfo=PARIS)
WEDNESDAY_10H = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)


class Speaker:
    """A language and the catalogs: what an answer builder needs, without a conversation."""

    def __init__(self, language: str) -> None:
        self.language = language

    def t(self, key: str, **params: object) -> str:
        return I18N.t(self.language, key, **params)


async def read_all(talk: Talk, text: str, who: str = "alice") -> Said:
    """Send ``text`` and, where the answer was paged (SMS), ask for every next page."""
    return await next_pages(talk, await talk(text, who), who)


async def next_pages(talk: Talk, said: Said, who: str = "alice") -> Said:
    """``said`` with the pages that follow it (SMS answers "SUITE" by the next page)."""
    whole = Said(list(said.texts), list(said.buttons))
    while said.texts and said.texts[-1].rstrip().endswith(MORE):
        said = await talk("suite", who)
        whole.texts.extend(said.texts)
        whole.buttons.extend(said.buttons)
    return whole


def ends_with_references(said: Said) -> bool:
    """The last words, SMS pages put back together, are the 115 and the city page."""
    whole = "\n".join(said.texts)
    for footer in MORE:
        whole = whole.replace(footer, "")
    tail = fold(whole)[-200:]
    return tail.endswith(fold(URL)) and "115" in tail


def bichat() -> DayCentre:
    """ESI Bichat with the Tuesday and Thursday hours of its 2022 record: the states of opening hours."""
    place = next(c for c in centres().centres if c.key == "esi_bichat")
    day = ((time(7, 15), time(11, 45)), (time(13, 0), time(18, 0)))
    return replace(place, hours={1: day, 3: day})


# -- 115 and the references ------------------------------------------------------------------


async def test_sleep_tonight_gives_the_115_facts(talk: Talk) -> None:
    """The 115 answer: free, 24/7, no credit needed, persist, call for someone, day centres, city page."""
    await talk("menu")
    said = await talk.choose(1)
    assert said.has("115", "gratuit", "24h/24", "sans credit", "insistez", "appelez de votre tel", "accueils de jour")
    assert said.has(URL)


async def test_sleep_tonight_in_english(talk: Talk) -> None:
    """An English question gets the same facts in English."""
    said = await talk("where can i sleep tonight")
    assert said.has("115", "free", "24/7", "no credit", "keep trying", "call from your phone", "day centres", URL)


async def test_street_answer_says_what_a_neighbour_can_do(talk: Talk) -> None:
    """Helping someone outside: 115 from your own phone, persist, day centres, 15/112 if danger, city page."""
    await talk("menu")
    said = await talk.choose(4)
    assert said.has("115", "de votre tel", "insistez", "accueils de jour", "15 ou 112", URL)


async def test_emergency_numbers_are_all_there(talk: Talk) -> None:
    """The emergency menu lists every number, 114 by SMS for those who cannot speak."""
    await talk("menu")
    said = await talk.choose(3)
    for line in ("15 SAMU", "17 Police", "18 Pompiers", "112", "114 par SMS", "115", "3114", "3919", "119"):
        assert said.has(line), line


def test_every_sourced_number_is_in_the_emergency_answer() -> None:
    """Each number of references.yaml, with its source, is in the emergency list in both languages."""
    for language in ("fr", "en"):
        text = answers.fixed(Speaker(language), "emergency").text
        for number in references().numbers:
            assert number.source and number.checked
            assert re.search(rf"(^|\n){number.number} ", text), (language, number.number)


# -- day centres: filters, hours, order --------------------------------------------------------


async def test_lists_end_with_115_and_the_city_page_and_are_dated(talk: Talk) -> None:
    """Every list says it is to be checked, with its date, and ends with 115 and the city page."""
    for question in ("douche", "laverie paris 20", "avocat", "douche 14e", "je suis une femme", "shower 75012"):
        said = await read_all(talk, question)
        assert CHECKED_MONTH.search(said.text), question
        assert said.has("a verifier") or said.has("to be checked"), question
        assert ends_with_references(said), question


async def test_arrondissement_filter_keeps_only_its_places(talk: Talk) -> None:
    """The message "douche 10e" lists the 10e's shower places, then only its neighbours'."""
    said = await read_all(talk, "douche 10e")
    assert said.has("Douches (10e", "EPALSL", "ESI Bichat")
    assert not said.has("75012") and not said.has("75020")


async def test_service_filter_keeps_only_places_offering_it(talk: Talk) -> None:
    """Left luggage is at the bagageries; a meal list never shows a place without meals."""
    said = await read_all(talk, "bagagerie")
    assert said.has("Bagagerie Mains Libres") and not said.has("EPALSL")
    meals = await read_all(talk, "repas 10e")
    assert meals.has("EPALSL", "Soupes de nuit") and not meals.has("ESI Bichat") and not meals.has("Itinerances")


async def test_no_place_in_the_arrondissement_gives_the_nearest(talk: Talk) -> None:
    """No laundry in the 20e: the answer says so and gives the closest places instead."""
    said = await talk("laverie 20e")
    assert said.has("Rien de connu dans le 20e", "Au plus pres")


async def test_open_now_with_closing_time(talk: Talk, clock: FakeClock) -> None:
    """During opening hours the place says until when it is open."""
    clock.set(TUESDAY_10H)
    said = await talk("douche 4e")
    assert said.has("Bains-douches Saint-Merri", "ouvert jusqu'a 13h")


async def test_closed_at_lunch_opens_again_today(talk: Talk, clock: FakeClock) -> None:
    """Between two opening ranges the place is closed and says when it reopens today."""
    clock.set(TUESDAY_12H30)
    said = await talk("bagagerie 5e")
    assert said.has("Bagagerie Coeur du Cinq", "ferme, ouvre a 19h")


async def test_closed_day_gives_the_next_opening(talk: Talk, clock: FakeClock) -> None:
    """On a closed day the answer gives the next day and hour it opens."""
    clock.set(WEDNESDAY_10H)
    said = await talk("douche 13e")
    assert said.has("Bains-douches Butte-aux-Cailles", "ferme, ouvre jeu 7h30")


async def test_unknown_hours_say_to_call(talk: Talk) -> None:
    """A place with no recorded hours says so and asks to call."""
    said = await talk("domiciliation")
    assert said.has("EPALSL", "0954176230", "horaires inconnus, appelez")


async def test_appointment_only_services_say_so(talk: Talk) -> None:
    """ESI Bichat's showers are by appointment: the shower list says it, the meal list does not."""
    said = await read_all(talk, "douche 10e")
    assert said.has("ESI Bichat", "appelez, sur RDV")
    meals = await read_all(talk, "repas 10e")
    assert not meals.has("sur RDV")


async def test_young_places_carry_their_age_range(talk: Talk) -> None:
    """Young people's places are labelled, with the age range when known."""
    said = await talk("shower 75012 i'm 20")
    assert said.has("Halte Jeunes (ages 18-25)")
    said = await read_all(talk, "douche 10e j'ai 27 ans")
    assert said.has("Itinerances (18-30 ans)")


async def test_women_only_place_never_in_general_lists(talk: Talk) -> None:
    """ESI Halte Femmes is in no general list, even in its own arrondissement."""
    for question in ("douche", "douche 12e", "laverie", "accueil de jour 12e", "shower 75012", "domiciliation"):
        said = await read_all(talk, question)
        assert not said.has("Halte Femmes") and not said.has("Raguinot"), question


async def test_women_asking_get_the_women_only_place(talk: Talk) -> None:
    """Asking for women's services shows a women-only place first, in French or English."""
    for question, place in (
        ("je suis une femme", "Halte femmes Hotel de Ville (femmes)"),
        ("douche pour les femmes", "Cite des Dames (femmes)"),
        ("woman laundry", "Cite des Dames (women only)"),
        ("domiciliation femme", "ESI Halte Femmes (femmes), 16-18 passage Raguinot"),
    ):
        said = await talk(question)
        assert said.has(place), question
    said = await read_all(talk, "je suis une femme")
    assert said.has("3919")


async def test_paris_wide_list_is_short_and_says_how_to_narrow(talk: Talk) -> None:
    """Without an arrondissement, a long list shows the first places and how to narrow it down."""
    said = await read_all(talk, "douche")
    assert said.has("autres : ajoutez l'arrondissement")


# -- menus, steps, restart ---------------------------------------------------------------------


async def test_main_menu_entries_in_order(talk: Talk) -> None:
    """The main menu shows the five orientation entries first, in their order, before the language."""
    said = await talk("menu")
    text = fold(said.text)
    expected = ["1 Dormir ce soir (115)", "2 Douche, repas, linge", "3 Numeros d'urgence", "4 Aider une personne"]
    expected += ["5 Les Grands Voisins", "Langue / Language"]
    positions = [text.find(fold(label)) for label in expected]
    assert -1 not in positions and positions == sorted(positions)


async def test_menu_to_arrondissement_survives_a_restart(talk: Talk) -> None:
    """Menu, shower, arrondissement; a restart; then "10" still lists the 10e's showers."""
    await talk("menu")
    said = await talk.choose(2)
    assert said.has("Quel service", "Douches", "Repas", "Laverie", "Suivi social")
    said = await talk.choose(1)
    assert said.has("Douches : ou cherchez-vous", "Pres de moi", "Dans un arrondissement", "Tous les lieux")
    said = await talk.choose(2)
    assert said.has("Quel arrondissement")
    await talk.restart()
    said = await talk("10")
    assert said.has("Douches (10e)", "EPALSL")


async def test_arrondissement_step_refuses_a_wrong_number_and_waits(talk: Talk) -> None:
    """The message "25" is not an arrondissement: the bot says 1 to 20 and still waits for one."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(2)  # meals
    await talk.choose(2)  # in an arrondissement
    said = await talk("25")
    assert said.has("1 a 20")
    said = await talk("75012")
    assert said.has("Repas (12e", "ESI Maison dans la Rue")


async def test_a_new_question_during_a_step_is_answered(talk: Talk) -> None:
    """Waiting for an arrondissement, "cantine" is a new question and gets its answer."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(1)
    await talk.choose(2)
    said = await talk("cantine")
    assert said.has("lundi au jeudi", "Lingerie")


async def test_all_places_menu_lists_every_public_place(talk: Talk) -> None:
    """The "all places" choice for every service lists day centres for everyone, never the women-only
    or young people's ones."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(5)  # every service
    said = await next_pages(talk, await talk.choose(3))  # all places
    assert said.has("EPALSL", "ESI Bichat")
    assert not said.has("Halte Femmes") and not any(said.has(name) for name in YOUNG_NAMES)


async def test_women_menu_entry_shows_the_women_place(talk: Talk) -> None:
    """The "places for women" choice is a women's request: the women-only place is shown."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(6)
    said = await talk.choose(3)
    assert said.has("Halte femmes Hotel de Ville (femmes)")


async def test_near_me_asks_for_a_location_or_an_arrondissement(talk: Talk) -> None:
    """The "near me" choice asks for a position and, by SMS, accepts an arrondissement instead."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(3)  # laundry
    said = await talk.choose(1)
    assert said.has("Envoyez votre position", "ecrivez l'arrondissement")
    said = await talk("20e")
    assert said.has("Laverie (20e)", "ESI Maison dans la Rue")


async def test_site_menu_and_a_topic(talk: Talk) -> None:
    """The site menu lists its nine topics; the Trocshop choice explains the time notes."""
    await talk("menu")
    said = await talk.choose(5)
    for label in ("Conciergerie", "Cantine solidaire", "Les Comptoirs", "Maison des medecins", "Maraude Ouest"):
        assert said.has(label)
    for label in ("Equipe mobile", "Un chez-soi d'abord", "Trocshop", "Devenir benevole"):
        assert said.has(label)
    said = await talk.choose(8)
    assert said.has("15 min", "1 h", "la Lingerie", "Ressourcerie Creative", "boutique du Trocshop")


async def test_every_site_topic_from_the_menu(talk: Talk) -> None:
    """Each site topic answers with the facts of the site's own text."""
    expected = {
        1: ("Premieres Heures", "16 h max", "1 an max", "Aurore"),
        2: ("lundi au jeudi", "midi", "Lingerie"),
        3: ("Yes We Camp", "Aurore"),
        4: ("sport", "studio de musique", "cuisine partagee", "cours de francais", "pas ouverte au public"),
        5: ("5e, 15e et 16e", "bois de Boulogne", "gare Montparnasse"),
        6: ("psychologues", "HLM"),
        7: ("logement ordinaire", "sans-abri"),
        9: ("un mercredi sur deux", "18h30-20h", "Magasin general", "formulaire en ligne"),
    }
    for number, fragments in expected.items():
        await talk("grands voisins")
        said = await talk.choose(number)
        assert said.has(*fragments), number


async def test_greeting_gives_a_welcome_and_the_main_menu(talk: Talk) -> None:
    """The message "slt" gets a short welcome with the main menu's choices."""
    said = await talk("slt")
    assert said.has("Bonjour", "Dormir ce soir (115)", "Les Grands Voisins", "Langue / Language")


async def test_what_is_not_understood_goes_to_the_dispatcher(talk: Talk) -> None:
    """A message about nothing we know gets the engine's short "not understood" and menu."""
    said = await talk("xkcd blorp zzz")
    assert said.has("Je n'ai pas compris")


# -- language of one answer ----------------------------------------------------------------------


async def test_english_question_gets_english_without_changing_the_choice(talk: Talk) -> None:
    """A French person asking in English is answered in English; the next French question in French."""
    said = await talk("where can i take a shower")
    assert said.has("Showers", "to be checked")
    said = await talk("douche")
    assert said.has("Douches", "a verifier")
    said = await talk("menu")
    assert said.has("Que cherchez-vous")


async def test_english_menu_buttons_stay_in_english(talk: Talk) -> None:
    """A menu shown in English answers its buttons in English, even by number over SMS."""
    said = await talk("help me")
    assert said.has("Shower, food, laundry")
    said = await talk.choose(2)
    assert said.has("Which service")
    said = await talk.choose(3)
    assert said.has("Laundry: where are you looking?")
    said = await talk.choose(2)
    assert said.has("Which arrondissement")
    said = await talk("20")
    assert said.has("Laundry (Paris 20)", "hours unknown, call")


async def test_english_person_keeps_english_for_one_french_word(talk: Talk) -> None:
    """An English-speaking person who types "douche" still gets English."""
    await talk("langue")
    await talk.choose(2)
    said = await talk("douche")
    assert said.has("Showers")


# -- crisis --------------------------------------------------------------------------------------

CRISES = [
    ("jveux mourir", "3114"),
    ("je vais me tuer", "3114"),
    ("Je veux me suicider", "3114"),
    ("jai envie d'en finir", "3114"),
    ("i want to kill myself", "3114"),
    ("il me frappe", "17"),
    ("mon mari me bat", "17"),
    ("he is hitting me", "17"),
    ("j'ai été violée", "17"),
    ("il va me tuer", "17"),
    ("il ne respire plus", "15"),
    ("elle est inconsciente", "15"),
    ("my friend is not breathing", "15"),
    ("overdose", "15"),
    ("il fait un malaise", "15"),
    ("heart attack", "15"),
    ("au secours", "112"),
]


@pytest.mark.parametrize(("text", "first"), CRISES, ids=[t for t, _ in CRISES])
async def test_crisis_reply_starts_with_the_numbers(talk: Talk, text: str, first: str) -> None:
    """A danger message is answered with the emergency numbers first."""
    said = await talk(text)
    assert said.texts[0].lstrip().startswith(first), said.text


async def test_crisis_wins_over_a_pending_step(talk: Talk) -> None:
    """Waiting for an arrondissement, "il me frappe" still gets the police first."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(1)
    await talk.choose(2)
    said = await talk("il me frappe")
    assert said.texts[0].startswith("17")
    assert said.has("3919", "114")


async def test_crisis_in_english_from_a_french_person_is_in_english(talk: Talk) -> None:
    """The message "kill myself" is answered in English, the number first."""
    said = await talk("kill myself")
    assert said.texts[0].startswith("3114")
    assert said.has("suicide prevention", "you are not alone")


NOT_CRISES = [
    "je meurs de faim",
    "jsuis mort de fatigue",
    "il fait froid a mourir",
    "c'est fermé ?",
    "je signe mon contrat demain",
    "je me suis coupé les cheveux",
    "mort de rire",
    "tu abuses",
    "ca me tape sur les nerfs",
    "this queue is killing me",
    "j'ai besoin d'aide pour mes papiers",
]


@pytest.mark.parametrize("text", NOT_CRISES)
def test_ordinary_sayings_are_not_a_crisis(text: str) -> None:
    """Hunger, tiredness, closed doors and idioms do not raise an alarm."""
    assert matcher().crisis(text).kinds == ()


async def test_dying_of_hunger_gets_food(talk: Talk) -> None:
    """The message "je meurs de faim" is hunger: meals, not the suicide line."""
    said = await talk("je meurs de faim")
    assert said.has("Repas") and not said.has("3114")


async def test_urgence_alone_gives_the_numbers(talk: Talk) -> None:
    """The message "urgence" alone lists the emergency numbers."""
    said = await talk("urgence")
    assert said.has("15 SAMU", "17 Police", "18 Pompiers", "112")


# -- a shared position (Telegram) ------------------------------------------------------------------


async def test_location_gives_the_three_nearest_without_women_only(core: Core) -> None:
    """A position sent with no question lists the three nearest public places, closest first."""
    inbound = Inbound(channel=Channel.CONSOLE, address="x", location=Location(*NEXT_TO_HALTE_FEMMES))
    said = Said.of(await core.dispatcher.handle(inbound))
    assert said.has("pres de vous", "km", URL)
    assert not said.has("Halte Femmes")
    assert said.text.count("\n- ") == 3


async def test_a_shared_telegram_location_gets_the_nearest(talk: Talk) -> None:
    """A location shared on Telegram (or the terminal) gets the three nearest public places; SMS has none."""
    said = await talk.location(*NEXT_TO_HALTE_FEMMES)
    assert said.has("pres de vous", "km", URL)
    assert not said.has("Halte Femmes")


async def test_location_after_near_me_for_women(core: Core) -> None:
    """Near me, for women: the women-only place next door comes first."""
    for text in ("menu", "2", "6", "1"):
        await core.dispatcher.handle(Inbound(channel=Channel.CONSOLE, address="y", text=text))
    inbound = Inbound(channel=Channel.CONSOLE, address="y", location=Location(*NEXT_TO_HALTE_FEMMES))
    said = Said.of(await core.dispatcher.handle(inbound))
    first = next(line for line in said.texts[0].split("\n") if line.startswith("- "))
    assert "Halte Femmes" in first


async def test_location_after_near_me_uses_the_chosen_service(core: Core) -> None:
    """Near me, for meals: the three nearest are places serving meals."""
    for text in ("menu", "2", "2", "1"):  # meals, near me
        await core.dispatcher.handle(Inbound(channel=Channel.CONSOLE, address="z", text=text))
    inbound = Inbound(channel=Channel.CONSOLE, address="z", location=Location(*GRANDS_VOISINS))
    said = Said.of(await core.dispatcher.handle(inbound))
    assert said.has("Repas pres de vous")
    assert not said.has("Itinerances") and not said.has("PAJ")


def test_nearest_unit_order_and_count() -> None:
    """nearest() returns the three closest with their distances, closest first."""
    pool = places.eligible(centres().centres)
    ranked = places.nearest(pool, *GRANDS_VOISINS)
    assert len(ranked) == 3
    assert [km for _, km in ranked] == sorted(km for _, km in ranked)
    assert all(not c.women_only for c, _ in ranked)


def test_haversine_known_distance() -> None:
    """Notre-Dame to the Eiffel Tower is about 4.1 km."""
    assert places.haversine_km(48.8530, 2.3499, 48.8584, 2.2945) == pytest.approx(4.1, abs=0.15)


def test_far_from_paris_says_115_answers_everywhere() -> None:
    """A position in Lyon gets the Paris places with a word that every département has its 115."""
    reply = answers.nearest_list(Speaker("fr"), WEDNESDAY_10H, centres().centres, 45.76, 4.84)
    assert "loin de Paris" in reply.text


# -- units: matcher, hours, eligibility ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("douche 10e", 10),
        ("douche 10eme", 10),
        ("douche 10 eme", 10),
        ("douche 10ème", 10),
        ("shower 75012", 12),
        ("75116", 16),
        ("laverie paris 20", 20),
        ("1er", 1),
        ("wash 3rd", 3),
        ("ou dormir 2main", None),
        ("115", None),
        ("j'ai 18 ans", None),
        ("25e", None),
    ],
)
def test_arrondissement_parsing(text: str, expected: int | None) -> None:
    """Arrondissements are read from "10e", "75010", "paris 20", and not from "2main" or "115"."""
    assert arrondissement(text) == expected


def test_bare_number_is_an_arrondissement_only_when_asked_for() -> None:
    """The message "10" alone is an arrondissement only in the step that asks for one."""
    assert arrondissement("10") is None
    assert arrondissement("10", bare=True) == 10


def test_typos_are_tolerated_but_real_words_are_not_typos() -> None:
    """The message "douhce" is a shower, "ferme" (closed) is not "femme", "signe" is not "saigne"."""
    m = matcher()
    assert m.understand("douhce").intent == "shower"
    assert m.understand("laveri").intent == "laundry"
    assert not m.understand("c'est ferme").women
    assert m.crisis("je signe ici").kinds == ()


def test_short_words_need_an_exact_match(tmp_path: Path) -> None:
    """Words under four letters never match by similarity, but swapped letters do (a matcher built here)."""
    config = {
        "fuzzy": {"min_length": 4, "score_cutoff": 85, "crisis_min_length": 6, "crisis_score_cutoff": 88},
        "intents": ["bed", "sleep"],
        "crisis": ["danger"],
    }
    words = {
        "fr": "orientation.markers: [je]\norientation.intent.sleep: [dormir]\n",
        "en": "orientation.markers: [i]\norientation.intent.bed: [bed]\norientation.crisis.danger: [sos]\n",
    }
    for language, text in words.items():
        (tmp_path / language / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / language / "LC_MESSAGES" / "core.po").write_text('msgid "x"\nmsgstr "x"\n', encoding="utf-8")
        (tmp_path / language / "keywords").mkdir()
        (tmp_path / language / "keywords" / "orientation.yaml").write_text(text, encoding="utf-8")
    m = Matcher(config, I18n(locales_dir=tmp_path, languages=("fr", "en")))
    assert m.understand("bad").intent is None
    assert m.understand("dormri").intent == "sleep"
    assert m.crisis("sas").kinds == ()
    assert m.crisis("SOS").kinds == ("danger",)


def test_specific_phrase_beats_a_single_word() -> None:
    """The message "laver mes vetements" is laundry even though "laver" alone is a shower."""
    assert matcher().understand("laver mes vetements").intent == "laundry"
    assert matcher().understand("me laver").intent == "shower"


def test_hours_states() -> None:
    """Open until the end of a range, reopening later the same day, next opening day, unknown."""
    centre = bichat()
    assert places.status(centre, TUESDAY_10H).state is State.OPEN
    assert places.status(centre, TUESDAY_12H30).state is State.OPENS_TODAY
    later = places.status(centre, WEDNESDAY_10H)
    assert (later.state, later.weekday) == (State.OPENS_LATER, 3)
    sunday_evening = places.status(centre, datetime(2026, 11, 29, 20, 0, tzinfo=PARIS))
    assert (sunday_evening.state, sunday_evening.weekday) == (State.OPENS_LATER, 1)
    epalsl = next(c for c in centres().centres if c.key == "epalsl")
    assert places.status(epalsl, TUESDAY_10H).state is State.UNKNOWN
    saint_merri = next(c for c in centres().centres if c.key == "bains_douches_saint_merri")
    assert places.status(saint_merri, TUESDAY_10H) == places.Status(State.OPEN, time(13, 0))


def test_hours_use_paris_time_across_daylight_saving() -> None:
    """7:15 in Paris is open time in winter and in summer alike (the clock is local, not UTC)."""
    for day in (datetime(2026, 1, 6, 7, 20, tzinfo=PARIS), datetime(2026, 7, 7, 7, 20, tzinfo=PARIS)):
        assert places.status(bichat(), day).state is State.OPEN


def test_women_only_places_need_a_women_request() -> None:
    """eligible() leaves women-only places out unless women's services were asked for."""
    every = centres().centres
    assert not any(c.women_only for c in places.eligible(every))
    assert any(c.women_only for c in places.eligible(every, women=True))
    assert not any(c.young_only for c in places.eligible(every))
    assert any(c.young_only for c in places.eligible(every, young=True))


def test_every_intent_has_an_answer() -> None:
    """Each intent of intents.yaml is one the handler answers; crisis kinds match their texts' order."""
    handled = {"site", "centres", "women", "young"} | set(answers.FIXED) | set(answers.WITH_MENU)
    handled |= set(answers.SITE_TOPICS) | set(centres().services)
    assert set(matcher().order) == handled
    assert tuple(matcher().crisis_order) == answers.CRISIS_KINDS


# -- data ---------------------------------------------------------------------------------------


def test_every_place_is_sourced_dated_and_to_check() -> None:
    """Each place has its source, its date, a to-check status and says its coordinates are approximate."""
    data = centres()
    assert len(data.centres) >= 60
    for centre in data.centres:
        assert centre.source and centre.verified >= (2022, 3)
        assert centre.to_check
        assert "approximated" in centre.coordinates
        assert centre.services <= set(data.services)
        assert 48.8 < centre.latitude < 48.9 and 2.25 < centre.longitude < 2.42
        if centre.arrondissement is None:
            assert not centre.postcode.startswith("75")
        else:
            assert centre.postcode in (f"750{centre.arrondissement:02d}", "75116" * (centre.arrondissement == 16))
    assert "esi_halte_femmes" in [c.key for c in data.centres if c.women_only]


# -- SMS cost -----------------------------------------------------------------------------------


# Those with places, and some without (the nearest elsewhere), "1er" among them: every wording.
ARRONDISSEMENTS = (1, 10, 12, 14, 16, 20)


def every_answer(language: str) -> dict[str, Reply]:
    """Every answer the feature can give, by a name that says which."""
    sp = Speaker(language)
    found: dict[str, Reply] = {
        **{name: answers.fixed(sp, name) for name in answers.FIXED},
        "site_menu": answers.site_menu(sp),
        "choose_service": answers.choose_service(sp),
        "ask_location": answers.ask_location(sp),
        "ask_arrondissement": answers.ask_arrondissement(sp),
        "bad_arrondissement": answers.bad_arrondissement(sp),
        "nothing": answers.nothing(sp),
    }
    for topic in answers.SITE_TOPICS:
        found[f"topic:{topic}"] = answers.topic(sp, topic)
    for key in answers.MENU_SERVICES:
        found[f"where:{key}"] = answers.choose_where(sp, key)
    for size in (1, 2):
        for kinds in itertools.combinations(answers.CRISIS_KINDS, size):
            found[f"crisis:{'+'.join(kinds)}"] = answers.crisis(sp, kinds, I18N)
    for when in (TUESDAY_10H, TUESDAY_12H30, WEDNESDAY_10H):
        for service in (None, *centres().services):
            for women, young in ((False, False), (True, False), (False, True)):
                tag = f"{service}:{'women' if women else 'young' if young else 'all'}:{when:%a%H%M}"
                found[f"list:{tag}"] = answers.centre_list(
                    sp, when, centres().centres, service=service, women=women, young=young
                )
                found[f"everything:{tag}"] = answers.centre_list(
                    sp, when, centres().centres, service=service, women=women, young=young, everything=True
                )
                for number in ARRONDISSEMENTS:
                    found[f"list:{tag}:{number}"] = answers.centre_list(
                        sp, when, centres().centres, service=service, arrondissement=number, women=women, young=young
                    )
            for women in (False, True):
                for point in (GRANDS_VOISINS, NEXT_TO_HALTE_FEMMES, (45.76, 4.84)):
                    found[f"near:{service}:{women}:{point}:{when:%a%H%M}"] = answers.nearest_list(
                        sp, when, centres().centres, *point, service=service, women=women
                    )
    return found


def paged_by_design(name: str, reply: Reply) -> bool:
    """The lists that may take two or three SMS, since the 125-character city page alone fills
    half of two segments: several places; the places nearest an arrondissement that has none (a
    line says so); and lists for a shared position, which only Telegram sends. A list of one place
    and everything else fit in two segments."""
    if name.startswith("near:"):
        return True
    several = reply.text.count("\n- ") >= 2
    notes = (I18N.catalogs[lang]["orientation.list.none_in_arr"].split("{arr}")[0] for lang in ("fr", "en"))
    elsewhere = any(fold(note) in fold(reply.text) for note in notes)
    return name.startswith(("list:", "everything:")) and (several or elsewhere)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_answer_is_gsm7_and_fits_two_segments(language: str) -> None:
    """Rendered for SMS, every answer is GSM-7 and at most 306 septets, numbered choices included,
    except lists of places, which are paged with the date first and 115 and the city page last."""
    longest = ("", 0)
    unique: dict[Reply, str] = {}
    for name, reply in every_answer(language).items():
        unique.setdefault(reply, name)  # many lists read the same at different hours
    for reply, name in unique.items():
        rendered = render_reply(reply)
        assert is_gsm(rendered), name
        size = septets(rendered)
        if paged_by_design(name, reply):
            pages = paginate(rendered, I18N.t(language, "core.more"))
            assert all(septets(page) <= PAGE_SEPTETS for page in pages), name
            assert CHECKED_MONTH.search(pages[0]) and "\n- " in pages[0], name
            assert pages[-1].rstrip().endswith(URL) and "115" in rendered.splitlines()[-2], name
            continue
        assert size <= PAGE_SEPTETS, f"{name}: {size} septets\n{rendered}"
        longest = max(longest, (name, size), key=lambda pair: pair[1])
    assert longest[1] > 200  # the bound was really exercised


@pytest.mark.parametrize(("language", "greeting"), [("fr", "bonjour"), ("en", "good morning")])
async def test_welcome_with_the_main_menu_fits_two_segments(core: Core, language: str, greeting: str) -> None:
    """The welcome, with every main-menu entry numbered, is one GSM-7 SMS of two segments at most."""
    replies = await core.dispatcher.handle(Inbound(channel=Channel.CONSOLE, address="w", text=greeting))
    rendered = "\n\n".join(render_reply(reply) for reply in replies)
    assert is_gsm(rendered) and septets(rendered) <= PAGE_SEPTETS


def test_french_texts_avoid_characters_sms_would_change() -> None:
    """The French catalog uses no quote or letter outside GSM-7 that has a plain spelling (’ « » œ …)."""
    text = (ROOT / "data/locales/fr/LC_MESSAGES/orientation.po").read_text(encoding="utf-8")
    for character in "’‘«»“”œŒ…\u00a0\u202f":
        assert character not in text, repr(character)


# -- catalogs -----------------------------------------------------------------------------------

KEY_IN_CODE = re.compile(r"""(?:\bt\(\s*|menu_entry\(\s*["'][^"']+["'],\s*)["'](orientation\.[a-z0-9_.]+)["']""")


def keys_in_code() -> set[str]:
    """Literal message keys in the package, and the keys it builds from the data (services, topics...)."""
    found: set[str] = set()
    for path in (ROOT / "handlers" / "orientation").glob("*.py"):
        found.update(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    found |= {f"orientation.service.{s}" for s in (*centres().services, *answers.MENU_SERVICES)}
    found |= {f"orientation.where.{m}" for m in answers.WHERE_MODES}
    found |= {f"orientation.crisis.{k}" for k in answers.CRISIS_KINDS}
    found |= {f"orientation.site.{t}" for t in answers.SITE_TOPICS}
    found |= {f"orientation.site.label.{t}" for t in answers.SITE_TOPICS}
    found |= {f"orientation.day.{d}" for d in range(7)}
    found |= set(answers.FIXED.values())
    return found


def test_every_key_used_exists_in_both_languages() -> None:
    """Every orientation text the code asks for is in the French and the English catalog."""
    used = keys_in_code()
    assert "orientation.shelter" in used and "orientation.crisis.suicide" in used
    for language in ("fr", "en"):
        missing = sorted(key for key in used if not I18N.has(key, language))
        assert not missing, f"{language} lacks {missing}"


SPOKEN = "orientation.voice."


def test_catalogs_define_the_same_orientation_keys_and_no_unused_one() -> None:
    """fr and en define the same orientation keys, and each is used by the code (the telephone menu's
    spoken ones, orientation.voice.*, are walked by tests/test_voice.py)."""
    french = {k for k in I18N.catalogs["fr"] if k.startswith("orientation.") and not k.startswith(SPOKEN)}
    english = {k for k in I18N.catalogs["en"] if k.startswith("orientation.") and not k.startswith(SPOKEN)}
    assert french == english
    assert french == keys_in_code()
