"""Administration: audit log, deliveries and dead letters, connector health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ozg_gateway.api import cursors
from ozg_gateway.api.deps import AdminPrincipal, Ctx, request_id
from ozg_gateway.api.schemas import (
    AttemptOut,
    AuditOut,
    ConnectorOut,
    DeliveryDetail,
    DeliveryList,
    DeliveryOut,
    InboundOut,
    ReplayOut,
    ReplayRequest,
)
from ozg_gateway.delivery import admin as outbox_admin
from ozg_gateway.epayment import service as payments
from ozg_gateway.monitoring import overview
from ozg_gateway.store import audit
from ozg_gateway.store.models import InboundMessage, Payment

router = APIRouter(prefix="/v1/admin", tags=["Administration"])
RequestId = Annotated[str | None, Depends(request_id)]
DeliveryStatus = Literal["pending", "in_flight", "leased", "delivered", "dead", "cancelled"]


@router.get("/audit", operation_id="listAuditLog", summary="Newest audit entries first")
def list_audit(
    ctx: Ctx,
    _principal: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: str | None = None,
    before_id: Annotated[
        int | None, Query(description="Cursor: entries older than this id.")
    ] = None,
) -> list[AuditOut]:
    """Who did what, when; ids only."""
    with ctx.db.reading() as session:
        rows = audit.recent(session, limit=limit, action=action, before_id=before_id)
        return [AuditOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/deliveries", operation_id="listDeliveries", summary="Outbox rows, newest first")
def list_deliveries(
    ctx: Ctx,
    _principal: AdminPrincipal,
    status: Annotated[
        DeliveryStatus | None, Query(description="`dead` lists dead letters.")
    ] = None,
    connector: str | None = None,
    case_id: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    """Filter by status, connector or case."""
    with ctx.db.reading() as session:
        rows = outbox_admin.list_deliveries(
            session,
            status=status,
            connector=connector,
            case_id=case_id,
            after=cursors.decode(cursor),
            limit=limit,
        )
        numbers = outbox_admin.case_numbers(session, {r.case_id for r in rows})
    items = [
        DeliveryOut.model_validate(r, from_attributes=True).model_copy(
            update={"case_number": numbers.get(r.case_id)}
        )
        for r in rows
    ]
    last = rows[-1] if len(rows) == limit else None
    return DeliveryList(
        items=items, next_cursor=cursors.encode(last.created_at, last.id) if last else None
    )


@router.get(
    "/deliveries/{delivery_id}", operation_id="getDelivery", summary="A delivery with its attempts"
)
def get_delivery(ctx: Ctx, _principal: AdminPrincipal, delivery_id: str) -> DeliveryDetail:
    """Every attempt with time, duration, outcome and redacted error."""
    with ctx.db.reading() as session:
        delivery, attempts = outbox_admin.get_delivery(session, delivery_id)
        base = DeliveryOut.model_validate(delivery, from_attributes=True).model_copy(
            update={
                "case_number": outbox_admin.case_numbers(session, {delivery.case_id}).get(
                    delivery.case_id
                )
            }
        )
        return DeliveryDetail(
            **base.model_dump(),
            attempts_log=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts],
        )


@router.post("/deliveries/replay", operation_id="replayDeliveries", summary="Replay dead letters")
def replay_deliveries(
    ctx: Ctx, principal: AdminPrincipal, body: ReplayRequest, rid: RequestId
) -> ReplayOut:
    """By ids, or every dead (or cancelled) delivery, optionally of one connector."""
    with ctx.db.writing() as session:
        ids = outbox_admin.replay(
            session, ids=body.ids, connector=body.connector, status=body.status, now=ctx.clock()
        )
        for delivery_id in ids:
            audit.record_by(
                session,
                principal=principal,
                action="delivery.replay",
                target_type="delivery",
                target_id=delivery_id,
                at=ctx.clock(),
                request_id=rid,
            )
    return ReplayOut(replayed=len(ids))


@router.post(
    "/deliveries/{delivery_id}/cancel", operation_id="cancelDelivery", summary="Cancel a delivery"
)
def cancel_delivery(
    ctx: Ctx, principal: AdminPrincipal, delivery_id: str, rid: RequestId
) -> DeliveryOut:
    """Pending, leased or dead deliveries only."""
    with ctx.db.writing() as session:
        delivery = outbox_admin.cancel(session, delivery_id=delivery_id, now=ctx.clock())
        audit.record_by(
            session,
            principal=principal,
            action="delivery.cancel",
            target_type="delivery",
            target_id=delivery_id,
            at=ctx.clock(),
            request_id=rid,
        )
        return DeliveryOut.model_validate(delivery, from_attributes=True)


@router.get("/connectors", operation_id="listConnectors", summary="Connector health and backlog")
def list_connectors(
    ctx: Ctx,
    _principal: AdminPrincipal,
    checks: Annotated[
        bool, Query(description="Also list each connector's last ten health checks.")
    ] = False,
) -> list[ConnectorOut]:
    """Per instance: state, latency, redacted error, breaker and queue; problems first."""
    with ctx.db.reading() as session:
        views = overview.connectors(ctx, session)
    result = [ConnectorOut.model_validate(v, from_attributes=True) for v in views]
    if not checks:
        for item in result:
            item.recent_checks = None
    return result


class RefundRequest(BaseModel):
    """Why the fee goes back (the money itself is refunded out of band)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=300)


