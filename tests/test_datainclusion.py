"""A data·inclusion v1 export read as the bot's places: JSON and CSV alike, validated by the schema,
themes and words mapped to services, publics, hours, keys, and every place accepted by the places' check."""

from __future__ import annotations

import json
import re
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from bot.csvfiles import CsvFileError
from bot.i18n import I18n
from handlers.orientation import content, datainclusion
from handlers.orientation.datainclusion import Export, make_key, read_export

SAMPLE = Path(__file__).parent / "data" / "datainclusion"
WEEK = date(2026, 11, 30)  # a Monday
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def sample(kind: str = "json") -> Export:
    return read_export(SAMPLE / f"structures.{kind}", SAMPLE / f"services.{kind}", week_of=WEEK)


def by_key(export: Export) -> dict[str, dict[str, Any]]:
    return {place["key"]: place for place in export.places}


# A structure in the 13e and one service of it, valid by the v1 schema; a test changes what it needs.
STRUCTURE = {"source": "test", "id": "test--1", "nom": "Lieu d'essai", "date_maj": "2026-11-02"} | {
    "code_postal": "75013",
    "adresse": "13 rue de l'Essai",
    "latitude": 48.8283,
    "longitude": 2.3623,
}
SERVICE = {"source": "test", "structure_id": "test--1", "id": "test--1-a", "nom": "Accueil"} | {
    "description": "Accueil et aide aux démarches.",
    "date_maj": "2026-11-02",
    "thematiques": ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"],
}


def structure(**fields: Any) -> dict[str, Any]:
    return {**STRUCTURE, **fields}


def service(**fields: Any) -> dict[str, Any]:
    return {**SERVICE, **fields}


def export_of(tmp_path: Path, structures: list[Any], services: list[Any]) -> Export:
    (tmp_path / "s.json").write_text(json.dumps(structures), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps(services), encoding="utf-8")
    return read_export(tmp_path / "s.json", tmp_path / "v.json", week_of=WEEK)


def one_place(tmp_path: Path, *services: dict[str, Any], **fields: Any) -> dict[str, Any]:
    export = export_of(tmp_path, [structure(**fields)], list(services))
    assert len(export.places) == 1, export
    return export.places[0]


def test_json_and_csv_give_the_same_places() -> None:
    """The same records written as JSON (a list, and the API's items) and as CSV give the same places."""
    from_json, from_csv = sample("json"), sample("csv")
    assert from_json.places == from_csv.places
    assert len(from_json.places) == 7 and from_json.skipped == from_csv.skipped == 1


def test_every_place_passes_the_places_check() -> None:
    """Each imported place is accepted by the check that places.yaml goes through."""
    vocabulary = list(content.centres().services)
    for place in sample().places:
        assert set(place) == content.FIELDS
        loaded = content.load_centres({"services": vocabulary, "places": [place]})
        assert loaded.centres[0].key == place["key"]


def test_invalid_records_are_rejected_with_their_line_and_field() -> None:
    """A record the v1 model refuses is rejected by its record number (CSV: spreadsheet line) and first field;
    a service of a refused structure is rejected too, and nothing of them is used."""
    found = [(r.params["file"], r.line, r.key, r.params.get("field")) for r in sample("json").rejected]
    assert found == [
        ("structures.json", 8, "places.di_invalid", "code_postal"),
        ("services.json", 3, "places.di_invalid", "thematiques"),
        ("services.json", 13, "places.di_structure_rejected", None),
    ]
    lines = [(r.params["file"], r.line) for r in sample("csv").rejected]
    assert lines == [("structures.csv", 9), ("services.csv", 4), ("services.csv", 14)]
    assert not any("erreur" in place["name"].lower() for place in sample().places)


def test_outside_paris_is_skipped_and_the_petite_couronne_kept() -> None:
    """Versailles is not for us (counted); Saint-Ouen, listed in the data file, is kept without arrondissement."""
    places = by_key(sample())
    assert not any(p["postcode"] == "78000" for p in places.values())
    saint_ouen = places["di_dora_vs_93400"]
    assert saint_ouen["arrondissement"] is None and saint_ouen["kind"] == "clothes"


def test_services_from_themes_and_from_words() -> None:
    """Themes give social and computer; a shower named only in the description, laundry and left-luggage
    come from words; a service received only at a distance is not a service of the place."""
    places = by_key(sample())
    assert places["di_soliguide_90001"]["services"] == ["shower", "social"]
    assert places["di_dora_ef_2026_11"]["services"] == ["shower", "laundry", "social"]
    assert places["di_dora_pj_20"]["services"] == ["social", "computer"]
    assert places["di_soliguide_90004"]["services"] == ["meal", "luggage"]


def test_food_without_a_meal_word_is_no_meal(tmp_path: Path) -> None:
    """The food theme is also parcels and groceries: without a meal word it gives no meal, so no place."""
    food = {"thematiques": ["equipement-et-alimentation--alimentation"]}
    parcels = service(nom="Colis alimentaires", description="Un colis par semaine, sur inscription.", **food)
    export = export_of(tmp_path, [structure()], [parcels])
    assert export.places == [] and export.skipped == 1
    meal = service(nom="Repas", description="Un repas chaud chaque midi.", **food)
    assert one_place(tmp_path, meal)["services"] == ["meal"]


