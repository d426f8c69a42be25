"""Realistic request bodies and files for tests and benchmarks."""

from __future__ import annotations

from typing import Any

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64

SECRET_NAME = "Zoltan Quaxenbrink"
SECRET_EMAIL = "zoltan.quaxenbrink@example.org"


def aem_submission(**overrides: Any) -> dict[str, Any]:
    """An AEM report with applicant contact."""
    body: dict[str, Any] = {
        "service_id": "aem-meldung",
        "form_data": {
            "art": "Ereignis",
            "kategorie": "strassenbeleuchtung",
            "beschreibung": "Die Laterne vor Hausnummer 12 ist seit Tagen dunkel.",
            "ort": {"lat": 50.1466, "lon": 8.8363},
        },
        "applicant": {"given_name": "Zoltan", "family_name": "Quaxenbrink", "email": SECRET_EMAIL},
    }
    body.update(overrides)
    return body
