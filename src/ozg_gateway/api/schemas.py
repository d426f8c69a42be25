"""Request and response bodies of the public API."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    WithJsonSchema,
    model_validator,
)

from ozg_gateway.forms.applicant import Applicant

# The applicant is checked together with the form (every problem in one answer), so the body
# takes it as an object and documents its schema.
ApplicantIn = Annotated[
    dict[str, JsonValue],
    WithJsonSchema(
        {**Applicant.model_json_schema(), "description": "Kontakt der antragstellenden Person."}
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmissionCreate(_In):
    """A new submission. With ``submit: true`` it is validated and frozen in the same call."""

    service_id: str = Field(min_length=1, max_length=64)
    form_data: dict[str, JsonValue]
    applicant: ApplicantIn | None = None
    submit: bool = False

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "service_id": "aem-meldung",
                    "form_data": {
                        "art": "ereignis",
                        "kategorie": "beleuchtung",
                        "position": {"lat": 50.1466, "lon": 8.8363},
                        "beschreibung": "Laterne defekt",
                    },
                    "applicant": {"family_name": "Muster", "email": "a.muster@example.org"},
                }
            ]
        },
    )


class SubmissionUpdate(_In):
    """Replace form data and/or applicant of a draft."""

    form_data: dict[str, JsonValue] | None = None
    applicant: ApplicantIn | None = None


class AttachmentOut(BaseModel):
    """An uploaded file."""

    id: str
    filename: str
    purpose: str | None
    content_type: str
    size: int
    sha256: str = Field(description="Hex SHA-256 of the file as uploaded.")
    created_at: datetime


class StatusDocumentOut(BaseModel):
    """A document from the office, downloadable by the portal that filed the application."""

    filename: str
    content_type: str
    size: int
    href: str = Field(description="GET it with the portal key.")


class TimelineItem(BaseModel):
    """One step of the application, with a German sentence a portal can show as it is."""

    at: datetime
    status: str = Field(description="Machine-readable step, e.g. `submitted`, `delivered`.")
    title: str = Field(description="The step in German for the citizen (no internal names).")
    note: str | None = Field(default=None, description="The office's note with this step.")
    document: StatusDocumentOut | None = Field(
        default=None, description="A document the office sent with this step (a notice PDF)."
    )


class FeeState(BaseModel):
    """The fee and where its payment stands."""

    amount_cents: int = Field(description="For drafts the base fee; after submit the total.")
    pay_before_delivery: bool
    status: Literal["none", "due", "open", "paid", "failed", "canceled", "expired", "refunded"] = (
        Field(description="`none`: no fee; `due`: to be paid, no payment started yet.")
    )


class IdentificationState(BaseModel):
    """What the offer's eID policy asks and what is attached."""

    policy: Literal["none", "optional", "required"]
    status: Literal["attached", "missing", "not_needed"]
    level: str | None = Field(default=None, description="Level of assurance of the result.")
    method: Literal["eid-server", "bundid"] | None = Field(
        default=None, description="How the attached identification was made."
    )


class Hold(BaseModel):
    """Why the application waits, in German for the citizen."""

    reason: str


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
    fee: FeeState
    identification: IdentificationState
    hold: Hold | None = Field(description="Set while something keeps the application waiting.")
    processing: str = Field(
        description="The office's processing state as the federal status monitor names it: "
        "SUBMITTED, RECEIVED, PROCESSING, ACTION_REQUIRED, COMPLETED (DRAFT before submit)."
    )
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
    """Identification requirement (enforced at submit for `required`)."""

    mode: Literal["none", "optional", "required"]
    min_level: Literal["substantial", "high"] | None
    methods: list[Literal["eid-server", "bundid"]] = Field(
        default=["eid-server"],
        description="How citizens may identify: eID-Server (eID-Client) and/or BundID.",
    )
    description: str = Field(description="The policy in German, for the citizen.")


class AttachmentPurposeOut(BaseModel):
    """A kind of file the offer asks for; send ``purpose`` with the upload."""

    purpose: str
    title: str
    description: str
    required: bool
    content_types: list[str]
    max_bytes: int


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
    generated_form_pdf_url: str | None = Field(
        description="Fillable PDF generated from the online form model (same fields)."
    )
    accepts_online_submissions: bool
    allow_anonymous: bool


class ServiceDetailOut(ServiceOut):
    """An offer with the JSON Schema of its online form and the form's settings."""

    form_schema: dict[str, Any] | None = Field(
        description="JSON Schema of the form: German `title`/`description` per field, choices "
        "as `oneOf` of `const`/`title`, choices depending on another field as `x-choices-by`, "
        "field order in `x-order`. Render the form from it alone."
    )
    applicant_schema: dict[str, Any] = Field(description="JSON Schema of `applicant`.")
    attachment_purposes: list[AttachmentPurposeOut]
    form_settings: dict[str, Any] | None = Field(
        description="The offer's settings (facilities, halls, categories, area ...)."
    )


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


class StatusDocumentIn(BaseModel):
    """A notice or other PDF for the citizen, base64-encoded (at most 10 MB)."""

    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")
    content_type: Literal["application/pdf"] = "application/pdf"
    content_base64: str = Field(
        max_length=14 * 1024 * 1024,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="The file, base64 (RFC 4648, no line breaks).",
    )

    @model_validator(mode="after")
    def _whole_base64(self) -> Self:
        if len(self.content_base64) % 4 == 1:
            raise ValueError("Kein vollständiges Base64: die Länge passt nicht.")
        return self

    @property
    def data(self) -> bytes:
        """The decoded file (the pattern above admits only the base64 alphabet)."""
        return base64.b64decode(self.content_base64 + "=" * (-len(self.content_base64) % 4))