def test_hours_in_opening_hours_format() -> None:
    """The structure's OSM hours, when its services have none, become per-weekday ranges."""
    hours = by_key(sample())["di_soliguide_90001"]["hours"]
    assert hours == {**{day: ["09:00-12:30", "14:00-17:00"] for day in WEEKDAYS}, "sat": ["10:00-12:00"]}


def test_open_day_and_night_and_meals_from_hours() -> None:
    """24/7 is 00:00-23:59 every day; a meal service's hours give its meals (after 18:00 evening, before
    15:00 midday)."""
    places = by_key(sample())
    halte = places["di_soliguide_90004"]
    assert halte["hours"] == {day: ["00:00-23:59"] for day in content.WEEKDAYS}
    assert halte["meals"] == ["evening"]
    restaurant = places["di_soliguide_90005"]
    assert restaurant["kind"] == "meal" and restaurant["meals"] == ["midday", "evening"]
    assert restaurant["hours"]["mon"] == ["11:30-13:30", "18:30-20:00"]


def test_a_service_with_its_own_address_is_its_own_place() -> None:
    """The domiciliation at another address is a place of its own, by appointment, without hours."""
    place = by_key(sample())["di_soliguide_service_90005_domiciliation"]
    assert (place["address"], place["postcode"], place["arrondissement"]) == ("14 rue du Prototype", "75014", 14)
    assert place["kind"] == "domiciliation" and place["services"] == ["social", "mail"]
    assert place["appointment"] == ["social", "mail"] and place["hours"] is None
    assert place["note"] == 'hours: Tu,Th 14:00-17:00 "sur rendez-vous"'
    assert place["phone"] == "01 99 00 10 05"


@pytest.mark.parametrize(
    ("hours", "expected", "note"),
    [
        ("Tu 22:00-06:00", {"tue": ["22:00-23:59"], "wed": ["00:00-06:00"]}, None),
        ("Mo-Fr 08:30-12:30; PH off", {day: ["08:30-12:30"] for day in WEEKDAYS}, None),
        ("du lundi au vendredi de 9h à 17h", None, "hours: du lundi au vendredi de 9h à 17h"),
        ("Mo 10:00-12:00 unknown", None, "hours: Mo 10:00-12:00 unknown"),
        ("off", None, "hours: off"),
        (None, None, None),
    ],
)
def test_hours_that_cannot_be_read_are_null_with_the_text(
    tmp_path: Path, hours: str | None, expected: dict[str, list[str]] | None, note: str | None
) -> None:
    """Crossing midnight splits at midnight; public holidays do not change the week; unparseable, partly
    unknown, never open or absent: hours null, the text kept in the note for staff."""
    place = one_place(tmp_path, service(horaires_accueil=hours))
    assert place["hours"] == expected and place["note"] == note and place["appointment"] == []


def test_appointment_only_hours(tmp_path: Path) -> None:
    """Hours that only say "sur rendez-vous" (parsed or not) make the service by appointment, without hours."""
    place = one_place(tmp_path, service(horaires_accueil="Sur rendez-vous uniquement"))
    assert place["appointment"] == ["social"] and place["hours"] is None


@pytest.mark.parametrize(
    ("publics", "precisions", "expected"),
    [
        (["tous-publics"], None, ("everyone", None, None)),
        (None, None, ("everyone", None, None)),
        (["femmes"], None, ("women", None, None)),
        (["femmes", "personnes-exilees"], None, ("women", None, None)),
        (["femmes", "personnes-en-situation-durgence"], None, ("everyone", None, None)),
        (["familles", "femmes"], None, ("families", None, None)),
        (["jeunes"], "Jeunes de 16 à 21 ans", ("young", 16, 21)),
        (["jeunes"], "Jeunes 18-25 ans", ("young", 18, 25)),
        (["jeunes"], "Jeunes adultes", ("young", None, None)),
    ],
)
def test_publics(tmp_path: Path, publics: list[str] | None, precisions: str | None, expected: tuple[Any, ...]) -> None:
    """One public that includes everyone makes the place everyone's; else families, women, young in that
    order; young with the ages the text gives, else null ages."""
    place = one_place(tmp_path, service(publics=publics, publics_precisions=precisions))
    assert (place["public"], place["age_min"], place["age_max"]) == expected


def test_sample_publics() -> None:
    """The women's place is for women only, the youth place for 18 to 25."""
    places = by_key(sample())
    assert places["di_dora_ef_2026_11"]["public"] == "women"
    young = places["di_dora_pj_20"]
    assert (young["public"], young["age_min"], young["age_max"]) == ("young", 18, 25)


