"""Fixed normalized cases per offer, built from the factory forms (ids and times fixed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ozg_gateway.catalog import load_catalog
from ozg_gateway.forms.registry import FORM_MODELS, FormContext
from ozg_gateway.mappings.case_document import build_case_document
from tests.factories import form

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "maintal" / "config.toml"
CATALOG = load_catalog(EXAMPLE_CONFIG.parent / "catalog.toml")
SUBMITTED = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
OFFERS = ("aem-meldung", "kita-anmeldung", "personenstandsurkunde", "hallenbelegung")
ATTACHMENT = {
    "id": "6f1c2d3e-0000-4bbb-8ccc-0123456789ab",
    "filename": "nachweis.pdf",
    "content_type": "application/pdf",
    "size": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "purpose": "nachweis",
}
SHA512 = {ATTACHMENT["id"]: "ab" * 64}


def case_document(service_id: str, **overrides: Any) -> dict[str, Any]:
    """A normalized case for an offer, as the gateway would store it."""
    offer = CATALOG.get(service_id)
    assert offer is not None
    model = FORM_MODELS[service_id]
    data = model.validate(
        overrides.pop("form", form(service_id)),
        context=FormContext(today=date(2026, 11, 25), settings=CATALOG.form_settings(service_id)),
    )
    params: dict[str, Any] = {
        "case_id": "0b6c6f5e-1111-4222-8333-944445555666",
        "case_number": "MTL-2026-7K3M9Q2X",
        "offer": offer,
        "source": "portal",
        "client_id": "portal-1",
        "submission_id": "3d2f1a0b-2222-4333-8444-955556666777",
        "submitted_at": SUBMITTED,
        "applicant": {
            "given_name": "Erika",
            "family_name": "Mustermann",
            "email": "erika.mustermann@example.org",
            "phone": "+49 6181 400-0",
        },
        "form": data,
        "attachments": [ATTACHMENT],
        "persons": model.persons(data),
        "fee_cents": offer.fee.total_cents(model.copies(data)),
    }
    params.update(overrides)
    return build_case_document(**params)
