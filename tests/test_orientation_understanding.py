"""Orientation understood the first time (issue 14), over every channel.

First each kind of question that went wrong: a child in danger, nowhere to go tonight, "help me",
thanks and ok, the cold, a pregnancy, feeling unwell, a doctor, the site's own answers (meals,
volunteering, the Trocshop), the city's page, day centres, short English messages, a worker's hours,
navigation words (SUITE, MENU, 0) and typos of whole-message keywords. Then many more phrasings,
written as residents, workers, volunteers and neighbours write: typos, no accents, SMS spelling, English.
Over SMS a long answer is paged: fragments are chosen on what the first page shows.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.dispatch import likely_keyword
from bot.messages import Reply
from bot.sms_text import PAGE_SEPTETS, is_gsm, paginate, render_reply, septets
from bot.text import fold
from handlers.orientation import answers
from handlers.orientation.matching import matcher
from handlers.shifts import model
from tests.conftest import Said, Talk
from tests.helpers import conciergerie_shift, register_here
from tests.test_orientation import I18N, MORE, URL, Speaker, read_all

NOT_UNDERSTOOD = ("Je n'ai pas compris", "I did not understand")
SITE_MENU = ("que voulez-vous savoir", "what would you like to know")
VOLUNTEER = ("mercredi sur deux", "18h30-20h", "Magasin general", "INSCRIPTION")
VOLUNTEER_EN = ("every other Wednesday", "18:30-20:00", "Magasin general", "SIGN UP")


def understood_nothing(said: Said) -> bool:
    return any(said.has(text) for text in NOT_UNDERSTOOD)


# -- crisis in every form ------------------------------------------------------------------------

CHILD = [
    "un enfant se fait frapper",
    "mon voisin bat son fils",
    "maltraitance",
    "child abuse",
    "a kid is being hurt",
    "ma voisine frappe ses enfants tous les soirs",
    "the man next door beats his kids",
    "jpense que le petit gamin d'en face est maltraité",
]


@pytest.mark.parametrize("text", CHILD)
async def test_a_child_in_danger_gets_the_119_first(talk: Talk, text: str) -> None:
    """A neighbour reporting a mistreated child gets the 119 first, and 17 or 112 for immediate danger."""
    said = await talk(text)
    assert said.texts[0].lstrip().startswith("119"), said.text
    assert said.has("17", "112") and not understood_nothing(said)


async def test_a_child_in_danger_is_answered_in_the_language_it_was_written_in(talk: Talk) -> None:
    """The 119 answer to an English report is in English, to a French one in French."""
    assert (await talk("my neighbour hits his son")).has("119", "child in danger", "even if you are not sure")
    assert (await talk("mon voisin bat son fils")).has("119", "Enfance en danger", "meme en cas de doute")


def test_a_dog_or_a_fight_is_not_a_child_in_danger() -> None:
    """The English "son" and the French "bat" never make a pair; a sick child is not a beaten one."""
    m = matcher()
    assert "child" not in m.crisis("mon voisin bat son chien").kinds
    assert "child" not in m.crisis("mon fils a de la fievre").kinds
    assert m.crisis("mon voisin bat son fils").kinds == ("child",)


@pytest.mark.parametrize(
    "text",
    ["nowhere to go tonight", "nulle part ou aller ce soir", "je sais pas ou aller ce soir", "jai nul part ou aller"],
)
async def test_nowhere_to_go_tonight_gets_the_115(talk: Talk, text: str) -> None:
    """Nowhere to go tonight is the 115 answer, not the list of services to choose from."""
    said = await talk(text)
    assert said.has("115") and (said.has("insistez") or said.has("keep trying")), said.text
    assert not said.has("Quel service") and not said.has("Which service")


async def test_help_me_is_answered_in_the_persons_language(talk: Talk) -> None:
    """ "help me" gets the numbers and the menu in English, and the menu's buttons answer in English."""
    said = await talk("help me")
    assert said.has("In danger: 112", "115", "Sleep tonight (115)"), said.text
    said = await talk.choose(1)
    assert said.has("115", "keep trying")
    said = await talk("aidez moi", who="bob")
    assert said.has("En danger : 112", "Dormir ce soir (115)")


# -- everyday words ------------------------------------------------------------------------------

