"""Realistic, valid request bodies and files for tests and benchmarks (clock: 2026-11-25)."""

from __future__ import annotations

import copy
from typing import Any

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64

SECRET_NAME = "Zoltan Quaxenbrink"
SECRET_EMAIL = "zoltan.quaxenbrink@example.org"

ADDRESS = {"strasse": "Kennedystraße", "hausnummer": "12", "plz": "63477", "ort": "Maintal"}

FORMS: dict[str, dict[str, Any]] = {
    "aem-meldung": {
        "art": "ereignis",
        "kategorie": "beleuchtung",
        "position": {"lat": 50.1466, "lon": 8.8363},
        "beschreibung": "Die Laterne vor Hausnummer 12 ist seit Tagen dunkel.",
    },
    "kita-anmeldung": {
        "kind": {
            "vornamen": "Mia",
            "familienname": "Quaxenbrink",
            "geburtsdatum": "2025-03-10",
            "geschlecht": "weiblich",
            "anschrift": ADDRESS,
            "besondere_beduerfnisse": "Laktoseintoleranz",
        },
        "sorgeberechtigte": [
            {
                "vornamen": "Zoltan",
                "familienname": "Quaxenbrink",
                "anschrift": ADDRESS,
                "telefon": "+49 6181 12345",
                "email": SECRET_EMAIL,
                "sorgerecht": "gemeinsam",
                "taetigkeit": "berufstaetig",
            }
        ],
        "betreuungsart": "krippe",
        "betreuungsbeginn": "2027-02-01",
        "betreuungsumfang": "7h",
        "mittagessen": True,
        "wunscheinrichtungen": [{"einrichtung_id": "kita-sonnenblume", "rang": 1}],
        "einwilligungen": {"datenschutz": True},
    },
    "personenstandsurkunde": {
        "urkundenart": "geburtsurkunde",
        "exemplare": {"standard": 2, "mehrsprachig": 1},
        "zweck": "Eheschließung",
        "beurkundung": {"ereignisdatum": "1990-05-01", "ereignisort": "Maintal"},
        "personen": [
            {"vornamen": "Zoltan", "familienname": "Quaxenbrink", "geburtsdatum": "1990-05-01"}
        ],
        "antragsteller": {"geburtsdatum": "1990-05-01", "beziehung": "selbst"},
        "versand": {"art": "post", "anschrift": ADDRESS},
    },
    "hallenbelegung": {
        "verein": {"name": "TV Maintal 1880", "registernummer": "VR 1234", "gemeinnuetzig": True},
        "vorsitz": {"vornamen": "Zoltan", "familienname": "Quaxenbrink", "email": SECRET_EMAIL},
        "halle_id": "halle-nord",
        "hallenteil": "drittel-a",
        "nutzung": "regelmaessig",
        "saison": "winter",
        "zeiten": [{"wochentag": "montag", "von": "18:00", "bis": "19:30"}],
        "sportart": "Handball",
        "altersgruppe": "jugend",
        "teilnehmende": 18,
        "haftpflicht_bestaetigt": True,
    },
}


def form(service_id: str) -> dict[str, Any]:
    """A valid form for an offer (a deep copy: change it freely)."""
    return copy.deepcopy(FORMS[service_id])


def aem_submission(**overrides: Any) -> dict[str, Any]:
    """A submission with applicant contact; ``service_id`` picks the matching valid form."""
    service_id = overrides.get("service_id", "aem-meldung")
    body: dict[str, Any] = {
        "service_id": service_id,
        "form_data": form(service_id) if service_id in FORMS else {"x": 1},
        "applicant": {"given_name": "Zoltan", "family_name": "Quaxenbrink", "email": SECRET_EMAIL},
    }
    body.update(overrides)
    return body
