"""Administrator actions on the outbox: list, browse, group dead letters, replay, cancel."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ozg_gateway.delivery import outbox
from ozg_gateway.delivery.policy import DEAD, PENDING
from ozg_gateway.errors import Problem, not_found
from ozg_gateway.store.models import Case, Delivery, DeliveryAttempt


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


def case_numbers(session: Session, case_ids: Collection[str]) -> dict[str, str]:
    """Case number by case id."""
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Case.case_number).where(Case.id.in_(case_ids)))
    return dict(rows.tuples().all())


def get_delivery(session: Session, delivery_id: str) -> tuple[Delivery, Sequence[DeliveryAttempt]]:
    """A delivery and its attempts, oldest first."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise not_found("Die Zustellung")
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
        raise not_found("Die Zustellung")
    if delivery.status not in (PENDING, DEAD, outbox.LEASED):
        raise Problem(
            "conflict",
            detail=f"Eine Zustellung im Zustand {delivery.status} kann nicht abgebrochen werden.",
        )
    delivery.status = outbox.CANCELLED
    delivery.claimed_by = None
    delivery.claimed_until = None
    delivery.updated_at = now
    return delivery


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as the console lists it: with its case's number and offer."""

    delivery: Delivery
    case_number: str
    service_id: str


def browse(
    session: Session,
    *,
    status: str | None = None,
    connector: str | None = None,
    service_id: str | None = None,
    case_number: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """Newest first, filtered by status, connector, offer, creation time or case number."""
    query = (
        select(Delivery, Case.case_number, Case.service_id)
        .join(Case, Case.id == Delivery.case_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Delivery.status == status)
    if connector:
        query = query.where(Delivery.connector == connector)
    if service_id:
        query = query.where(Case.service_id == service_id)
    if case_number:
        query = query.where(Case.case_number.contains(case_number.strip(), autoescape=True))
    if since:
        query = query.where(Delivery.created_at >= since)
    if until:
        query = query.where(Delivery.created_at < until)
    return [DeliveryRow(d, n, s) for d, n, s in session.execute(query)]


@dataclass(frozen=True)
class DeadGroup:
    """Dead letters of one connector failing the same way."""

    connector: str
    error_type: str
    count: int
    first_seen: datetime
    last_seen: datetime
    example_error: str | None

    @property
    def key(self) -> str:
        """Stable form value naming the group."""
        return f"{self.connector}|{self.error_type}"


def _dead_with_class(session: Session) -> list[tuple[Delivery, str]]:
    """Dead deliveries with the error class of their last attempt."""
    last = (
        select(DeliveryAttempt.delivery_id, func.max(DeliveryAttempt.id).label("last_id"))
        .group_by(DeliveryAttempt.delivery_id)
        .subquery()
    )
    rows = session.execute(
        select(Delivery, DeliveryAttempt.error_type)
        .outerjoin(last, last.c.delivery_id == Delivery.id)
        .outerjoin(DeliveryAttempt, DeliveryAttempt.id == last.c.last_id)
        .where(Delivery.status == DEAD)
    ).all()
    return [(d, error_type or "unbekannt") for d, error_type in rows]


def dead_groups(session: Session) -> list[DeadGroup]:
    """Dead letters grouped by connector and error class, largest group first."""
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for delivery, error_type in _dead_with_class(session):
        groups.setdefault((delivery.connector, error_type), []).append(delivery)
    result = [
        DeadGroup(
            connector=connector,
            error_type=error_type,
            count=len(rows),
            first_seen=min(d.updated_at for d in rows),
            last_seen=max(d.updated_at for d in rows),
            example_error=max(rows, key=lambda d: d.updated_at).last_error,
        )
        for (connector, error_type), rows in groups.items()
    ]
    return sorted(result, key=lambda g: (-g.count, g.connector, g.error_type))


def dead_ids_in(session: Session, *, groups: Collection[str]) -> list[str]:
    """Ids of the dead letters in the named groups (``connector|error_type``)."""
    return [
        d.id
        for d, error_type in _dead_with_class(session)
        if f"{d.connector}|{error_type}" in groups
    ]