EVERYDAY = ["merci", "thanks", "ok", "d'accord", "cool", "bonne nuit", "ok merci", "thank you", "super merci", "dac"]


@pytest.mark.parametrize("text", EVERYDAY)
async def test_everyday_words_get_a_short_polite_answer(talk: Talk, text: str) -> None:
    """Thanks, ok, good night: a short polite word, never the whole menu, never "not understood"."""
    said = await talk(text)
    assert said.has("plaisir") or said.has("welcome"), said.text
    assert not understood_nothing(said) and not said.buttons and len(said.texts) == 1
    assert "1 " not in said.text


async def test_a_code_typed_back_is_still_the_engines(talk: Talk) -> None:
    """ "ok 4721" with no question waiting is not thanks: the engine says nothing was confirmed."""
    said = await talk("ok 4721")
    assert not said.has("plaisir") and said.has("rien")


async def test_greetings_stay_as_they_are(talk: Talk) -> None:
    """A greeting still gets the welcome and the main menu."""
    said = await talk("bonjour")
    assert said.has("Bonjour", "Dormir ce soir (115)", "Les Grands Voisins")


# -- cold, pregnancy, feeling unwell, a doctor -------------------------------------------------------


@pytest.mark.parametrize("text", ["j'ai froid", "il fait tres froid", "im freezing", "je me gele dehors"])
async def test_the_cold_gets_the_115_and_the_cold_weather_plan(talk: Talk, text: str) -> None:
    """Cold: the 115, and the plan Grand Froid that opens more places in cold weather."""
    said = await talk(text)
    assert said.has("115", "Grand Froid"), said.text
    assert not understood_nothing(said)


@pytest.mark.parametrize("text", ["je suis enceinte", "pregnant", "chui enceinte de 5 mois", "i m pregnant"])
async def test_a_pregnancy_gets_free_follow_up_and_the_115(talk: Talk, text: str) -> None:
    """Pregnant: free follow-up at the PMI and the hospital maternity (PASS), and the 115."""
    said = await talk(text)
    assert said.has("PMI", "PASS", "115"), said.text
    assert said.has("maternite") or said.has("maternity")


@pytest.mark.parametrize("text", ["chui pa bien", "je me sens mal", "I feel sick", "jsuis malade"])
async def test_feeling_unwell_gets_the_15_and_free_care(talk: Talk, text: str) -> None:
    """Feeling unwell: the 15 and free care (PASS, Médecins du Monde), never the Maison des médecins."""
    said = await talk(text)
    assert said.has("15 (SAMU", "PASS", "Medecins du Monde"), said.text
    assert not said.has("Maison des medecins")


@pytest.mark.parametrize("text", ["J'ai besoin d'un médecin", "I need a doctor", "medecin gratuit"])
async def test_a_doctor_gets_the_15_and_free_care_before_places(talk: Talk, text: str) -> None:
    """A doctor: the 15 for an emergency and the PASS first, then places; never the Maison des médecins."""
    said = await talk(text)
    assert said.texts[0].lstrip().startswith(("Urgence : 15", "Emergency: 15")), said.text
    assert said.has("PASS", "Medecins du Monde") and not said.has("Maison des medecins")


# -- the site's own answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["ou manger a midi aux grands voisins", "where can I eat at lunchtime at the grands voisins", "manger sur place"],
)
async def test_eating_on_the_site_is_the_cantine_and_the_comptoirs(talk: Talk, text: str) -> None:
    """Where to eat at the Grands Voisins: the Cantine solidaire and the Comptoirs, not the site's menu."""
    said = await talk(text)
    assert said.has("Lingerie", "Comptoirs", "Yes We Camp"), said.text
    assert said.has("Cantine solidaire") or said.has("Solidarity canteen")
    assert not any(said.has(menu) for menu in SITE_MENU)


OFFERS = [
    ("comment devenir benevole", VOLUNTEER),
    ("je veux donner des cours de francais", VOLUNTEER),
    ("je peux aider en cuisine", VOLUNTEER),
    ("je voudrais faire du jardinage aux grands voisins", VOLUNTEER),
    ("je suis photographe, je peux prendre des photos", VOLUNTEER),
    ("je peux donner des cours de musique", VOLUNTEER),
    ("cours d'informatique en benevole", VOLUNTEER),
    ("aider a construire du mobilier", VOLUNTEER),
    ("je veux faire la signaletique", VOLUNTEER),
    ("je peux faire un tour de service au bar", VOLUNTEER),
    ("benevole a la cantine", VOLUNTEER),
    ("i can teach french", VOLUNTEER_EN),
    ("i'd like to help in the kitchen", VOLUNTEER_EN),
    ("i want to help with gardening", VOLUNTEER_EN),
    ("how can I volunteer", VOLUNTEER_EN),
]


