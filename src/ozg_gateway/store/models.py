"""Tables. Columns ending in ``_sealed`` hold AES-GCM ciphertext (see store.crypto)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AutoId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class ApiClient(Base):
    """A portal, back-office system or administrator calling the API."""

    __tablename__ = "api_clients"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))
    offers: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    return_urls: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    status_url: Mapped[str | None] = mapped_column(String(2100), nullable=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Submission(Base):
    """A portal's application, editable while ``draft``, frozen by submit."""

    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"))
    service_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    form_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    applicant_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]

    attachments: Mapped[list[Attachment]] = relationship(
        order_by="(Attachment.created_at, Attachment.id)", cascade="all, delete-orphan"
    )
    events: Mapped[list[TimelineEvent]] = relationship(
        order_by="TimelineEvent.id", foreign_keys="TimelineEvent.submission_id"
    )
    case: Mapped[Case | None] = relationship(foreign_keys="Case.submission_id")

    __table_args__ = (Index("ix_submissions_client_created", "client_id", "created_at"),)


class Attachment(Base):
    """Metadata of an uploaded file; the bytes are a sealed blob."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Portal uploads belong to a submission; files of inbound cases (XTA) to the case.
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    blob_ref: Mapped[str] = mapped_column(String(64), unique=True)
    filename_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    purpose: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Case(Base):
    """A frozen, normalized case: what back-office systems receive."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), unique=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    payload_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # the back office's last reported processing state (history in case_status_updates)
    processing: Mapped[str | None] = mapped_column(String(20), nullable=True)

    deliveries: Mapped[list[Delivery]] = relationship(order_by="Delivery.connector")


class TimelineEvent(Base):
    """One status change of a submission or case, shown to its portal."""

    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(200))


class AuditEntry(Base):
    """Who did what; ids and actions only, never personal data."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None]


class IdempotencyRecord(Base):
    """First response to a POST with an ``Idempotency-Key``, replayed for the same body."""

    __tablename__ = "idempotency_records"
    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Delivery(Base):
    """One case to one connector instance: the outbox row the worker (or a puller) works off."""

    __tablename__ = "deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    connector: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    lease_token_hash: Mapped[str | None] = mapped_column(String(64))
    remote_reference: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    # The delivery's progress: what its connector remembers across attempts (e.g. the XTA
    # message id), as the connector type's progress model (stored in the column of old).
    progress: Mapped[dict[str, Any] | None] = mapped_column("connector_state", JSON, nullable=True)
    # After delivery: the receiver's transport report (open / green / yellow / red), if tracked.
    tracking: Mapped[str | None] = mapped_column(String(20))
    # Each open report has its own next check (delivery.schedule), so none starves another.
    tracking_next_at: Mapped[datetime | None]
    tracking_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_connector_status", "connector", "status"),
        Index("ix_deliveries_tracking", "connector", "tracking"),
        Index("ix_deliveries_tracking_due", "tracking", "tracking_next_at"),
    )


class DeliveryAttempt(Base):
    """One try of a delivery: when, how long, what came of it (errors redacted)."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    started_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    error_type: Mapped[str | None] = mapped_column(String(64))
    error_detail: Mapped[str | None] = mapped_column(String(300))
    http_status: Mapped[int | None] = mapped_column(Integer)
    remote_reference: Mapped[str | None] = mapped_column(String(200))
    worker: Mapped[str | None] = mapped_column(String(64))


class ConnectorState(Base):
    """Circuit breaker and health of one connector instance, shared by all processes."""

    __tablename__ = "connector_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    breaker: Mapped[str] = mapped_column(String(12), default="closed")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_until: Mapped[datetime | None]
    probe_until: Mapped[datetime | None]
    last_check_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None]
    last_latency_ms: Mapped[float | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    recent_checks: Mapped[list[Any] | None] = mapped_column(JSON)
    # Inbound polling (XTA mailboxes): one process at a time, so large messages are fetched once.
    receive_owner: Mapped[str | None] = mapped_column(String(64))
    receive_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Payment(Base):
    """One payment attempt for a submission's fee (amounts in euro cents)."""

    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(32))
    paypage_url: Mapped[str | None] = mapped_column(String(2100))
    return_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    portal_return_url: Mapped[str] = mapped_column(String(2100))
    needs_reconciliation: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_check_at: Mapped[datetime]
    checks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_payments_open", "status", "next_check_at"),)


class Identification(Base):
    """One eID identification: session secrets and, briefly, the result (both sealed)."""

    __tablename__ = "identifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    session_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(String(300))
    counter: Mapped[int] = mapped_column(Integer, default=0)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    return_url: Mapped[str] = mapped_column(String(2100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SamlAssertion(Base):
    """A consumed BundID assertion's id, kept until the assertion expires (no replay)."""

    __tablename__ = "saml_assertions"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class InboundMessage(Base):
    """A message taken from an inbound channel (XTA mailbox): de-duplicates redeliveries."""

    __tablename__ = "inbound_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    connector: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))  # accepted / rejected
    message_type: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    detail: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("connector", "external_id", name="uq_inbound_messages_external"),
    )


class ConsoleSession(Base):
    """A browser session of the admin console; only the token's hash is stored."""

    __tablename__ = "console_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class CaseStatusUpdate(Base):
    """What a back office said about a case's processing; the note is sealed (it may name
    what a citizen must send)."""

    __tablename__ = "case_status_updates"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    occurred_at: Mapped[datetime]
    reported_by: Mapped[str] = mapped_column(String(64))
    update_id: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    # An optional document with the update (a notice PDF), stored encrypted like attachments.
    document_ref: Mapped[str | None] = mapped_column(String(80))
    document_name_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_type: Mapped[str | None] = mapped_column(String(64))
    document_size: Mapped[int | None] = mapped_column(BigInteger)
    document_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("case_id", "update_id", name="uq_case_status_updates_update"),
    )
