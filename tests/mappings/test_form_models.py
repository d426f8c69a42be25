"""Per-offer form models: rules, German messages, JSON pointers to the offending field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ozg_gateway.catalog import load_catalog
from ozg_gateway.forms.registry import FORM_MODELS, FormContext, FormInvalid
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import TEST_TODAY, form

CATALOG = load_catalog(EXAMPLE_CONFIG.parent / "catalog.toml")
TODAY = TEST_TODAY


def validate(service_id: str, data: dict[str, Any]) -> dict[str, Any]:
    model = FORM_MODELS[service_id]
    return model.validate(
        data, context=FormContext(today=TODAY, settings=CATALOG.form_settings(service_id))
    )


def errors(service_id: str, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(FormInvalid) as info:
        validate(service_id, data)
    return {e.pointer: e.detail for e in info.value.errors}


@pytest.mark.parametrize("service_id", sorted(FORM_MODELS.keys() - {"generic"}))
def test_factory_forms_are_valid_and_schemas_render(service_id: str) -> None:
    assert validate(service_id, form(service_id))
    schema = FORM_MODELS[service_id].json_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_kita_rules() -> None:
    data = form("kita-anmeldung")
    data["betreuungsbeginn"] = (TODAY - timedelta(days=24)).isoformat()  # in the past
    data["betreuungsart"] = "kindergarten"  # a one-year-old
    data["wunscheinrichtungen"] = [
        {"einrichtung_id": "hort-kunterbunt", "rang": 1},
        {"einrichtung_id": "nirgendwo", "rang": 3},
        {"einrichtung_id": "kita-regenbogen", "rang": 2},
        {"einrichtung_id": "kita-sonnenblume", "rang": 4},
    ]
    found = errors("kita-anmeldung", data)
    assert (
        found["/form_data/betreuungsbeginn"] == "Der Betreuungsbeginn muss in der Zukunft liegen."
    )
    assert (
        "0 Jahre alt" in found["/form_data/betreuungsart"]
        or "1 Jahre" in found["/form_data/betreuungsart"]
    )
    assert found["/form_data/wunscheinrichtungen"] == "Höchstens 3 Wünsche angeben."
    assert (
        found["/form_data/wunscheinrichtungen/1/einrichtung_id"]
        == "Diese Einrichtung gibt es nicht."
    )
    assert (
        found["/form_data/wunscheinrichtungen/0/einrichtung_id"]
        == "Hort Kunterbunt bietet keinen Platz im Bereich Kindergarten."
    )


def test_kita_child_dates_and_consent() -> None:
    data = form("kita-anmeldung")
    data["kind"]["erwarteter_geburtstermin"] = (TODAY + timedelta(days=29)).isoformat()
    data["einwilligungen"] = {"datenschutz": False}
    found = errors("kita-anmeldung", data)
    assert "genau eines" in found["/form_data/kind"]
    assert "/form_data/einwilligungen/datenschutz" in found


def test_kita_unborn_child_only_krippe_after_birth() -> None:
    data = form("kita-anmeldung")
    del data["kind"]["geburtsdatum"]
    start = date.fromisoformat(data["betreuungsbeginn"])
    data["kind"]["erwarteter_geburtstermin"] = (start + timedelta(days=28)).isoformat()
    found = errors("kita-anmeldung", data)  # the start is before the birth
    assert found == {
        "/form_data/betreuungsbeginn": "Der Betreuungsbeginn muss nach der Geburt liegen."
    }


def test_urkunde_retention_points_to_archive() -> None:
    data = form("personenstandsurkunde")
    data["beurkundung"]["ereignisdatum"] = "1910-01-01"
    found = errors("personenstandsurkunde", data)
    assert "älter als 110 Jahre" in found["/form_data/beurkundung/ereignisdatum"]
    assert "Stadtarchiv" in found["/form_data/beurkundung/ereignisdatum"]
    death = form("personenstandsurkunde")
    death["urkundenart"] = "sterbeurkunde"
    death["beurkundung"]["ereignisdatum"] = "1990-05-01"  # > 30 years
    assert (
        "30 Jahre" in errors("personenstandsurkunde", death)["/form_data/beurkundung/ereignisdatum"]
    )


def test_urkunde_applicant_rules() -> None:
    data = form("personenstandsurkunde")
    data["antragsteller"] = {"geburtsdatum": "2012-01-01", "beziehung": "geschwister"}
    data["urkundenart"] = "eheurkunde"
    data["versand"] = {"art": "post"}
    found = errors("personenstandsurkunde", data)
    assert (
        found["/form_data/antragsteller/geburtsdatum"] == "Bestellen dürfen Personen ab 16 Jahren."
    )
    assert "berechtigte Interesse" in found["/form_data/antragsteller/begruendung"]
    assert "beide Personen" in found["/form_data/personen"]
    assert "/form_data/versand/anschrift" in found


def test_urkunde_copies_and_register_extract() -> None:
    data = form("personenstandsurkunde")
    data["urkundenart"] = "beglaubigter_registerausdruck"
    data["exemplare"] = {"standard": 0, "mehrsprachig": 0}
    found = errors("personenstandsurkunde", data)
    assert "/form_data/registerart" in found
    assert "/form_data/exemplare" in found
    assert FORM_MODELS["personenstandsurkunde"].copies(form("personenstandsurkunde")) == 3
    offer = CATALOG.get("personenstandsurkunde")
    assert offer is not None
    assert offer.fee.total_cents(3) == 1200 + 2 * 600


def test_halle_slots() -> None:
    data = form("hallenbelegung")
    data["zeiten"] = [
        {"wochentag": "montag", "von": "18:00", "bis": "19:30"},
        {"wochentag": "montag", "von": "19:00", "bis": "20:00"},
        {"wochentag": "sonntag", "von": "10:00", "bis": "11:00"},
        {"wochentag": "dienstag", "von": "15:00", "bis": "17:00"},
        {"wochentag": "mittwoch", "von": "20:00", "bis": "19:00"},
    ]
    data["hallenteil"] = "haelfte-a"
    found = errors("hallenbelegung", data)
    assert found["/form_data/zeiten/1"] == "Überschneidet sich mit einem anderen Zeitfenster."
    assert "am Sonntag geschlossen" in found["/form_data/zeiten/2"]
    assert "16:00–22:00" in found["/form_data/zeiten/3"]
    assert found["/form_data/zeiten/4/bis"] == "Das Ende muss nach dem Beginn liegen."
    assert found["/form_data/hallenteil"] == (
        "Sporthalle Nord hat diese Teile: ganze Halle, Hallendrittel A (Bühnenseite), "
        "Hallendrittel B (Mitte), Hallendrittel C (Fensterseite)."
    )


def test_every_problem_at_once_rules_whose_inputs_are_valid_still_run() -> None:
    data = form("aem-meldung")
    data["kategorie"] = "gibt-es-nicht"  # a rule
    data["position"] = {"lat": 52.52, "lon": 13.40}  # a rule: Berlin is not Maintal
    data["beschreibung"] = "<b>kaputt</b>"  # a field
    data["art"] = "beschwerde"  # a field with fixed choices
    found = errors("aem-meldung", data)
    assert found == {
        "/form_data/beschreibung": "Bitte keinen HTML-Code eingeben.",
        "/form_data/art": "Bitte wählen: einen Mangel oder Schaden melden oder eine Anregung geben.",
        "/form_data/kategorie": found["/form_data/kategorie"],
        "/form_data/position": "Der Ort liegt außerhalb des Stadtgebiets.",
    }
    assert found["/form_data/kategorie"].startswith("Bitte eine Kategorie wählen: Straßen und")


def test_a_rule_reading_an_invalid_field_is_skipped_not_misreported() -> None:
    data = form("aem-meldung")
    data["position"] = {"lat": "hier"}  # invalid: the "inside the town" rule cannot judge it
    data["kategorie"] = "gibt-es-nicht"
    found = errors("aem-meldung", data)
    assert set(found) == {
        "/form_data/position/lat",
        "/form_data/position/lon",
        "/form_data/kategorie",
    }


def test_halle_single_dates_and_club() -> None:
    data = form("hallenbelegung")
    data.update(
        nutzung="einzeltermin",
        zeiten=[],
        termine=[{"datum": "2026-01-10", "von": "10:00", "bis": "12:00"}],
    )
    assert "/form_data/termine/0/datum" in errors("hallenbelegung", data)
    # A bad field and a broken rule: both in one answer
    data["verein"]["registernummer"] = "12345"
    assert errors("hallenbelegung", data) == {
        "/form_data/verein/registernummer": "Format ungültig. Wie im Vereinsregister, z. B. VR 1234.",
        "/form_data/termine/0/datum": "Der Termin muss in der Zukunft liegen.",
    }


def test_aem_location_category_and_markup() -> None:
    data = form("aem-meldung")
    data["position"] = {"lat": 52.52, "lon": 13.40}  # Berlin
    data["kategorie"] = "ufo"
    found = errors("aem-meldung", data)
    assert found["/form_data/position"] == "Der Ort liegt außerhalb des Stadtgebiets."
    assert "Straßen und Wege" in found["/form_data/kategorie"]
    assert "strassenschaden" not in found["/form_data/kategorie"]
    markup = form("aem-meldung")
    markup["beschreibung"] = "<script>alert(1)</script>"
    assert errors("aem-meldung", markup) == {
        "/form_data/beschreibung": "Bitte keinen HTML-Code eingeben."
    }
    address_only = form("aem-meldung")
    del address_only["position"]
    assert errors("aem-meldung", address_only) == {
        "/form_data/position": "Bitte den Ort auf der Karte wählen oder eine Adresse angeben."
    }
    address_only["adresse"] = {"strasse": "Kennedystraße"}
    assert validate("aem-meldung", address_only)["adresse"]["strasse"] == "Kennedystraße"
    too_long = form("aem-meldung")
    too_long["beschreibung"] = "x" * 4001
    assert (
        errors("aem-meldung", too_long)["/form_data/beschreibung"]
        == "Zu lang (höchstens 4000 Zeichen)."
    )


def test_catalog_rejects_broken_form_settings(tmp_path: Any) -> None:
    text = (
        (EXAMPLE_CONFIG.parent / "catalog.toml")
        .read_text()
        .replace("max_wuensche = 3", "max_wuensche = 99")
    )
    path = tmp_path / "c.toml"
    path.write_text(text)
    from ozg_gateway.catalog import CatalogError

    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert any(
        '(id "kita-anmeldung") > form_settings > max_wuensche' in p for p in info.value.problems
    )