@pytest.mark.parametrize(("text", "fragments"), OFFERS, ids=[text for text, _ in OFFERS])
async def test_every_volunteering_offer_points_to_sign_up_and_the_meeting(
    talk: Talk, text: str, fragments: tuple[str, ...]
) -> None:
    """Teaching French, the kitchen, building, gardening, signs, the bar, photos, music or computers:
    volunteering, with INSCRIPTION and the meeting (every other Wednesday, 18:30-20:00, Magasin général)."""
    said = await talk(text)
    assert said.has(*fragments), said.text
    assert not said.has("pas ouverte au public") and not said.has("not open to the public")


@pytest.mark.parametrize(
    "text", ["comment marche le trocshop", "how does the trocshop work", "c quoi les billets temps"]
)
async def test_how_the_trocshop_works(talk: Talk, text: str) -> None:
    """The Trocshop's own answer (time notes from 15 min to 1 h), not the Conciergerie's."""
    said = await talk(text)
    assert said.has("Trocshop", "15 min", "1 h"), said.text
    assert not said.has("Premieres Heures")


@pytest.mark.parametrize(
    "text", ["le site de la mairie", "plus d'infos sur le site de la ville", "paris.fr", "city website"]
)
async def test_the_city_page_gets_the_link(talk: Talk, text: str) -> None:
    """Asking for the city's page gets the link, not the site's menu."""
    said = await talk(text)
    assert said.has(URL), said.text
    assert not any(said.has(menu) for menu in SITE_MENU)


@pytest.mark.parametrize(("text", "title"), [("accueil de jour", "Accueils de jour"), ("day centre", "Day centres")])
async def test_day_centres_alone_get_day_centres(talk: Talk, text: str, title: str) -> None:
    """A day centre alone lists day centres, not the services to choose from."""
    said = await talk(text)
    assert said.has(title) and "\n- " in said.text, said.text
    assert not said.has("Quel service") and not said.has("Which service")


async def test_a_day_centre_near_a_station_is_about_day_centres(talk: Talk) -> None:
    """ "day centre near Montparnasse" lists day centres: not the services menu, not the Maraude."""
    said = await talk("day centre near Montparnasse")
    assert said.has("Day centres") and not said.has("Which service") and not said.has("Maraude")


# -- the language of short messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("my next shift", ("you need to be registered",)),
        ("where is the shower", ("Showers",)),
        ("shower please", ("Showers",)),
        ("help me", ("In danger",)),
        ("food please", ("Meals",)),
    ],
)
async def test_short_english_messages_get_english(talk: Talk, text: str, fragments: tuple[str, ...]) -> None:
    """Two or three English words from someone unknown are answered in English."""
    said = await talk(text)
    assert said.has(*fragments), said.text


async def test_one_english_word_is_not_enough_to_leave_french(talk: Talk) -> None:
    """HELP or CANCEL alone are words every French phone user knows: the answer stays French."""
    assert (await talk("help")).has("Écrivez votre question")


async def worker(talk: Talk, who: str) -> int:
    person_id = await register_here(talk, who, {"resident", "worker"}, "Nadia Diallo", "GV-WKR3")
    async with talk.core.store.transaction() as db:
        now = talk.core.clock.now()
        await model.set_contract(db, now, person_id, 12 * 60, date(2026, 1, 1))
        await conciergerie_shift(db, now, talk.core.i18n, date(2026, 11, 26), "11:30", "14:30", person_id, capacity=2)
    return person_id


@pytest.mark.parametrize("text", ["mes heures cette semaine", "my hours this week", "mes heure"])
async def test_a_workers_hours_this_week(talk: Talk, text: str) -> None:
    """A worker asking for their hours this week gets their shifts."""
    await worker(talk, "nadia")
    said = await talk(text, who="nadia")
    assert said.has("26 nov", "11:30-14:30"), said.text


