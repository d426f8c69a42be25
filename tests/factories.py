"""Realistic, valid request bodies and files for tests and benchmarks.

Every date is relative to the ``today`` of the clock the caller runs against: the frozen test
clock by default, the real one for the demo and live gateways (``tests/test_calendar.py``
checks that no test depends on the calendar).
"""

from __future__ import annotations

import copy
import zlib
from datetime import date, timedelta
from typing import Any

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64

SECRET_NAME = "Zoltan Quaxenbrink"
SECRET_EMAIL = "zoltan.quaxenbrink@example.org"

ADDRESS = {"strasse": "Kennedystraße", "hausnummer": "12", "plz": "63477", "ort": "Maintal"}

# The frozen clock of tests/conftest.py; the golden files under fixtures/ are made at this date.
TEST_TODAY = date(2026, 11, 25)


def first_of_month_after(day: date, *, months: int) -> date:
    """The first day of the month that follows ``day`` plus ``months`` months."""
    month = day.month - 1 + months + 1
    return date(day.year + month // 12, month % 12 + 1, 1)


def _dated(today: date) -> dict[str, Any]:
    """The date fields of the forms for ``today`` (the golden files' dates at TEST_TODAY)."""
    return {
        "kita_birth": (today - timedelta(days=625)).isoformat(),  # a child of about 20 months
        "kita_start": first_of_month_after(today, months=2).isoformat(),
    }


_FORMS: dict[str, dict[str, Any]] = {
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
            "geburtsdatum": "{kita_birth}",
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
        "betreuungsbeginn": "{kita_start}",
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


def _fill(value: Any, dates: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return dates[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, dates) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, dates) for v in value]
    return value


OFFERS = tuple(_FORMS)


def form(service_id: str, today: date = TEST_TODAY) -> dict[str, Any]:
    """A valid form for an offer on ``today`` (a fresh copy: change it freely)."""
    return copy.deepcopy(_fill(_FORMS[service_id], _dated(today)))


def aem_submission(today: date = TEST_TODAY, **overrides: Any) -> dict[str, Any]:
    """A submission with applicant contact; ``service_id`` picks the matching valid form."""
    service_id = overrides.get("service_id", "aem-meldung")
    body: dict[str, Any] = {
        "service_id": service_id,
        "form_data": form(service_id, today) if service_id in _FORMS else {"x": 1},
        "applicant": {"given_name": "Zoltan", "family_name": "Quaxenbrink", "email": SECRET_EMAIL},
    }
    body.update(overrides)
    return body


def padded_object_stream(padding: int) -> bytes:
    """A form field inside a Flate object stream padded with whitespace (few KB on the wire)."""
    field = b"<< /FT /Tx /T (x) /V (y) >>"
    stream_body = b"3 0 " + b" " * padding + field
    packed = zlib.compress(stream_body, 9)
    parts = [
        b"%PDF-1.7\n",
        b"1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [3 0 R] >> >> endobj\n",
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n",
        b"4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
        + str(len(packed)).encode()
        + b" >>\nstream\n"
        + packed
        + b"\nendstream endobj\n",
    ]
    body = b"".join(parts)
    return body + b"trailer << /Root 1 0 R /Size 5 >>\n%%EOF\n"
