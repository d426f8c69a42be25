"""Request and response bodies of the public API."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, JsonValue, model_validator

_PHONE = r"^\+?[0-9 ()/\-]{5,30}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Applicant(_In):
    """Contact of the person or organisation applying; e-mail or phone is required."""

    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    organisation: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=_PHONE)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.email and not self.phone:
            raise ValueError("E-Mail-Adresse oder Telefonnummer angeben.")
        return self


class SubmissionCreate(_In):
    """A new submission. With ``submit: true`` it is validated and frozen in the same call."""

    service_id: str = Field(min_length=1, max_length=64)
    form_data: dict[str, JsonValue]
    applicant: Applicant | None = None
    submit: bool = False

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "service_id": "aem-meldung",
                    "form_data": {"art": "Ereignis", "beschreibung": "Laterne defekt"},
                    "applicant": {"family_name": "Muster", "email": "a.muster@example.org"},
                }
            ]
        },
    )


class SubmissionUpdate(_In):
    """Replace form data and/or applicant of a draft."""

    form_data: dict[str, JsonValue] | None = None
    applicant: Applicant | None = None


class AttachmentOut(BaseModel):
    """An uploaded file."""

    id: str
    filename: str
    purpose: str | None
    content_type: str
    size: int
    sha256: str = Field(description="Hex SHA-256 of the file as uploaded.")
    created_at: datetime


class TimelineItem(BaseModel):
    """One status change."""

    at: datetime
    status: str
    detail: str | None = None


class CaseRef(BaseModel):
    """The case a submission became."""

    id: str
    case_number: str
    status: str


class SubmissionOut(BaseModel):
    """A submission with its attachments, case and timeline (form data is not echoed)."""

    id: str
    service_id: str
    status: Literal["draft", "submitted"]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    attachments: list[AttachmentOut]
    case: CaseRef | None
    timeline: list[TimelineItem]


class OfficeOut(BaseModel):
    """Responsible office."""

    name: str
    ags: str


class FeeOut(BaseModel):
    """Fee in euro cents."""

    amount_cents: int
    additional_copy_cents: int
    currency: Literal["EUR"] = "EUR"
    pay_before_delivery: bool


class EidOut(BaseModel):
    """Identification requirement."""

    mode: Literal["none", "optional", "required"]
    min_level: Literal["substantial", "high"] | None


class ServiceOut(BaseModel):
    """An offer of the catalogue."""

    id: str
    title: str
    description: str
    channel: Literal["online", "pdf", "hybrid"]
    new: bool = Field(description="True within the configured window after `new_since`.")
    new_since: date | None
    leika_key: str | None
    ozg_id: str | None
    office: OfficeOut
    fee: FeeOut
    eid: EidOut
    pdf_form_url: str | None
    accepts_online_submissions: bool
    allow_anonymous: bool


class ServiceDetailOut(ServiceOut):
    """An offer with the JSON Schema of its online form."""

    form_schema: dict[str, Any] | None


class ServiceList(BaseModel):
    """Catalogue listing."""

    municipality: dict[str, str | None]
    items: list[ServiceOut]


class CaseOut(BaseModel):
    """A normalized case as a back-office system sees it."""

    id: str
    case_number: str
    service_id: str
    status: str
    created_at: datetime
    document: dict[str, Any]


class AuditOut(BaseModel):
    """An audit entry."""

    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    target_type: str
    target_id: str | None
    request_id: str | None
    details: dict[str, Any] | None


_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f/\\]")


def clean_filename(name: str | None) -> str:
    """A display-safe file name (no paths, no control characters, bounded length)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _FILENAME_UNSAFE.sub("_", base).strip() or "datei"
    return base[:200]