@pytest.mark.parametrize("text", ["my shifts please", "when do i work", "c quand je travaille", "my shift tomorrow"])
async def test_a_worker_asking_in_everyday_words_gets_their_shifts(talk: Talk, text: str) -> None:
    await worker(talk, "nadia")
    said = await talk(text, who="nadia")
    assert said.has("26 nov", "11:30-14:30"), said.text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("my shifts please", "you need to be registered"),
        ("my shift tomorrow", "you need to be registered"),
        ("mes horaires de la semaine", "il faut etre inscrit"),
    ],
)
async def test_someone_unknown_asking_for_their_shifts_is_told_how_to_register(
    talk: Talk, text: str, fragment: str
) -> None:
    """Not "I did not understand": the question was clear, the person is not registered (in their language)."""
    said = await talk(text)
    assert said.has(fragment), said.text


@pytest.mark.parametrize("text", ["je peu pas venir", "jpe pas venir demain", "je pourai pas venir jeudi"])
async def test_a_worker_cancelling_with_a_typo_is_asked_to_confirm(talk: Talk, text: str) -> None:
    """ "je peu pas venir" is a worker who cannot come: which shift, then asked first."""
    await worker(talk, "nadia")
    said = await talk(text, who="nadia")
    assert said.has("Annuler votre créneau du jeu. 26 nov. 11:30-14:30", "OUI", "NON"), said.text


# -- navigation words ------------------------------------------------------------------------------------


async def test_suite_after_the_last_page_says_there_is_nothing_more(talk: Talk) -> None:
    """SUITE with no page left says so; it never opens the site menu, and the last menu still answers."""
    await talk("grands voisins")
    said = await talk("suite")
    assert said.has("rien de plus"), said.text
    assert not any(said.has(menu) for menu in SITE_MENU)
    said = await talk.choose(8)
    assert said.has("Trocshop", "15 min")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("suite", "rien de plus"), ("SUITE", "rien de plus"), ("more", "rien de plus"), ("plus", "rien de plus"),
     ("menu", "Que cherchez-vous"), ("MENU", "Que cherchez-vous"), ("0", "Que cherchez-vous"),
     ("aide", "Écrivez votre question")],
)  # fmt: skip
async def test_navigation_words_answer_for_themselves(talk: Talk, text: str, fragment: str) -> None:
    """SUITE/MORE, MENU, 0 and AIDE are matched before anything else and answer as themselves."""
    said = await talk(text)
    assert said.has(fragment), said.text
    assert not any(said.has(menu) for menu in SITE_MENU)


@pytest.mark.parametrize("word", ["suite", "more", "menu", "accueil", "home", "aide", "help", "stop", "plus"])
def test_navigation_words_are_never_typos(word: str) -> None:
    """A navigation word is never read as a typo of a question's word ("suite" is not "site")."""
    understood = matcher().understand(word)
    assert understood.intent is None or not any(score < 1 for score in understood.scores.values()), understood


async def test_no_sms_page_is_only_a_link(talk: Talk) -> None:
    """By SMS every page of a paged answer says something besides the city page's link."""
    if talk.channel != "sms":
        pytest.skip("SMS paging only")
    for text in ("douche", "shower", "douche 13e", "j'ai besoin d'un medecin", "accueil de jour", "repas"):
        said = await read_all(talk, text)
        for page in said.texts:
            rest = page.replace(URL, "")
            for footer in MORE:
                rest = rest.replace(footer, "")
            assert len(fold(rest).split()) >= 4, (text, page)


# -- typos of every feature's whole-message keywords -------------------------------------------------------


def test_a_likely_typo_reaches_its_keyword_and_nothing_else() -> None:
    """A typo reaches the one close keyword; another feature's word, a short word or a tie never does."""
    keywords = {"solde": "trocshop", "planning": "shifts", "inscription": "volunteers"}
    taken = {"site": frozenset({"orientation"}), "suite": frozenset({"core"}), "planing": frozenset({"shifts"})}
    assert likely_keyword("soldee", keywords, taken) == "solde"
    assert likely_keyword("inscripton", keywords, taken) == "inscription"
    assert likely_keyword("planing", keywords, taken) == "planning"  # its own feature's typo list
    assert likely_keyword("solde", keywords, taken) is None  # exact: the dispatcher had it already
    assert likely_keyword("site", {"suite": "core"}, taken) is None  # orientation's word
    assert likely_keyword("sol", keywords, taken) is None  # too short to guess
    two = {"rappels": "volunteers", "rappelz": "other"}
    assert likely_keyword("rappelx", two, {}) is None  # as close to two features' words: no guess


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("inscripton", "Votre nom ou prenom"), ("inscrption", "Votre nom ou prenom"), ("langu", "Choisissez votre langue"),
     ("permanance", "permanence")],
)  # fmt: skip
async def test_a_typo_of_a_whole_message_keyword_is_understood(talk: Talk, text: str, fragment: str) -> None:
    """A whole-message keyword typed with a slip reaches its feature, not "not understood"."""
    said = await talk(text)
    assert said.has(fragment), said.text
    assert not understood_nothing(said)


