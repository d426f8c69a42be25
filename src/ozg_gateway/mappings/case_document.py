"""The normalized case document: what back-office systems receive. Pure, no I/O.

Versioned: ``schema_version`` changes its major number only for incompatible changes. The JSON
Schema is served at ``/v1/schemas/case-document`` and ``/v1/schemas/case-event``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from ozg_gateway.catalog.models import Offer

CASE_SCHEMA_VERSION: Literal["1.0"] = "1.0"


class AttachmentInfo(TypedDict):
    """An attachment as listed in a case."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    purpose: str | None


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfficeDoc(_Doc):
    """Responsible office."""

    name: str
    ags: str = Field(pattern=r"^\d{8}$")


class ServiceDoc(_Doc):
    """The offer the case belongs to."""

    id: str
    title: str
    leika_key: str | None
    ozg_id: str | None
    office: OfficeDoc
    reply_channels: list[str] = Field(
        default_factory=lambda: ["eMail"],
        description="Reply channels the office uses for this offer, preferred first.",
    )


class FeeDoc(_Doc):
    """Fee due for the case."""

    amount_cents: int = Field(ge=0)
    currency: Literal["EUR"] = "EUR"


class PersonDoc(_Doc):
    """A person the case is about (child, guardian, person of a register entry ...)."""

    role: str
    given_names: str | None = None
    family_name: str
    birth_name: str | None = None
    birth_date: str | None = Field(default=None, description="ISO date.")


class AttachmentDoc(_Doc):
    """A file of the case; fetch it from ``download_url`` and compare ``sha256``."""

    id: str
    filename: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    purpose: str | None
    download_url: str | None = None


class CaseDocument(_Doc):
    """A normalized case (schema version 1.0)."""

    schema_version: Literal["1.0"] = CASE_SCHEMA_VERSION
    case_id: str
    case_number: str
    source: Literal["portal", "xta", "fitconnect"]
    portal_client_id: str | None
    submission_id: str | None
    submitted_at: datetime
    service: ServiceDoc
    fee: FeeDoc
    applicant: dict[str, Any] | None = Field(description="Contact of the applicant.")
    persons: list[PersonDoc] = Field(default_factory=list)
    form: dict[str, Any] = Field(description="Validated form data of the offer's form model.")
    attachments: list[AttachmentDoc]
    identity: dict[str, Any] | None = Field(default=None, description="eID result, if any.")
    payment: dict[str, Any] | None = Field(default=None, description="Payment, if any.")
    origin: dict[str, Any] | None = Field(
        default=None,
        description="Cases received from another system: channel (xta), message id, sender, "
        "message type, and format (xfall: fields read from the container; raw: files only).",
    )
    status_updates: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What the processing office reported: status, monitor_status (federal "
        "status monitor), note to the applicant, occurred_at; oldest first.",
    )


class CaseEvent(_Doc):
    """Webhook body (Standard Webhooks envelope): ``type``, ``timestamp``, ``data``."""

    type: Literal["case.submitted"] = "case.submitted"
    timestamp: datetime
    data: CaseDocument


def build_case_document(
    *,
    case_id: str,
    case_number: str,
    offer: Offer,
    source: Literal["portal", "xta", "fitconnect"],
    client_id: str | None,
    submission_id: str | None,
    submitted_at: datetime,
    applicant: dict[str, Any] | None,
    form: dict[str, Any],
    attachments: Sequence[AttachmentInfo],
    persons: Sequence[dict[str, Any]] = (),
    fee_cents: int | None = None,
    identity: dict[str, Any] | None = None,
    origin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the normalized case from a validated submission (fee: offer's base fee)."""
    doc = CaseDocument(
        case_id=case_id,
        case_number=case_number,
        source=source,
        portal_client_id=client_id,
        submission_id=submission_id,
        submitted_at=submitted_at,
        service=ServiceDoc(
            id=offer.id,
            title=offer.title,
            leika_key=offer.leika_key,
            ozg_id=offer.ozg_id,
            office=OfficeDoc(name=offer.office.name, ags=offer.office.ags),
            reply_channels=list(offer.reply_channels),
        ),
        fee=FeeDoc(amount_cents=offer.fee.amount_cents if fee_cents is None else fee_cents),
        applicant=applicant,
        persons=[PersonDoc(**p) for p in persons],
        form=form,
        attachments=[AttachmentDoc(**a) for a in attachments],
        identity=identity,
        origin=origin,
    )
    return doc.model_dump(mode="json")


def build_case_event(
    document: dict[str, Any], *, timestamp: datetime, attachment_url: str
) -> dict[str, Any]:
    """Webhook event for a case; ``attachment_url`` has ``{case_id}`` and ``{attachment_id}``."""
    data = dict(document)
    data["attachments"] = [
        {
            **a,
            "download_url": attachment_url.format(
                case_id=document["case_id"], attachment_id=a["id"]
            ),
        }
        for a in document["attachments"]
    ]
    return {"type": "case.submitted", "timestamp": timestamp.isoformat(), "data": data}


SCHEMAS: dict[str, type[BaseModel]] = {"case-document": CaseDocument, "case-event": CaseEvent}
