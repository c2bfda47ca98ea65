"""Questions as people really type them (no accents, typos, SMS spelling, caps, English), over every channel.

Each row is a message and fragments the answer must contain. Over SMS, a long list is paged: the
fragments are chosen on what the first page shows (the list's title and first places).
"""

from __future__ import annotations

import pytest

from tests.conftest import Talk

SHELTER = ("115", "gratuit")
SHELTER_EN = ("115", "free", "no credit")
STREET = ("115", "de votre tel", "insistez")
STREET_EN = ("115", "from your phone", "keep trying")
WELCOME = ("Grands Voisins", "Dormir ce soir (115)", "Numeros d'urgence")

PHRASINGS: list[tuple[str, tuple[str, ...]]] = [
    # A bed tonight: 115
    ("ou dormir 2main", SHELTER),
    ("jsui a la rue", SHELTER),
    ("je dors dehors ce soir", (*SHELTER, "sans credit")),
    ("ou dormir ce soir svp", (*SHELTER, "insistez")),
    ("OU DORMIR", SHELTER),
    ("jai besoin d'un lit pour cette nuit", SHELTER),
    ("hebergement d urgence", SHELTER),
    ("Hébergement", SHELTER),
    ("115", (*SHELTER, "24h/24")),
    ("g nul part ou dormir", SHELTER),
    ("jsuis dehors", SHELTER),
    ("un lit pr ce soir", SHELTER),
    ("dormire", SHELTER),
    ("where can I sleep tonight", SHELTER_EN),
    ("i need a bed", SHELTER_EN),
    ("im homeless", SHELTER_EN),
    # Showers
    ("douche", ("Douches", "a verifier", "Bains-douches")),
    ("douch 10e", ("Douches (10e)", "EPALSL", "75010")),
    ("jveux prendre une douche", ("Douches", "a verifier")),
    ("ou prendre une douche gratuite", ("Douches",)),
    ("DOUCHE PARIS 10", ("Douches (10e)",)),
    ("doouche", ("Douches",)),
    ("je peux me laver ou", ("Douches",)),
    ("douches 20eme", ("Douches (20e)", "Bains-douches des Haies", "75020")),
    ("shower 75012", ("Showers (Paris 12)", "Bains-douches Charenton", "to be checked")),
    ("where can i take a shower", ("Showers", "to be checked")),
    # Meals
    ("g faim", ("Repas", "a verifier")),
    ("je meurs de faim", ("Repas",)),
    ("ou mangé", ("Repas",)),
    ("jai fain", ("Repas",)),
    ("manger gratuit 10e", ("Repas (10e)", "EPALSL")),
    ("repas 75012", ("Repas (12e)", "ESI Maison dans la Rue", "petit-dej")),
    ("un endroit pour bouffer", ("Repas",)),
    ("petit dej", ("Repas",)),
    ("hungry", ("Meals", "to be checked")),
    ("where can i get food", ("Meals",)),
    # Laundry
    ("laverie paris 20", ("Laverie (20e)", "Rien de connu dans le 20e", "ESI Maison dans la Rue")),
    ("laver mes vetements", ("Laverie",)),
    ("machine a laver", ("Laverie",)),
    ("wash my clothes 10th", ("Laundry (Paris 10)",)),
    ("laundry", ("Laundry",)),
    # Social follow-up and the other services
    ("assistante sociale", ("Suivi social", "ESI Agora", "32 rue des Bourdonnais")),
    ("je cherche une AS", ("Suivi social",)),
    ("mes papiers", ("Suivi social",)),
    ("social worker", ("Social support", "ESI Agora")),
    ("domiciliation", ("Domiciliation", "EPALSL")),
    ("des vetements chauds", ("Vetements", "EPALSL")),
    ("medecin gratuit", ("Soins",)),
    ("bagagerie", ("Bagagerie", "Bagagerie Mains Libres")),
    ("avocat gratuit", ("Conseil juridique", "ESI Bichat")),
    ("internet", ("Internet", "Autremonde")),
    # Women and young people
    ("je suis une femme", ("Accueils pour femmes", "Halte femmes Hotel de Ville", "3919")),
    ("douche pour les femmes", ("Douches", "Cite des Dames (femmes)")),
    ("woman shower", ("Showers", "Cite des Dames (women only)")),
    ("jsui une femme jveux une douch", ("Cite des Dames",)),
    ("douche jeune", ("Douches", "Halte Jeunes (18-25 ans)")),
    # Day centres in general
    ("accueil de jour", ("Accueils de jour", "- ")),
    ("acceuil de jour 10e", ("Accueils de jour (10e)", "EPALSL")),
    ("75010", ("Accueils de jour (10e)",)),
    ("day centre", ("Day centres", "- ")),
    # Emergency numbers
    ("urgence", ("15 SAMU", "17 Police", "3919")),
    ("numeros d'urgence", ("114 par SMS", "3114")),
    ("emergency numbers", ("SAMU", "18 Fire brigade", "119 Child in danger")),
    ("police", ("17 Police",)),
    # Someone on the street
    ("un sdf dort devant chez moi", STREET),
    ("comment aider quelqu'un qui dort dehors", STREET),
    ("qqn dans la rue a besoin d aide", STREET),
    ("how can i help a homeless person", STREET_EN),
    ("someone is sleeping outside my building", STREET_EN),
    # The site
    ("trocshop", ("15 min", "1 h", "Ressourcerie Creative")),
    ("c quoi le troc shop", ("Trocshop", "Lingerie")),
    ("benevole", ("mercredi sur deux", "18h30", "Magasin general")),
    ("je veux devenir bénévole", ("permanence benevole", "formulaire en ligne")),
    ("how can I volunteer", ("every other Wednesday", "18:30")),
    ("cantine", ("lundi au jeudi", "midi", "Lingerie")),
    ("premieres heures", ("16 h max", "1 an max", "Aurore")),
    ("conciergerie", ("Premieres Heures",)),
    ("maison des medecins", ("pas ouverte au public", "studio de musique")),
    ("maraude", ("5e, 15e et 16e", "bois de Boulogne", "Montparnasse")),
    ("les comptoirs", ("Comptoirs", "Yes We Camp")),
    ("un chez soi d'abord", ("logement ordinaire",)),
    ("equipe mobile", ("psychologues",)),
    ("grands voisins", ("que voulez-vous savoir", "Trocshop", "Devenir benevole")),
    ("job", ("Premieres Heures", "16 h max")),
    # Greetings: a short welcome and the main menu
    ("bonjour", WELCOME),
    ("slt", WELCOME),
    ("hello", WELCOME),
    ("good morning", ("Hello", "Sleep tonight (115)")),
    # Danger: the numbers first
    ("jveux mourir", ("3114",)),
    ("JVEUX MOURIR", ("3114",)),
    ("je vais me tuer", ("3114", "15 ou 112")),
    ("il me frappe", ("17 (police)", "3919")),
    ("je me suis fait violer", ("17 (police)", "114")),
    ("kill myself", ("3114", "suicide prevention")),
    ("i want to die", ("3114",)),
    ("he is hitting me", ("17 (police)",)),
    ("he beats me", ("17 (police)", "3919")),
    ("il ne respire plus", ("15 (SAMU)", "112")),
    ("mon pote fait une overdose", ("15 (SAMU)",)),
    ("Il saigne beaucoup", ("15 (SAMU)",)),
    ("she's unconscious", ("15 (SAMU)", "stay with the person")),
    ("au secours", ("112", "17 (police)")),
]


def test_there_are_enough_phrasings() -> None:
    """The table covers at least 70 ways of asking, French and English."""
    assert len(PHRASINGS) >= 70
    assert len({text for text, _ in PHRASINGS}) == len(PHRASINGS)


@pytest.mark.parametrize(("text", "fragments"), PHRASINGS, ids=[text for text, _ in PHRASINGS])
async def test_phrasing_gets_the_right_answer(talk: Talk, text: str, fragments: tuple[str, ...]) -> None:
    """A question typed the way people type it gets the answer that helps."""
    said = await talk(text)
    assert said.has(*fragments), said.text