@pytest.mark.parametrize("text", ["planing", "plannig", "mes horraires"])
async def test_a_workers_planning_with_a_typo(talk: Talk, text: str) -> None:
    """ "planing" from a worker is PLANNING."""
    await worker(talk, "nadia")
    said = await talk(text, who="nadia")
    assert said.has("26 nov", "11:30-14:30"), said.text


async def test_a_typo_never_opts_out_nor_turns_suite_into_the_site(talk: Talk) -> None:
    """ "stopp" is not STOP (opting out is never a guess), "suite" never opens the site menu."""
    said = await talk("stopp")
    assert not said.has("vous ne recevrez plus de messages")
    row = await talk.core.store.fetchone(
        "SELECT opted_out_at FROM identities WHERE channel = ? AND address = ?",
        (talk.identity_channel.value, talk.address("alice")),
    )
    assert row is not None and row[0] is None
    said = await talk("suite")
    assert not any(said.has(menu) for menu in SITE_MENU)


# -- SMS size of the new answers ------------------------------------------------------------------------


def new_answers(language: str) -> dict[str, Reply]:
    sp = Speaker(language)
    found: dict[str, Reply] = {name: answers.fixed(sp, name) for name in answers.FIXED}
    found["care"] = answers.care(sp)
    for kinds in (("child",), ("violence", "child"), ("medical", "child")):
        found["+".join(kinds)] = answers.crisis(sp, kinds, I18N)
    return found


@pytest.mark.parametrize("language", ["fr", "en"])
def test_new_answers_are_gsm7_and_fit_two_segments(language: str) -> None:
    """Every new answer is GSM-7 and at most two segments by SMS, in French and in English."""
    for name, reply in new_answers(language).items():
        rendered = render_reply(reply)
        assert is_gsm(rendered), name
        assert septets(rendered) <= PAGE_SEPTETS, (name, septets(rendered))
        assert len(paginate(rendered, I18N.t(language, "core.more"))) == 1, name


@pytest.mark.parametrize("text", ["aidez moi", "help me", "merci", "j'ai froid", "I need a doctor", "suite"])
async def test_sms_answers_are_gsm7_and_two_segments_a_page(talk: Talk, text: str) -> None:
    """Over SMS each page of these answers is GSM-7 and at most two segments, menus included."""
    if talk.channel != "sms":
        pytest.skip("SMS rendering only")
    said = await read_all(talk, text)
    for page in said.texts:
        assert is_gsm(page) and septets(page) <= PAGE_SEPTETS, (septets(page), page)


# -- phrasings, as people write them --------------------------------------------------------------------

SHELTER = ("115", "insistez")
SHELTER_EN = ("115", "keep trying")
STREET = ("115", "de votre tel")
STREET_EN = ("115", "from your phone")
CHILD_119 = ("119", "Enfance en danger")
CHILD_119_EN = ("119", "child in danger")
SUICIDE = ("3114",)
POLICE = ("17 (police)",)
SAMU = ("15 (SAMU)",)
DANGER = ("112 (urgence)",)
COLD = ("115", "Grand Froid")
PREGNANT = ("PMI", "PASS", "115")
UNWELL = ("15 (SAMU", "PASS", "Medecins du Monde")
CARE = ("Urgence : 15", "PASS")
CARE_EN = ("Emergency: 15", "PASS")
THANKS = ("plaisir",)
THANKS_EN = ("welcome",)
HELP = ("En danger : 112", "Dormir ce soir (115)")
HELP_EN = ("In danger: 112", "Sleep tonight (115)")
WELCOME = ("Bonjour", "Dormir ce soir (115)")
WELCOME_EN = ("Hello", "Sleep tonight (115)")
CITY = (URL,)
SITE_MEAL = ("Cantine solidaire", "Comptoirs")
SITE_MEAL_EN = ("Solidarity canteen", "Comptoirs")
TROC = ("Trocshop", "15 min")

