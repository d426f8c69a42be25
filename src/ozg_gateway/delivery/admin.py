"""Administrator actions on the outbox: list, replay, cancel; connector overview."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ozg_gateway.delivery import outbox
from ozg_gateway.delivery.policy import DEAD, PENDING
from ozg_gateway.errors import Problem, not_found
from ozg_gateway.store.models import Delivery, DeliveryAttempt


def list_deliveries(
    session: Session,
    *,
    status: str | None,
    connector: str | None,
    case_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Delivery]:
    """Newest first, keyset-paginated by (created_at, id)."""
    query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    if status:
        query = query.where(Delivery.status == status)
    if connector:
        query = query.where(Delivery.connector == connector)
    if case_id:
        query = query.where(Delivery.case_id == case_id)
    if after:
        query = query.where(
            or_(
                Delivery.created_at < after[0],
                and_(Delivery.created_at == after[0], Delivery.id < after[1]),
            )
        )
    return session.scalars(query).all()


def get_delivery(session: Session, delivery_id: str) -> tuple[Delivery, Sequence[DeliveryAttempt]]:
    """A delivery and its attempts, oldest first."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise not_found("Delivery")
    attempts = session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.id)
    ).all()
    return delivery, attempts


def replay(
    session: Session,
    *,
    ids: Sequence[str] | None,
    connector: str | None,
    status: str,
    now: datetime,
) -> list[str]:
    """Put dead (or cancelled) deliveries back into the queue with a fresh attempt budget."""
    query = select(Delivery.id).where(Delivery.status == status)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    if connector:
        query = query.where(Delivery.connector == connector)
    chosen = list(session.scalars(query.with_for_update()))
    if chosen:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(chosen))
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,  # the age limit counts from the replay
                last_error=None,
                claimed_by=None,
                claimed_until=None,
                tracking=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    return chosen


def cancel(session: Session, *, delivery_id: str, now: datetime) -> Delivery:
    """Stop a delivery that has not reached its receiver."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise not_found("Delivery")
    if delivery.status not in (PENDING, DEAD, outbox.LEASED):
        raise Problem(
            "conflict", detail=f"A delivery that is {delivery.status} cannot be cancelled."
        )
    delivery.status = outbox.CANCELLED
    delivery.claimed_by = None
    delivery.claimed_until = None
    delivery.updated_at = now
    return delivery