def test_a_service_only_for_a_public_the_bot_cannot_say_is_skipped(tmp_path: Path) -> None:
    """Only for exiled people: not shown (as places.yaml leaves such places out), counted as skipped."""
    export = export_of(tmp_path, [structure()], [service(publics=["personnes-exilees"])])
    assert export.places == [] and export.skipped == 1


def test_a_service_for_another_public_is_its_own_place(tmp_path: Path) -> None:
    """A women's service of a place for everyone is a place of its own, keyed by the service."""
    shower = service(
        id="test--1-douche", nom="Douches pour femmes", description="Douches.", publics=["femmes"], thematiques=None
    )
    export = export_of(tmp_path, [structure()], [service(), shower])
    assert [(p["key"], p["public"], p["services"]) for p in export.places] == [
        ("di_test_1", "everyone", ["social"]),
        ("di_test_service_1_douche", "women", ["shower"]),
    ]
    assert export.places[1]["source"] == "data·inclusion export, source test, id test--1-douche"


def test_coordinates_phone_source_and_dates() -> None:
    """Missing coordinates in Paris: the arrondissement's centre, said so; phones as 01 23 45 67 89 or null
    (a short number is not one); the source names the record; the months come from date_maj."""
    places = by_key(sample())
    restaurant = places["di_soliguide_90005"]
    assert (restaurant["latitude"], restaurant["longitude"]) == content.references().arrondissements[15]
    assert "15e arrondissement" in restaurant["coordinates"]
    first = places["di_soliguide_90001"]
    assert first["phone"] == "01 99 00 10 01" and places["di_dora_pj_20"]["phone"] is None
    assert first["source"] == (
        "data·inclusion export, source soliguide, id soliguide--90001, "
        "https://example.org/soliguide/fiche/accueil-de-jour-la-boussole"
    )
    assert first["website"] == "https://example.org/soliguide/fiche/accueil-de-jour-la-boussole"
    assert places["di_dora_ef_2026_11"]["website"] == "https://example.org/espace-femmes"
    assert (first["source_date"], first["verified"], first["status"]) == ("2026-11", "2026-11", "to_check")


def test_outside_paris_without_coordinates_is_rejected(tmp_path: Path) -> None:
    """Just outside Paris no arrondissement can stand in for the coordinates: the record is rejected."""
    outside = structure(code_postal="93100", latitude=None, longitude=None)
    export = export_of(tmp_path, [outside], [service()])
    assert [(r.line, r.key) for r in export.rejected] == [(1, "places.di_no_coordinates")]


def test_keys_are_stable_and_short() -> None:
    """Two reads give the same keys; the source an id repeats is said once; a long id ends in a hash, 60 at most."""
    assert [p["key"] for p in sample().places] == [p["key"] for p in sample("csv").places]
    assert make_key("dora", "dora--AidantsConnect:2024-47BXY") == "di_dora_aidantsconnect_2024_47bxy"
    long = make_key("soliguide", "x" * 80)
    assert len(long) == 60 and long == make_key("soliguide", "x" * 80) != make_key("soliguide", "x" * 81)


@pytest.mark.parametrize(
    ("name", "text", "key"),
    [
        ("none.json", None, "people.roster_unreadable"),
        ("one.json", '{"source": "x"}', "places.di_not_export"),
        ("bad.json", '[{"source": ', "places.di_bad_json"),
        ("s.csv", "source,nom\nx,Lieu\n", "people.roster_missing_columns"),
    ],
)
def test_unreadable_files_refuse_the_import(tmp_path: Path, name: str, text: str | None, key: str) -> None:
    """A missing file, JSON that is not a list or is cut, a CSV without the schema's required columns:
    CsvFileError with its catalog key, nothing read."""
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CsvFileError) as refused:
        read_export(tmp_path / name, SAMPLE / "services.json")
    assert refused.value.key == key


def test_list_cells_as_data_gouv_writes_them() -> None:
    """A CSV list cell may be JSON, a PostgreSQL array or a, ; or | separated list."""
    expected = ["a-b", "c--d"]
    for cell in ('["a-b", "c--d"]', "{a-b,c--d}", "a-b,c--d", "a-b; c--d", "a-b|c--d"):
        assert datainclusion._list_cell(cell) == expected
    assert datainclusion._list_cell(" ") is None


def test_the_mapping_file_names_real_values() -> None:
    """datainclusion.yaml maps v1 thematiques and every v1 public to the bot's services and publics."""
    rules = datainclusion.mapping()
    assert set(rules.thematiques.values()) <= set(content.centres().services)
    assert rules.midday_before == time(15) and rules.evening_after == time(18)
    with pytest.raises(content.ContentError, match="not a data·inclusion v1 thematique"):
        datainclusion.load_mapping({"thematiques": {"hygiene--douches": "shower"}}, content.centres().services)


def test_every_rejection_reason_is_in_every_language() -> None:
    """Each places.di_* reason the reader gives exists in every configured language."""
    source = Path(datainclusion.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(places\.di_[a-z_]+)"', source))
    assert len(keys) >= 10
    i18n = I18n()
    for language in i18n.languages:
        assert [key for key in sorted(keys) if not i18n.has(key, language)] == []