PHRASINGS: list[tuple[str, tuple[str, ...]]] = [
    # A child in danger, reported by a neighbour, a parent, a passer-by
    ("mon voisin frappe son gosse", CHILD_119),
    ("j'entends un enfant se faire frapper a cote", CHILD_119),
    ("la voisine tape sa fille tous les soirs", CHILD_119),
    ("un gamin se fait battre dans l'immeuble", CHILD_119),
    ("maltraitance enfant", CHILD_119),
    ("enfant en danger", CHILD_119),
    ("le pere secoue son bebe", CHILD_119),
    ("jcrois ke le voisin maltraite ses gosses", CHILD_119),
    ("the neighbours beat their kid", CHILD_119_EN),
    ("i think a child is being abused", CHILD_119_EN),
    ("kid being hit next door", CHILD_119_EN),
    ("a man is slapping a little girl in the street", CHILD_119_EN),
    # Suicide, in more words
    ("j'ai des idees noires", SUICIDE),
    ("envie de disparaitre", SUICIDE),
    ("jveu plus vivre", SUICIDE),
    ("j'en ai marre de la vie", SUICIDE),
    ("i have suicidal thoughts", SUICIDE),
    ("i cant go on", SUICIDE),
    ("gonna kill myself", SUICIDE),
    # Violence
    ("mon copain me tape", POLICE),
    ("un homme frappe une femme dans la rue", POLICE),
    ("il me menace avec un couteau", POLICE),
    ("on m'a agressée cette nuit", POLICE),
    ("someone is being attacked outside", POLICE),
    ("my husband beats me", POLICE),
    ("he slapped me", POLICE),
    # A medical emergency
    ("il a perdu connaissance", SAMU),
    ("mon ami respire mal", SAMU),
    ("he collapsed and is not moving", SAMU),
    ("elle s'est effondrée", SAMU),
    ("crise d'asthme", SAMU),
    # Danger
    ("aidez moi vite", DANGER),
    ("au secour", DANGER),
    ("on me suit", ("17",)),
    # A bed tonight
    ("nulle part ou aller ce soir", SHELTER),
    ("I have nowhere to go tonight", SHELTER_EN),
    ("jsuis a la rue depuis hier", SHELTER),
    ("on m'a mis dehors", SHELTER),
    ("je me suis fait virer de chez moi", SHELTER),
    ("le 115 repond pas", SHELTER),
    ("nowhere to stay tonight", SHELTER_EN),
    ("where can i go tonight", SHELTER_EN),
    ("chui a la rue", SHELTER),
    ("g nul part ou aller", SHELTER),
    ("kicked out of my flat", SHELTER_EN),
    ("dehors ce soir avec mon sac", SHELTER),
    # Cold
    ("il fait trop froid", COLD),
    ("ca caille grave", COLD),
    ("jai froid", COLD),
    ("g froid", COLD),
    ("its freezing outside", ("115", "Plan Grand Froid")),
    ("so cold tonight", ("115", "Plan Grand Froid")),
    ("plan grand froid", COLD),
    ("on se gele dehors", COLD),
    # Pregnancy
    ("chui enceinte", PREGNANT),
    ("jsuis enceinte et sans papiers", PREGNANT),
    ("suivi de grossesse gratuit", PREGNANT),
    ("i m pregnant and homeless", PREGNANT),
    ("where can i see a midwife", PREGNANT),
    ("enceinte 3 mois", PREGNANT),
    # Feeling unwell
    ("je me sens pas bien", UNWELL),
    ("jsuis malade", UNWELL),
    ("j'ai de la fievre", UNWELL),
    ("mal au ventre", UNWELL),
    ("i feel unwell", UNWELL),
    ("im sick", UNWELL),
    ("not feeling well today", UNWELL),
    ("chuis pas bien du tout", UNWELL),
    ("je vais pas bien", UNWELL),
    ("j'ai mal partout", UNWELL),
    # A doctor: the 15 and the PASS first, then places
    ("besoin d'un docteur", CARE),
    ("ou voir un medecin gratuit", CARE),
    ("medecin sans papiers", CARE),
    ("i need to see a doctor", CARE_EN),
    ("free doctor paris", CARE_EN),
    ("un dentiste gratuit", CARE),
    # Thanks and everyday words
    ("merci beaucoup", THANKS),
    ("merci bcp", THANKS),
    ("mrc", THANKS),
    ("ok merci", THANKS),
    ("parfait", THANKS),
    ("bonne journée", THANKS),
    ("au revoir", THANKS),
    ("a demain", THANKS),
    ("ca marche merci", THANKS),
    ("c'est gentil", THANKS),
    ("thanks a lot", THANKS_EN),
    ("thx", THANKS_EN),
    ("ok thanks", THANKS_EN),
    ("cheers", THANKS_EN),
    ("good night", THANKS_EN),
    ("got it", THANKS_EN),
    ("Merci !!", THANKS),
    ("OK", THANKS),
    # A plea for help
    ("aidez-moi svp", HELP),
    ("j'ai besoin d'aide", HELP),
    ("je suis perdu", HELP),
    ("help me please", HELP_EN),
    ("i need help", HELP_EN),
    ("can you help me", HELP_EN),
    # Greetings stay as they are
    ("bonsoir", WELCOME),
    ("coucou", WELCOME),
    ("hi", WELCOME),
    ("hey there", WELCOME_EN),
    # The city's page
    ("site de la ville", CITY),
    ("le lien de la mairie", CITY),
    ("ville de paris", CITY),
    ("c quoi le site de la mairie", CITY),
    ("mairie de paris", CITY),
    ("the city hall website", CITY),
    ("www.paris.fr", CITY),
    # Day centres, not the services menu
    ("un accueil de jour", ("Accueils de jour", "- ")),
    ("acceuil de jour", ("Accueils de jour", "- ")),
    ("centre de jour", ("Accueils de jour", "- ")),
    ("day centers", ("Day centres", "- ")),
    ("drop in centre", ("Day centres", "- ")),
    # Eating on the site
    ("dejeuner aux grands voisins", SITE_MEAL),
    ("repas aux gv", SITE_MEAL),
    ("on mange ou aux grands voisins le midi", SITE_MEAL),
    ("where to eat at the grands voisins", SITE_MEAL_EN),
    ("lunch at grands voisins", SITE_MEAL_EN),
    # Volunteering offers
    ("je veux aider aux grands voisins", VOLUNTEER),
    ("je propose des cours de francais", VOLUNTEER),
    ("je suis prof de francais je veux aider", VOLUNTEER),
    ("je peux aider au jardin", VOLUNTEER),
    ("bricolage benevole", VOLUNTEER),
    ("je voudrais faire des photos", VOLUNTEER),
    ("coup de main en cuisine", VOLUNTEER),
    ("i want to take photos for you", VOLUNTEER_EN),
    ("i could help at the bar", VOLUNTEER_EN),
    ("can i give french lessons", VOLUNTEER_EN),
    ("volunteer kitchen shift", VOLUNTEER_EN),
    ("i'd like to get involved", VOLUNTEER_EN),
    # The Trocshop
    ("trocshop c'est quoi", TROC),
    ("comment on paye au trocshop", TROC),
    ("what is the trocshop", TROC),
    ("billets temps", TROC),
    # Short English messages from someone unknown
    ("need food", ("Meals",)),
    ("where shower", ("Showers",)),
    ("laundry please", ("Laundry",)),
    ("social worker please", ("Social support",)),
    # Neighbours, about someone outside
    ("un monsieur dort devant mon immeuble", STREET),
    ("il y a une dame a la rue en bas de chez moi", STREET),
    ("sdf devant chez moi il fait froid", STREET),
    ("there is a homeless man outside my house", STREET_EN),
    ("how can i help a rough sleeper", STREET_EN),
    # Everyday questions, residents' spelling
    ("ou je peux laver mon linge", ("Laverie",)),
    ("douche gratuite paris", ("Douches",)),
    ("jveux manger", ("Repas",)),
    ("j'ai faim ce soir", ("Repas",)),
    ("laundry near me", ("Laundry",)),
    ("jcherche une assistante sociale", ("Suivi social",)),
    ("I want to see a social worker", ("Social support",)),
    ("ou laisser mes affaires", ("Bagagerie",)),
    ("numero urgence", ("15 SAMU", "112")),
    ("c urgent", ("15 SAMU",)),
]


