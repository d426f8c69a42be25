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
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from ozg_gateway.delivery.policy import DEAD, DELIVERED, PENDING, Decision
from ozg_gateway.runtime import IdFactory
from ozg_gateway.store.models import Case, Delivery, DeliveryAttempt, TimelineEvent

IN_FLIGHT = "in_flight"
LEASED = "leased"  # pull inbox: held by a back-office consumer
HELD = "held"  # waits for the fee to be paid
CANCELLED = "cancelled"
OPEN_STATES = (PENDING, IN_FLIGHT, LEASED)


def enqueue(
    *, case: Case, routes: Sequence[str], new_id: IdFactory, now: datetime, held: bool = False
) -> list[Delivery]:
    """One delivery per route, in the caller's (the case's) transaction; ``held`` until paid."""
    rows = []
    for connector in routes:
        delivery_id = new_id()
        row = Delivery(
            id=delivery_id,
            case_id=case.id,
            connector=connector,
            idempotency_key=f"dlv_{delivery_id.replace('-', '')}",
            status=HELD if held else PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        case.deliveries.append(row)
        rows.append(row)
    return rows


NOTICE_PREFIX = "sts_"  # idempotency keys of notices: never part of the case's own delivery


def is_notice(idempotency_key: str) -> bool:
    """A status webhook or e-mail about a case, not the case's delivery to an office."""
    return idempotency_key.startswith(NOTICE_PREFIX)


def enqueue_notice(
    *, case: Case, connector: str, delivery_id: str, progress: dict[str, Any], now: datetime
) -> Delivery:
    """One notice about a case (e.g. a status webhook to its portal) in the caller's
    transaction; ``progress`` carries what the connector sends."""
    row = Delivery(
        id=delivery_id,
        case_id=case.id,
        connector=connector,
        idempotency_key=f"{NOTICE_PREFIX}{delivery_id.replace('-', '')}",
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        progress=progress,
    )
    case.deliveries.append(row)
    return row


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now holds."""

    id: str
    case_id: str
    connector: str
    idempotency_key: str
    attempts: int
    created_at: datetime
    progress: dict[str, Any] | None = None


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
            Delivery.progress,
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
    track: bool = False


_DELIVERIES = cast(Table, Delivery.__table__)
_ATTEMPTS = cast(Table, DeliveryAttempt.__table__)
_TIMELINE = cast(Table, TimelineEvent.__table__)
_CASES = cast(Table, Case.__table__)

# One statement for the whole batch (executemany); NULL parameters keep the current value.
_SETTLE = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=_DELIVERIES.c.attempts + 1,
        claimed_by=None,
        claimed_until=None,
        updated_at=bindparam("b_now"),
        last_error=bindparam("b_error"),
        next_attempt_at=func.coalesce(bindparam("b_next"), _DELIVERIES.c.next_attempt_at),
        delivered_at=func.coalesce(bindparam("b_delivered"), _DELIVERIES.c.delivered_at),
        remote_reference=func.coalesce(bindparam("b_ref"), _DELIVERIES.c.remote_reference),
        tracking=func.coalesce(bindparam("b_tracking"), _DELIVERIES.c.tracking),
        tracking_next_at=func.coalesce(bindparam("b_track_at"), _DELIVERIES.c.tracking_next_at),
        tracking_checks=func.coalesce(bindparam("b_checks"), _DELIVERIES.c.tracking_checks),
    )
)


def record_batch(
    session: Session,
    *,
    worker_id: str,
    records: Sequence[AttemptRecord],
    now: datetime,
    first_report_at: datetime | None = None,
) -> list[AttemptRecord]:
    """Write attempts and new delivery states; return the records whose claim was still held.

    A claim is lost when this worker overran its lease and another worker took the row over;
    then only the attempt is kept, and the other worker's outcome counts.
    """
    if not records:
        return []
    ids = [r.claimed.id for r in records]
    held_ids = set(
        session.scalars(
            select(Delivery.id)
            .where(
                Delivery.id.in_(ids),
                Delivery.claimed_by == worker_id,
                Delivery.status == IN_FLIGHT,
            )
            .with_for_update()
        )
    )
    conn = session.connection()
    conn.execute(
        _ATTEMPTS.insert(),
        [
            {
                "delivery_id": r.claimed.id,
                "started_at": r.started_at,
                "duration_ms": r.duration_ms,
                "outcome": r.outcome,
                "error_type": r.error_type,
                "error_detail": r.error_detail,
                "http_status": r.http_status,
                "remote_reference": r.remote_reference,
                "worker": worker_id,
            }
            for r in records
        ],
    )
    held = [r for r in records if r.claimed.id in held_ids]
    if held:
        conn.execute(
            _SETTLE,
            [
                {
                    "b_id": r.claimed.id,
                    "b_status": r.decision.status,
                    "b_now": now,
                    "b_error": r.error_detail if r.decision.status != DELIVERED else None,
                    "b_next": r.decision.next_attempt_at,
                    "b_delivered": now if r.decision.status == DELIVERED else None,
                    "b_ref": r.remote_reference if r.decision.status == DELIVERED else None,
                    "b_tracking": "open" if (tracks := _tracks(r)) else None,
                    "b_track_at": (first_report_at or now) if tracks else None,
                    "b_checks": 0 if tracks else None,
                }
                for r in held
            ],
        )
        finals = [
            (r.claimed.case_id, r.claimed.connector, r.decision.status == DELIVERED)
            for r in held
            if r.decision.status in (DELIVERED, DEAD) and not is_notice(r.claimed.idempotency_key)
        ]
        finalize_cases(session, finals=finals, now=now)
    return held


def _tracks(record: AttemptRecord) -> bool:
    return record.track and record.decision.status == DELIVERED


def remember_progress(
    session: Session, *, delivery_id: str, worker_id: str, progress: dict[str, Any], now: datetime
) -> bool:
    """Store a delivery's progress while this worker still holds it; False if it lost it."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.claimed_by == worker_id,
            Delivery.status == IN_FLIGHT,
        )
        .values(progress=progress, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Tracked:
    """A delivered message whose transport report is still open."""

    id: str
    case_id: str
    connector: str
    reference: str
    progress: dict[str, Any] | None = None
    checks: int = 0
    delivered_at: datetime | None = None


def open_tracking(
    session: Session, *, connectors: Sequence[str], limit: int, now: datetime
) -> list[Tracked]:
    """Open reports of ``connectors`` due for a check, the longest-waiting first.

    Each row carries its own next check time, so rows that never finish move back in the
    queue after every check instead of holding the front of it.
    """
    due_at = func.coalesce(Delivery.tracking_next_at, Delivery.delivered_at)
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.case_id,
            Delivery.connector,
            Delivery.remote_reference,
            Delivery.progress,
            Delivery.tracking_checks,
            Delivery.delivered_at,
        )
        .where(
            Delivery.connector.in_(connectors),
            Delivery.tracking == "open",
            Delivery.status == DELIVERED,
            Delivery.remote_reference.is_not(None),
            or_(Delivery.tracking_next_at.is_(None), Delivery.tracking_next_at <= now),
        )
        .order_by(due_at, Delivery.id)
        .limit(limit)
    ).all()
    return [Tracked(*row) for row in rows]


