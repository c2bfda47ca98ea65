"""Places worth the walk: the places file, "near" (arrondissement and its neighbours, postcode, station,
position), whom each place is for (women, young people by age, families), hours, meals tonight, SMS pages."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.clock import FakeClock
from bot.i18n import I18n
from bot.messages import Reply
from bot.sms_text import PAGE_SEPTETS, is_gsm, paginate, render_reply, septets
from bot.text import fold
from handlers.orientation import answers, near, places
from handlers.orientation.content import (
    DATA_DIR,
    ContentError,
    DayCentre,
    centres,
    landmarks,
    load_centres,
    load_landmarks,
)
from tests.conftest import Said, Talk
from tests.test_orientation import Speaker, read_all

PARIS = ZoneInfo("Europe/Paris")
I18N = I18n("fr")
URL = answers.city_page()
WEDNESDAY_10H = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)
WEDNESDAY_19H = datetime(2026, 11, 25, 19, 0, tzinfo=PARIS)
GARE_DE_L_EST = (48.8768, 2.3590)
DISTANCE = re.compile(r"- (\d+(?:[.,]\d)?) (km|m)\b")


def place(key: str) -> DayCentre:
    return next(c for c in centres().centres if c.key == key)


def raw_places() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DATA_DIR / "places.yaml").read_text(encoding="utf-8"))
    return loaded


def items(said: Said) -> list[str]:
    """The place lines of an answer, in order (an SMS page's footer left aside)."""
    return [line for text in said.texts for line in text.split("\n") if line.startswith("- ")]


# -- the places file --------------------------------------------------------------------------------


def test_the_file_holds_sixty_sourced_places_in_fifteen_arrondissements() -> None:
    """At least 60 places in at least 15 arrondissements, each with its source, its date and its month checked."""
    loaded = centres().centres
    assert len(loaded) >= 60
    assert len({c.arrondissement for c in loaded if c.arrondissement is not None}) >= 15
    for centre in loaded:
        assert centre.source and centre.verified and centre.coordinates, centre.key
    for entry in raw_places()["places"]:
        assert "source_date" in entry and "verified" in entry, entry["key"]
    kinds = {c.kind for c in loaded}
    assert {"bains_douches", "esi", "day_centre", "meal", "health", "luggage", "clothes", "domiciliation"} <= kinds
    assert sum(c.kind == "bains_douches" for c in loaded) >= 16


def test_unknown_phone_and_hours_stay_none_never_the_text_none() -> None:
    """A null phone or hours is None, and no answer ever prints "None"."""
    bains = place("bains_douches_saint_merri")
    assert bains.phone is None and bains.hours is not None and bains.website
    assert place("esi_bichat").hours is None and place("esi_bichat").phone == "01 40 18 04 41"
    for language in ("fr", "en"):
        for service in (None, *centres().services):
            for number in range(1, 21):
                reply = answers.centre_list(
                    Speaker(language), WEDNESDAY_10H, centres().centres, service=service, arrondissement=number
                )
                assert "None" not in reply.text, (service, number)


def test_a_wrong_entry_stops_the_start_with_the_place_named() -> None:
    """A phone in the wrong form, an unknown public or a postcode of another arrondissement fail, named."""
    for field, value, message in (
        ("phone", "0140180441", "phone"),
        ("public", "men", "public must be one of"),
        ("postcode", "75013", "not in the 10e"),
        ("verified", "2026-13", "verified"),
        ("meals", ["dinner"], "meals"),
        ("source", None, "source"),
    ):
        raw = copy.deepcopy(raw_places())
        entry = next(e for e in raw["places"] if e["key"] == "esi_bichat")
        entry[field] = value
        with pytest.raises(ContentError, match=message) as raised:
            load_centres(raw)
        assert "esi_bichat" in str(raised.value)


def test_two_places_with_one_key_stop_the_start() -> None:
    raw = copy.deepcopy(raw_places())
    raw["places"].append(copy.deepcopy(raw["places"][0]))
    with pytest.raises(ContentError, match="share the key"):
        load_centres(raw)


def test_neighbours_are_symmetric_and_checked() -> None:
    """Each arrondissement's neighbours list it back; the 13e borders the 5e, 12e and 14e."""
    adjacent = landmarks().adjacent
    assert adjacent[13] == (5, 12, 14)
    assert all(number in adjacent[other] for number, around in adjacent.items() for other in around)
    raw = yaml.safe_load((DATA_DIR / "landmarks.yaml").read_text(encoding="utf-8"))
    raw["adjacent"][13] = [5, 12, 14, 20]
    with pytest.raises(ContentError, match="must list each other"):
        load_landmarks(raw)


# -- who is asking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("j'ai 19 ans", 19),
        ("douche 12e jai 22ans", 22),
        ("I'm 22", 22),
        ("im 20 need a shower", 20),
        ("24 years old", 24),
        ("a la rue depuis 20 ans", None),
        ("homeless for 15 years", None),
        ("douche 13e", None),
        ("j'ai 2 enfants", None),
    ],
)
def test_an_age_is_read_only_where_it_is_one(text: str, age: int | None) -> None:
    """An age is "19 ans", "I'm 22", "24 years old"; not a duration, an arrondissement or a count."""
    assert places.age(text, I18N) == age