def test_there_are_enough_new_phrasings() -> None:
    """At least 150 new ways of asking, French and English, none repeated, none already in the old table."""
    from tests.test_orientation_phrasings import PHRASINGS as OLD

    texts = [text for text, _ in PHRASINGS]
    assert len(texts) >= 150
    assert len(set(texts)) == len(texts)
    assert not set(texts) & {text for text, _ in OLD}


@pytest.mark.parametrize(("text", "fragments"), PHRASINGS, ids=[text for text, _ in PHRASINGS])
async def test_phrasing_gets_the_right_answer(talk: Talk, text: str, fragments: tuple[str, ...]) -> None:
    """A question typed the way people type it gets the answer that helps, never "not understood"."""
    said = await talk(text)
    assert said.has(*fragments), said.text
    assert not understood_nothing(said)


ADDRESS = [
    ("adresse des grands voisins", "82 avenue Denfert-Rochereau"),
    ("c'est ou les grands voisins", "82 avenue Denfert-Rochereau"),
    ("comment venir aux grands voisins", "entre Port-Royal et Denfert-Rochereau"),
    ("ou se trouvent les grands voisins svp", "75014"),
    ("bonjour c ou les grands voisins", "82 avenue Denfert-Rochereau"),
    ("where is the grands voisins", "the former Saint-Vincent-de-Paul hospital"),
    ("how do i get to les grands voisins", "82 avenue Denfert-Rochereau"),
]