def tracking_due(session: Session, *, connector: str, now: datetime) -> int:
    """Make every open report of ``connector`` due now (its system announced new events)."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.connector == connector, Delivery.tracking == "open")
        .values(tracking_next_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def reschedule_tracking(
    session: Session, *, tracked: Tracked, next_at: datetime | None, now: datetime
) -> None:
    """An unfinished check: ask again at ``next_at``, or give up (``unknown``) when None."""
    values: dict[str, Any] = {"tracking_checks": tracked.checks + 1, "updated_at": now}
    if next_at is None:
        values["tracking"] = "unknown"
        values["tracking_next_at"] = None
    else:
        values["tracking_next_at"] = next_at
    session.execute(
        update(Delivery)
        .where(Delivery.id == tracked.id, Delivery.tracking == "open")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def settle_tracking(
    session: Session, *, tracked: Tracked, status: str, detail: str | None, now: datetime
) -> None:
    """Write a final report; red turns the delivery into a dead letter an admin can replay."""
    delivery = session.get(Delivery, tracked.id)
    if delivery is None or delivery.tracking != "open":
        return
    delivery.tracking = status
    delivery.updated_at = now
    if status == "red":
        delivery.status = DEAD
        delivery.last_error = (detail or "transport report red")[:300]
        # A replay must send a new message, not the refused one again.
        delivery.progress = None
        note_final(
            session, case_id=tracked.case_id, connector=tracked.connector, delivered=False, now=now
        )
    elif detail:
        delivery.last_error = detail[:300]


def note_final(
    session: Session, *, case_id: str, connector: str, delivered: bool, now: datetime
) -> None:
    """One delivery reached a final state (see :func:`finalize_cases`)."""
    finalize_cases(session, finals=[(case_id, connector, delivered)], now=now)


def finalize_cases(
    session: Session, *, finals: Sequence[tuple[str, str, bool]], now: datetime
) -> None:
    """Timeline events for the portal and each case's overall status after final outcomes."""
    if not finals:
        return
    # The statuses below are read through the connection, which does not autoflush: without
    # this, a delivery settled through the ORM in this transaction (a pull ack) still counts
    # as open and its case stays "delivering" forever.
    session.flush()
    case_ids = sorted({case_id for case_id, _, _ in finals})
    conn = session.connection()
    submissions: dict[str, str | None] = {
        row.id: row.submission_id
        for row in conn.execute(
            select(_CASES.c.id, _CASES.c.submission_id).where(_CASES.c.id.in_(case_ids))
        )
    }
    conn.execute(
        _TIMELINE.insert(),
        [
            {
                "submission_id": submissions.get(case_id),
                "case_id": case_id,
                "at": now,
                "status": "delivered" if delivered else "delivery_failed",
                "detail": f"an {connector}"
                if delivered
                else f"Zustellung an {connector} gescheitert",
            }
            for case_id, connector, delivered in finals
        ],
    )
    statuses: dict[str, set[str]] = {}
    for case_id, status in conn.execute(
        select(_DELIVERIES.c.case_id, _DELIVERIES.c.status).where(
            _DELIVERIES.c.case_id.in_(case_ids),
            ~_DELIVERIES.c.idempotency_key.startswith(NOTICE_PREFIX),
        )
    ):
        statuses.setdefault(case_id, set()).add(status)
    conn.execute(
        update(_CASES)
        .where(_CASES.c.id == bindparam("b_id"))
        .values(status=bindparam("b_status"), updated_at=now),
        [{"b_id": cid, "b_status": _case_status(statuses.get(cid, set()))} for cid in case_ids],
    )


def _case_status(statuses: set[str]) -> str:
    if statuses <= {DELIVERED, CANCELLED}:
        return "delivered"
    if DEAD in statuses:
        return "attention"
    return "delivering"


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


def release_held(session: Session, *, case_id: str, now: datetime) -> int:
    """Let a paid case's deliveries go; return how many were released."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.case_id == case_id, Delivery.status == HELD)
        .values(status=PENDING, next_attempt_at=now, created_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
