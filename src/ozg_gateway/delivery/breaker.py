"""Circuit breaker per connector instance, kept in the database so every worker shares it.

closed ──(threshold consecutive retryable failures)──▶ open ──(cooldown over)──▶ half_open
  ▲                                                      ▲                         │
  └──────────────(probe delivery succeeds)───────────────┴──(probe fails)──────────┘

While open, the worker claims nothing for the connector, so deliveries wait instead of
burning attempts. In half_open exactly one worker holds the probe slot and sends one delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ozg_gateway.config import DeliverySettings
from ozg_gateway.store.models import ConnectorState

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


def ensure_states(session: Session, *, names: Iterable[str], now: datetime) -> None:
    """Create missing state rows (concurrent workers may race: conflicts are ignored)."""
    rows = [
        {"name": n, "breaker": CLOSED, "consecutive_failures": 0, "updated_at": now} for n in names
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ConnectorState).values(rows).on_conflict_do_nothing())


def snapshot(session: Session) -> dict[str, ConnectorState]:
    """All connector states by name."""
    return {s.name: s for s in session.scalars(select(ConnectorState))}


def breaker_states(session: Session) -> dict[str, tuple[str, int]]:
    """Breaker state and consecutive failures by connector (cheap: no ORM objects)."""
    rows = session.execute(
        select(ConnectorState.name, ConnectorState.breaker, ConnectorState.consecutive_failures)
    )
    return {name: (state, failures) for name, state, failures in rows}


def try_acquire_probe(session: Session, *, name: str, now: datetime, lease_seconds: float) -> bool:
    """Take the single probe slot of an open breaker whose cooldown is over."""
    result = session.execute(
        update(ConnectorState)
        .where(
            ConnectorState.name == name,
            or_(
                and_(ConnectorState.breaker == OPEN, ConnectorState.opened_until <= now),
                and_(ConnectorState.breaker == HALF_OPEN, ConnectorState.probe_until <= now),
            ),
        )
        .values(
            breaker=HALF_OPEN,
            probe_until=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_probe(session: Session, *, name: str, now: datetime) -> None:
    """Give the probe slot back unused (nothing was due)."""
    session.execute(
        update(ConnectorState)
        .where(ConnectorState.name == name, ConnectorState.breaker == HALF_OPEN)
        .values(probe_until=now)
        .execution_options(synchronize_session=False)
    )


def record(
    session: Session,
    *,
    name: str,
    outcomes: Sequence[bool],
    now: datetime,
    settings: DeliverySettings,
) -> str | None:
    """Count delivery outcomes (True = ok) that say something about the connector, in order.

    Returns the transition (e.g. ``closed->open``) if the breaker changed.
    """
    state = session.get(ConnectorState, name, with_for_update=True)
    if state is None or not outcomes:
        return None
    before = state.breaker
    for ok in outcomes:
        if ok:
            state.consecutive_failures = 0
            state.breaker = CLOSED
            state.opened_until = None
        else:
            state.consecutive_failures += 1
            if (
                state.breaker == HALF_OPEN
                or state.consecutive_failures >= settings.breaker_threshold
            ):
                state.breaker = OPEN
                state.opened_until = now + timedelta(seconds=settings.breaker_cooldown_seconds)
    state.updated_at = now
    return f"{before}->{state.breaker}" if before != state.breaker else None