def test_children_family_or_a_pregnancy_make_a_family() -> None:
    for text in ("douche avec mes enfants", "on est une famille", "je suis enceinte", "shower for my kids"):
        assert places.family(text, I18N), text
    assert not places.family("douche 13e", I18N)


def test_whom_a_place_is_for() -> None:
    """Women's places to women, young people's by the age given, family places to families."""
    halte_jeunes, paj, pitard = place("halte_jeunes"), place("paj_ramponeau"), place("esi_familles_pitard")
    women = place("esi_halte_femmes")
    nobody = places.Asker()
    assert not any(nobody.may_use(c) for c in (halte_jeunes, paj, pitard, women))
    assert places.Asker(women=True).may_use(women)
    assert places.Asker(young=True).may_use(halte_jeunes) and places.Asker(young=True).may_use(paj)
    assert places.Asker(age=19).may_use(halte_jeunes) and not places.Asker(age=19).may_use(paj)
    assert not places.Asker(young=True, age=27).may_use(halte_jeunes)
    assert places.Asker(family=True).may_use(pitard)
    assert all(nobody.may_use(c) for c in centres().centres if c.public == "everyone")


# -- near --------------------------------------------------------------------------------------------


def test_landmarks_are_found_by_their_names_and_typos() -> None:
    """Stations and squares as people type them, the longest name first; an arrondissement wins."""
    assert near.landmark("day centre near Montparnasse") is not None
    found = {text: near.landmark(text) for text in ("gare de l'Est", "près de République", "montparnase", "bastille")}
    assert {text: lm.name if lm else None for text, lm in found.items()} == {
        "gare de l'Est": "Gare de l'Est",
        "près de République": "République",
        "montparnase": "Gare Montparnasse",
        "bastille": "Bastille",
    }
    opera = near.landmark("opera bastille")
    assert opera is not None and opera.name != "Bastille"  # the longest name wins
    assert near.where("douche 13e italie") == near.Where(arrondissement=13)
    assert near.landmark("douche") is None and near.landmark("j'ai faim") is None


async def test_shower_13e_finds_its_bains_douches_then_its_neighbours(talk: Talk) -> None:
    """The message "douche 13e" lists the 13e's public baths first, then places of the 5e, 12e or 14e."""
    said = await read_all(talk, "douche 13e")
    lines = items(said)
    assert said.has("Douches (13e", "Bains-douches Butte-aux-Cailles", "5 place Paul-Verlaine")
    postcodes = [code for line in lines for code in re.findall(r"\b750\d\d\b", line)]
    assert len(postcodes) == len(lines)
    local = [code == "75013" for code in postcodes]
    assert local[0] and local == sorted(local, reverse=True)  # the 13e first, then the others
    assert set(postcodes) - {"75013"} <= {"75005", "75012", "75014"} and set(postcodes) != {"75013"}


async def test_nothing_in_the_arrondissement_gives_its_neighbours(talk: Talk) -> None:
    """No laundry in the 20e: the answer says so and lists the neighbours' (11e, 12e, 19e), never nothing."""
    said = await read_all(talk, "laverie 75020")
    assert said.has("Rien de connu dans le 20e", "Au plus pres")
    assert items(said) and all(re.search(r"7501[129]\b", line) for line in items(said)), said.text