@pytest.mark.parametrize(("text", "fragment"), ADDRESS, ids=[text for text, _ in ADDRESS])
async def test_where_the_site_is_gets_its_address(talk: Talk, text: str, fragment: str) -> None:
    """Asking where the site is gets its address, never the site's menu."""
    said = await talk(text)
    assert said.has(fragment) and not said.has(SITE_MENU[0]), said.text


async def test_where_with_another_question_is_that_question(talk: Talk) -> None:
    """ "c'est ou la douche" is a shower; an address for one's mail is domiciliation."""
    assert (await talk("c'est ou la douche")).has("Douches")
    assert (await talk("j'ai besoin d'une adresse pour recevoir mon courrier")).has("Domiciliation")


@pytest.mark.parametrize(
    "text", ["je suis mineur", "je suis mineure et je dors dehors", "un enfant tout seul dans la rue", "i am a minor"]
)
async def test_a_minor_alone_gets_the_119_first(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert said.texts[0].lstrip().startswith("119"), said.text


@pytest.mark.parametrize(
    "text", ["j'ai pas la secu", "pas de carte vitale", "je n'ai pas de mutuelle", "no health insurance"]
)
async def test_no_health_cover_gets_free_care(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert said.has("15", "PASS", "Medecins du Monde"), said.text


@pytest.mark.parametrize("text", ["quand est la prochaine reunion", "c quand la reunion", "la réunion c'est quand"])
async def test_the_meeting_asked_as_a_reunion(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert said.has("mercredi sur deux", "18h30-20h", "Magasin general"), said.text


@pytest.mark.parametrize("text", ["on m'a volé mon sac", "je me suis fait voler mon telephone", "someone stole my bag"])
async def test_a_theft_gets_the_emergency_numbers(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert said.has("17") and ("Police" in said.text), said.text


@pytest.mark.parametrize("text", ["english please", "do you speak english", "je parle pas francais"])
async def test_asking_for_another_language_gets_the_language_menu(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert said.has("Choose your language", "English"), said.text
    said = await talk("2")
    assert said.has("English") and not said.has(NOT_UNDERSTOOD[1]), said.text


@pytest.mark.parametrize("text", ["ma carte d'identite est perdue", "j'ai perdu mes papiers"])
async def test_lost_papers_get_social_help_not_a_dentist(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert said.has("Suivi social") and not said.has("Soins"), said.text


@pytest.mark.parametrize("text", ["de rien", "non merci", "cest quoi ce numero"])
async def test_more_everyday_words_are_understood(talk: Talk, text: str) -> None:
    said = await talk(text)
    assert not said.has(NOT_UNDERSTOOD[0]), said.text
