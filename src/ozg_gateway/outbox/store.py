"""Outbox rows: enqueue with the case, claim for a worker, record attempts, admin actions.

Claiming is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``. On PostgreSQL the
inner select takes ``FOR UPDATE SKIP LOCKED`` so concurrent workers claim disjoint rows; on
SQLite the statement runs in a ``BEGIN IMMEDIATE`` transaction, and SQLite's single writer
makes it atomic across processes. A claim is a lease: if the worker dies, the row becomes
claimable again when ``claimed_until`` passes, and the redelivery carries the same
idempotency key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ozg_gateway.outbox.policy import DEAD, DELIVERED, PENDING, Decision
from ozg_gateway.runtime import IdFactory
from ozg_gateway.store.models import Case, Delivery, DeliveryAttempt, TimelineEvent

IN_FLIGHT = "in_flight"
LEASED = "leased"  # pull inbox: held by a back-office consumer
CANCELLED = "cancelled"
OPEN_STATES = (PENDING, IN_FLIGHT, LEASED)


def enqueue(
    *, case: Case, routes: Sequence[str], new_id: IdFactory, now: datetime
) -> list[Delivery]:
    """One delivery per route, in the caller's (the case's) transaction."""
    rows = []
    for connector in routes:
        delivery_id = new_id()
        row = Delivery(
            id=delivery_id,
            case_id=case.id,
            connector=connector,
            idempotency_key=f"dlv_{delivery_id.replace('-', '')}",
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        case.deliveries.append(row)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now holds."""

    id: str
    case_id: str
    connector: str
    idempotency_key: str
    attempts: int
    created_at: datetime


def claim(
    session: Session,
    *,
    worker_id: str,
    connectors: Sequence[str],
    limit: int,
    now: datetime,
    lease_seconds: float,
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries of ``connectors`` (see module docstring)."""
    if not connectors or limit <= 0:
        return []
    due = and_(
        Delivery.connector.in_(connectors),
        or_(
            and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
            and_(Delivery.status == IN_FLIGHT, Delivery.claimed_until < now),
        ),
    )
    inner = select(Delivery.id).where(due).order_by(Delivery.next_attempt_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(inner.scalar_subquery()))
        .values(
            status=IN_FLIGHT,
            claimed_by=worker_id,
            claimed_until=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(
            Delivery.id,
            Delivery.case_id,
            Delivery.connector,
            Delivery.idempotency_key,
            Delivery.attempts,
            Delivery.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    return [Claimed(*row) for row in session.execute(stmt).all()]


@dataclass(frozen=True)
class AttemptRecord:
    """What one attempt produced, ready to be written."""

    claimed: Claimed
    started_at: datetime
    duration_ms: int
    decision: Decision
    outcome: str
    error_type: str | None = None
    error_detail: str | None = None
    http_status: int | None = None
    remote_reference: str | None = None


def record_attempt(session: Session, *, worker_id: str, rec: AttemptRecord, now: datetime) -> bool:
    """Write the attempt and the delivery's new state; False if the claim was lost meanwhile."""
    values: dict[str, object] = {
        "status": rec.decision.status,
        "attempts": Delivery.attempts + 1,
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": now,
        "last_error": rec.error_detail if rec.decision.status != DELIVERED else None,
    }
    if rec.decision.status == DELIVERED:
        values["delivered_at"] = now
        values["remote_reference"] = rec.remote_reference
    elif rec.decision.next_attempt_at is not None:
        values["next_attempt_at"] = rec.decision.next_attempt_at
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == rec.claimed.id,
            Delivery.claimed_by == worker_id,
            Delivery.status == IN_FLIGHT,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.add(
        DeliveryAttempt(
            delivery_id=rec.claimed.id,
            started_at=rec.started_at,
            duration_ms=rec.duration_ms,
            outcome=rec.outcome,
            error_type=rec.error_type,
            error_detail=rec.error_detail,
            http_status=rec.http_status,
            remote_reference=rec.remote_reference,
            worker=worker_id,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if rec.decision.status in (DELIVERED, DEAD):
        note_final(
            session,
            case_id=rec.claimed.case_id,
            connector=rec.claimed.connector,
            delivered=rec.decision.status == DELIVERED,
            now=now,
        )
    return True


def note_final(
    session: Session, *, case_id: str, connector: str, delivered: bool, now: datetime
) -> None:
    """Timeline event for the portal and the case's overall status after a final outcome."""
    case = session.get(Case, case_id)
    if case is None:
        return
    session.add(
        TimelineEvent(
            submission_id=case.submission_id,
            case_id=case.id,
            at=now,
            status="delivered" if delivered else "delivery_failed",
            detail=f"an {connector}" if delivered else f"Zustellung an {connector} gescheitert",
        )
    )
    session.flush()
    statuses = set(
        session.scalars(select(Delivery.status).where(Delivery.case_id == case_id)).all()
    )
    if statuses <= {DELIVERED, CANCELLED}:
        case.status = "delivered"
    elif DEAD in statuses:
        case.status = "attention"
    else:
        case.status = "delivering"
    case.updated_at = now


@dataclass
class QueueStats:
    """Backlog of one connector instance."""

    pending: int = 0
    in_flight: int = 0
    dead: int = 0
    oldest_pending_seconds: float | None = None


def queue_stats(session: Session, *, now: datetime) -> dict[str, QueueStats]:
    """Per connector: waiting (pending or leased), in flight, dead letters, oldest waiting age."""
    rows = session.execute(
        select(Delivery.connector, Delivery.status, func.count(), func.min(Delivery.created_at))
        .where(Delivery.status.in_((PENDING, LEASED, IN_FLIGHT, DEAD)))
        .group_by(Delivery.connector, Delivery.status)
    ).all()
    stats: dict[str, QueueStats] = {}
    for connector, status, count, oldest in rows:
        entry = stats.setdefault(connector, QueueStats())
        if status == IN_FLIGHT:
            entry.in_flight = count
        elif status == DEAD:
            entry.dead = count
        else:
            entry.pending += count
            age = (now - oldest).total_seconds()
            entry.oldest_pending_seconds = max(age, entry.oldest_pending_seconds or 0.0)
    return stats