async def test_a_station_or_a_square_lists_the_nearest_with_distances(talk: Talk) -> None:
    """ "Montparnasse", "gare de l'Est", "Republique" and "near Bastille" list the closest places, in km."""
    said = await talk("day centre near Montparnasse")
    assert said.has("Day centres near Gare Montparnasse", "km", "ESI Rene Coty")
    said = await read_all(talk, "manger gare de l'est")
    assert said.has("Repas pres de Gare de l'Est", "km")
    said = await talk("douche republique")
    assert said.has("Douches pres de Republique", "Bains-douches Oberkampf")
    said = await read_all(talk, "shower near Bastille")
    assert said.has("Showers near Bastille", "Bains-douches")
    metres = [float(n.replace(",", ".")) * (1000 if unit == "km" else 1) for n, unit in DISTANCE.findall(said.text)]
    assert len(metres) == len(items(said)) and metres == sorted(metres)


async def test_a_station_answers_the_arrondissement_step(talk: Talk) -> None:
    """Asked for an arrondissement after the menu, "Montparnasse" is a place, not the street-team topic."""
    await talk("menu")
    await talk.choose(2)
    await talk.choose(1)  # showers
    await talk.choose(2)  # in an arrondissement
    said = await talk("Montparnasse")
    assert said.has("Douches pres de Gare Montparnasse", "km")


async def test_a_postcode_is_its_arrondissement(talk: Talk) -> None:
    said = await talk("douche 75013")
    assert said.has("Douches (13e", "Butte-aux-Cailles")


async def test_a_telegram_location_lists_the_nearest(talk: Talk) -> None:
    """A shared position next to the gare de l'Est gets the three nearest places, the 10e's."""
    said = await talk.location(*GARE_DE_L_EST)
    assert said.has("pres de vous", "75010") and DISTANCE.search(said.text)
    assert said.text.count("\n- ") == 3


# -- whom a place is for --------------------------------------------------------------------------


async def test_women_only_places_only_to_women_asking(talk: Talk) -> None:
    """The Cite des Dames (13e, women only) is not in "douche 13e", and comes first for a woman asking."""
    said = await read_all(talk, "douche 13e")
    assert not said.has("Cite des Dames")
    said = await talk("douche 13e pour une femme")
    assert fold("Cite des Dames (femmes)") in fold(items(said)[0])


async def test_young_places_need_youth_or_an_age_in_their_range(talk: Talk) -> None:
    """Halte Jeunes (18-25) is listed for "j'ai 19 ans", "je suis jeune" or "I'm 22", never without."""
    for question in ("douche 12e", "douche 12e j'ai 40 ans"):
        said = await read_all(talk, question)
        assert not said.has("Halte Jeunes"), question
    for question in ("douche 12e j'ai 19 ans", "douche 12e je suis jeune", "I'm 22, shower 75012"):
        said = await talk(question)
        assert said.has("Halte Jeunes"), question
    said = await read_all(talk, "douche 10e jai 27 ans")
    assert said.has("Itinerances (18-30 ans)") and not said.has("Halte Jeunes")


async def test_family_places_only_when_children_are_mentioned(talk: Talk) -> None:
    """The ESI for families comes first for "douche avec mes enfants"; a child's PASS for a child's care."""
    said = await read_all(talk, "douche 15e")
    assert not said.has("Pitard")
    said = await talk("douche 15e avec mes enfants")
    assert fold("ESI Familles Pitard (familles)") in fold(items(said)[0])
    said = await read_all(talk, "soins pour mon enfant 12e")
    assert said.has("PASS enfants Trousseau")


# -- what each place line says ------------------------------------------------------------------------


async def test_unknown_hours_say_to_call_or_to_check(talk: Talk) -> None:
    """Unknown hours with a phone: "call" and the number; without a phone: "hours to check"."""
    said = await read_all(talk, "douche 10e")
    assert said.has("ESI Bichat", "0140180441", "horaires inconnus, appelez")
    said = await read_all(talk, "vetements 1er")
    assert said.has("Ozanam-Madeleine", "horaires a verifier")
    said = await read_all(talk, "clothes 1st")
    assert said.has("Ozanam-Madeleine", "hours to check")


