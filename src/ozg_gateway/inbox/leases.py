"""Pull inbox: back-office systems list, lease, acknowledge or reject cases themselves.

A lease is a conditional update on the delivery row (pending, or leased with an expired lease),
so two consumers never hold the same case; an expired lease returns the case to the inbox.
The lease token is shown once and stored as a hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from ozg_gateway.delivery import outbox
from ozg_gateway.delivery.policy import DEAD, DELIVERED, PENDING
from ozg_gateway.errors import Problem, not_found
from ozg_gateway.store.models import Case, Delivery, DeliveryAttempt


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def available(now: datetime) -> ColumnElement[bool]:
    """SQL condition: a pull delivery a consumer may lease now."""
    return or_(
        Delivery.status == PENDING,
        and_(Delivery.status == outbox.LEASED, Delivery.claimed_until < now),
    )


@dataclass(frozen=True)
class InboxItem:
    """A case with the state of its pull delivery."""

    case: Case
    delivery: Delivery


def list_items(
    session: Session,
    *,
    connectors: Collection[str],
    offers: Collection[str] | None,
    status: str | None,
    service: str | None,
    since: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
    now: datetime,
) -> Sequence[InboxItem]:
    """Cases routed to pull connectors, oldest first, keyset-paginated by (created_at, id)."""
    query = (
        select(Case, Delivery)
        .join(Delivery, Delivery.case_id == Case.id)
        .where(Delivery.connector.in_(connectors))
        .order_by(Case.created_at, Case.id)
        .limit(limit)
    )
    if offers is not None:
        query = query.where(Case.service_id.in_(offers))
    if service:
        query = query.where(Case.service_id == service)
    if since:
        query = query.where(Case.created_at >= since)
    if after:
        query = query.where(
            or_(Case.created_at > after[0], and_(Case.created_at == after[0], Case.id > after[1]))
        )
    if status == "available":
        query = query.where(available(now))
    elif status == "leased":
        query = query.where(Delivery.status == outbox.LEASED, Delivery.claimed_until >= now)
    elif status:
        query = query.where(Delivery.status == status)
    return [InboxItem(c, d) for c, d in session.execute(query).all()]


def _pull_delivery(
    session: Session, *, case_id: str, connectors: Collection[str], offers: Collection[str] | None
) -> Delivery:
    query = (
        select(Delivery)
        .join(Case)
        .where(Delivery.case_id == case_id, Delivery.connector.in_(connectors))
    )
    if offers is not None:
        query = query.where(Case.service_id.in_(offers))
    delivery = session.scalars(query.order_by(Delivery.connector)).first()
    if delivery is None:
        raise not_found("Der Vorgang im Abholfach")
    return delivery


def lease(
    session: Session,
    *,
    case_id: str,
    connectors: Collection[str],
    offers: Collection[str] | None,
    consumer: str,
    seconds: int,
    now: datetime,
) -> tuple[Delivery, str]:
    """Lease a case exclusively; return the delivery and the one-time lease token."""
    delivery = _pull_delivery(session, case_id=case_id, connectors=connectors, offers=offers)
    token = "lease_" + secrets.token_urlsafe(24)
    until = now + timedelta(seconds=seconds)
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, available(now))
        .values(
            status=outbox.LEASED,
            claimed_by=consumer,
            claimed_until=until,
            lease_token_hash=_hash(token),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        state = (
            "schon bestätigt"
            if delivery.status == DELIVERED
            else "von einem anderen Abholer reserviert"
        )
        raise Problem("conflict", detail=f"Der Vorgang ist {state}.")
    session.refresh(delivery)
    return delivery, token


def _held(session: Session, delivery: Delivery, token: str, now: datetime) -> None:
    session.refresh(delivery, with_for_update=True)
    valid = (
        delivery.status == outbox.LEASED
        and delivery.claimed_until is not None
        and delivery.claimed_until >= now
        and delivery.lease_token_hash is not None
        and hmac.compare_digest(delivery.lease_token_hash, _hash(token))
    )
    if not valid:
        raise Problem(
            "conflict",
            detail="Keine gültige Reservierung mit diesem Token (abgelaufen oder fremd).",
        )


def _acked_with(session: Session, delivery: Delivery, token: str) -> bool:
    session.refresh(delivery, with_for_update=True)
    return (
        delivery.status == DELIVERED
        and delivery.lease_token_hash is not None
        and hmac.compare_digest(delivery.lease_token_hash, _hash(token))
    )


def settle(
    session: Session,
    *,
    case_id: str,
    connectors: Collection[str],
    offers: Collection[str] | None,
    token: str,
    outcome: str,
    reference: str | None,
    reason: str | None,
    consumer: str,
    started_at: datetime,
    now: datetime,
) -> Delivery:
    """Acknowledge (``ack``), return (``retry``) or reject (``reject``) a leased case."""
    delivery = _pull_delivery(session, case_id=case_id, connectors=connectors, offers=offers)
    if outcome == "ack" and _acked_with(session, delivery, token):
        return delivery  # a repeated ack (the first answer was lost) answers as the first did
    _held(session, delivery, token, now)
    delivery.attempts += 1
    delivery.claimed_by = None
    delivery.claimed_until = None
    delivery.updated_at = now
    if outcome == "ack":
        # The token's hash stays: it recognises a repeated ack of this very lease.
        delivery.status = DELIVERED
        delivery.delivered_at = now
        delivery.remote_reference = reference
    elif outcome == "retry":
        delivery.lease_token_hash = None
        delivery.status = PENDING
        delivery.next_attempt_at = now
        delivery.last_error = reason
    else:
        delivery.lease_token_hash = None
        delivery.status = DEAD
        delivery.last_error = reason
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            started_at=started_at,
            duration_ms=0,
            outcome={"ack": "delivered", "retry": "returned", "reject": "rejected"}[outcome],
            error_detail=reason,
            remote_reference=reference,
            worker=consumer,
        )
    )
    if delivery.status in (DELIVERED, DEAD):
        outbox.note_final(
            session,
            case_id=case_id,
            connector=delivery.connector,
            delivered=delivery.status == DELIVERED,
            now=now,
        )
    return delivery
