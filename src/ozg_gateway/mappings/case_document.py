"""The normalized case document: what back-office systems receive. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from ozg_gateway.catalog.models import Offer

CASE_SCHEMA_VERSION = "0.1"


class AttachmentInfo(TypedDict):
    """An attachment as listed in a case."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    purpose: str | None


def build_case_document(
    *,
    case_id: str,
    case_number: str,
    offer: Offer,
    source: str,
    client_id: str,
    submission_id: str,
    submitted_at: datetime,
    applicant: dict[str, Any] | None,
    form: dict[str, Any],
    attachments: Sequence[AttachmentInfo],
) -> dict[str, Any]:
    """Assemble the normalized case from a validated submission."""
    return {
        "schema_version": CASE_SCHEMA_VERSION,
        "case_id": case_id,
        "case_number": case_number,
        "source": source,
        "portal_client_id": client_id,
        "submission_id": submission_id,
        "submitted_at": submitted_at.isoformat(),
        "service": {
            "id": offer.id,
            "title": offer.title,
            "leika_key": offer.leika_key,
            "ozg_id": offer.ozg_id,
            "office": {"name": offer.office.name, "ags": offer.office.ags},
        },
        "fee": {"amount_cents": offer.fee.amount_cents, "currency": "EUR"},
        "applicant": applicant,
        "form": form,
        "attachments": list(attachments),
        "identity": None,
        "payment": None,
    }