async def test_the_answer_says_the_month_it_was_checked(talk: Talk) -> None:
    """The title says the month the places were checked; the oldest record shown sets it."""
    said = await talk("douche 13e")
    assert said.has("verifie 12/2026", "a verifier")
    said = await talk("douche 10e")
    assert said.has("verifie 03/2022")
    said = await talk("shower 13th")
    assert said.has("checked 12/2026")


async def test_open_day_and_night(talk: Talk) -> None:
    said = await talk("je suis une femme")
    assert said.has("ouvert jour et nuit")


async def test_an_evening_meal_question_lists_tonight_first(talk: Talk, clock: FakeClock) -> None:
    """At 19h a meal question starts with places serving dinner, and says which meals each serves."""
    clock.set(WEDNESDAY_19H)
    said = await read_all(talk, "manger 18e")
    lines = [fold(line) for line in items(said)]
    assert all(fold(fragment) in lines[0] for fragment in ("Soupes de nuit", "ouvert jusqu'a 20h", "repas : soir"))
    tonight = [("soir" in line) for line in lines]
    assert tonight == sorted(tonight, reverse=True)
    said = await talk("hungry tonight")
    assert "dinner" in items(said)[0]
    clock.set(WEDNESDAY_10H)
    said = await read_all(talk, "manger 18e")
    assert said.has("repas : petit-dej") or said.has("repas : midi")


# -- SMS pages -------------------------------------------------------------------------------------

SMS_QUESTIONS = [
    "douche 13e",
    "douche",
    "je suis une femme",
    "manger gare de l'est",
    "laverie 75020",
    "accueil de jour 10e",
    "shower 75012 i'm 20",
    "medecin gratuit 13e",
    "bagagerie",
    "douche avec mes enfants",
]


@pytest.mark.parametrize("question", SMS_QUESTIONS)
async def test_sms_pages_are_gsm7_two_segments_and_never_only_the_city_page(talk: Talk, question: str) -> None:
    """Each SMS page is GSM-7 and at most two segments; the first and last pages show a place, so the
    city page never comes alone after SUITE."""
    if talk.channel != "sms":
        pytest.skip("SMS pages")
    said = await read_all(talk, question)
    for page in said.texts:
        assert is_gsm(page) and septets(page) <= PAGE_SEPTETS, page
    assert "- " in said.texts[0]
    last = said.texts[-1].split("\n")
    assert any(line.startswith("- ") for line in last), said.texts[-1]
    assert fold(said.texts[-1]).endswith(fold(URL))


def assert_reads_well_by_sms(reply: Reply, language: str, tag: object) -> None:
    """Paged for SMS: GSM-7 pages of two segments at most, the first dated with a place, the last a
    place with the city page."""
    pages = paginate(render_reply(reply), I18N.t(language, "core.more"))
    assert all(is_gsm(page) and septets(page) <= PAGE_SEPTETS for page in pages), tag
    assert re.search(r"\b\d\d/20\d\d\b", pages[0]) and "\n- " in pages[0], tag
    assert "\n- " in "\n" + pages[-1] and pages[-1].endswith(URL), tag


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_place_list_keeps_the_city_page_with_a_place(language: str) -> None:
    """Every arrondissement and service, at three hours, for everyone, women, the young and families;
    and lists near landmarks and positions: each reads well by SMS."""
    sp = Speaker(language)
    people = (places.Asker(), places.Asker(women=True), places.Asker(young=True), places.Asker(family=True))
    for hour in (10, 13, 19):
        when = WEDNESDAY_10H.replace(hour=hour)
        for service in (None, *centres().services):
            for person in people:
                for number in (None, *range(1, 21)):
                    reply = answers.centre_list(
                        sp, when, centres().centres, service=service, arrondissement=number, person=person
                    )
                    if "\n- " in reply.text:
                        assert_reads_well_by_sms(reply, language, (service, person, number, hour))
            for landmark in landmarks().landmarks[::25]:
                at = (landmark.latitude, landmark.longitude)
                for reply in (
                    answers.centre_list(sp, when, centres().centres, service=service, landmark=landmark),
                    answers.nearest_list(sp, when, centres().centres, *at, service=service),
                ):
                    assert_reads_well_by_sms(reply, language, (service, landmark.name, hour))