class AdminPaymentOut(BaseModel):
    """A payment attempt as administrators see it."""

    id: str
    submission_id: str
    provider: str
    status: str
    amount_cents: int
    transaction_id: str | None
    reference: str | None
    needs_reconciliation: bool
    last_error: str | None
    created_at: datetime
    paid_at: datetime | None


@router.get("/inbound", operation_id="listInbound", summary="Received messages, newest first")
def list_inbound(
    ctx: Ctx,
    _principal: AdminPrincipal,
    status: Literal["accepted", "rejected"] | None = None,
    connector: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InboundOut]:
    """Messages taken from XTA mailboxes: which case each became, or why it was rejected."""
    query = select(InboundMessage).order_by(InboundMessage.received_at.desc()).limit(limit)
    if status:
        query = query.where(InboundMessage.status == status)
    if connector:
        query = query.where(InboundMessage.connector == connector)
    with ctx.db.reading() as session:
        return [InboundOut.model_validate(m, from_attributes=True) for m in session.scalars(query)]


@router.get("/payments", operation_id="listPayments", summary="Payment attempts")
def list_payments(
    ctx: Ctx,
    _principal: AdminPrincipal,
    status: str | None = None,
    needs_reconciliation: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AdminPaymentOut]:
    """Newest first; `needs_reconciliation=true` lists late or odd payments."""
    query = select(Payment).order_by(Payment.created_at.desc()).limit(limit)
    if status:
        query = query.where(Payment.status == status)
    if needs_reconciliation is not None:
        query = query.where(Payment.needs_reconciliation.is_(needs_reconciliation))
    with ctx.db.reading() as session:
        return [
            AdminPaymentOut.model_validate(p, from_attributes=True) for p in session.scalars(query)
        ]


@router.post(
    "/payments/{payment_id}/refund", operation_id="refundPayment", summary="Record a refund"
)
def refund_payment(
    ctx: Ctx, principal: AdminPrincipal, payment_id: str, body: RefundRequest, rid: RequestId
) -> AdminPaymentOut:
    """Providers offer no refund API: the refund happens out of band and is recorded here."""
    with ctx.db.writing() as session:
        payment = payments.record_refund(session, payment_id=payment_id, now=ctx.clock())
        audit.record_by(
            session,
            principal=principal,
            action="payment.refund",
            target_type="payment",
            target_id=payment_id,
            at=ctx.clock(),
            request_id=rid,
        )
        session.flush()
        return AdminPaymentOut.model_validate(payment, from_attributes=True)