class CaseStatusIn(BaseModel):
    """A back office's word on a case: its processing state and, optionally, a note to the
    citizen (German, plain text)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal[
        "received", "in_progress", "action_required", "completed", "rejected", "withdrawn"
    ]
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Shown to the citizen, e.g. what is missing. Required for "
        "`action_required` and `rejected`.",
    )
    occurred_at: datetime | None = Field(
        default=None,
        description="When it happened at the office (default: now). An update older than the "
        "last one applied changes nothing.",
    )
    update_id: str | None = Field(
        default=None,
        max_length=100,
        description="Your id of this update: sending it again changes nothing.",
    )
    document: StatusDocumentIn | None = Field(
        default=None, description="One document for the citizen with this update (a PDF)."
    )

    @model_validator(mode="after")
    def _note_where_needed(self) -> Self:
        if self.status in ("action_required", "rejected") and not self.note:
            raise ValueError("Bitte der antragstellenden Person sagen, was zu tun ist (note).")
        return self


class CaseStatusOut(BaseModel):
    """Where a case stands after the update."""

    status: str | None
    monitor_status: str = Field(description="The federal status monitor's state.")
    note: str | None
    occurred_at: datetime | None
    changed: bool = Field(description="False for a repeated, late or backward update.")


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


class CaseListItem(BaseModel):
    """A case in the pull inbox."""

    id: str
    case_number: str
    service_id: str
    created_at: datetime
    connector: str
    delivery_status: Literal[
        "available", "leased", "delivered", "dead", "cancelled", "in_flight", "held"
    ] = Field(description="`held`: waits for the fee to be paid.")
    leased_until: datetime | None


class CaseList(BaseModel):
    """One page of the pull inbox; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[CaseListItem]
    next_cursor: str | None


class LeaseRequest(_In):
    """How long to hold the case (capped by the connector's max_lease_seconds)."""

    lease_seconds: int | None = Field(default=None, ge=10, le=86400)


class LeaseOut(BaseModel):
    """An exclusive lease; send ``lease_token`` with ack or nack."""

    case_id: str
    lease_token: str
    leased_until: datetime
    case: CaseOut


class AckRequest(_In):
    """Acknowledge a leased case with the back office's own reference, and optionally its
    first processing status (as ``POST /v1/cases/{id}/status`` takes it)."""

    lease_token: str = Field(min_length=8, max_length=128)
    reference: str | None = Field(default=None, max_length=200)
    status: CaseStatusIn | None = None


class NackRequest(_In):
    """Give a leased case back (``retry: true``) or reject it for good."""

    lease_token: str = Field(min_length=8, max_length=128)
    reason: str = Field(min_length=1, max_length=300)
    retry: bool = True


class DeliveryOut(BaseModel):
    """An outbox row."""

    id: str
    case_id: str
    case_number: str | None = Field(
        default=None, description="The case's number, as people see it."
    )
    connector: str
    status: str
    idempotency_key: str
    attempts: int
    next_attempt_at: datetime
    remote_reference: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    tracking: str | None = Field(
        description="Receiver's transport report after delivery (XTA): open, green, yellow, red."
    )
    progress: dict[str, Any] | None = Field(
        description="What the connector remembers across attempts (e.g. the XTA message id)."
    )


class InboundOut(BaseModel):
    """A message received from an external system (XTA mailbox)."""

    id: str
    connector: str
    external_id: str
    status: str = Field(description="accepted (became case_id) or rejected (see detail).")
    message_type: str | None
    case_id: str | None
    detail: str | None
    received_at: datetime


class AttemptOut(BaseModel):
    """One delivery attempt."""

    started_at: datetime
    duration_ms: int
    outcome: str
    error_type: str | None
    error_detail: str | None
    http_status: int | None
    remote_reference: str | None
    worker: str | None


class DeliveryDetail(DeliveryOut):
    """A delivery with its attempts."""

    attempts_log: list[AttemptOut]


class DeliveryList(BaseModel):
    """One page of deliveries."""

    items: list[DeliveryOut]
    next_cursor: str | None


class ReplayRequest(_In):
    """Replay given deliveries, or all matching a filter (dead letters by default)."""

    ids: list[str] | None = Field(default=None, max_length=1000)
    connector: str | None = None
    status: Literal["dead", "cancelled"] = "dead"


class ReplayOut(BaseModel):
    """How many deliveries were put back into the queue."""

    replayed: int


class ConnectorOut(BaseModel):
    """Health, breaker and backlog of one connector instance."""

    name: str
    type: str | None
    state: Literal["up", "degraded", "down", "unknown"]
    breaker: str
    consecutive_failures: int
    last_check_at: datetime | None
    last_latency_ms: float | None
    last_error: str | None
    config_errors: list[str]
    queue_depth: int
    in_flight: int
    oldest_pending_seconds: float | None
    dead_letters: int
    recent_checks: list[dict[str, Any]] | None = Field(
        default=None, description="The last ten health checks (with `checks=true`)."
    )
