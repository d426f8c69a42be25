"""What an operator sees per connector: state, breaker, backlog and the last day's traffic.

One source for the admin JSON, the console, the CLI, the metrics and readiness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.delivery.breaker import CLOSED, HALF_OPEN, OPEN, snapshot
from ozg_gateway.store.models import ConnectorState, Delivery, DeliveryAttempt

State = Literal["up", "degraded", "down", "unknown"]
# problems first: the order an operator reads a list of connectors in
SEVERITY: dict[State, int] = {"down": 0, "degraded": 1, "unknown": 2, "up": 3}
STATE_VALUE: dict[State, int] = {"up": 0, "degraded": 1, "down": 2, "unknown": 3}


@dataclass
class ConnectorView:
    """Health, breaker and backlog of one connector instance."""

    name: str
    type: str | None
    state: State
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
    recent_checks: list[dict[str, Any]] = field(default_factory=list)


def state_of(
    state: ConnectorState | None, config_errors: list[str], *, timeout: float, fresh: bool
) -> State:
    """down: broken config, open breaker or failed check; unknown: no recent check."""
    if config_errors or (
        state is not None and (state.breaker == OPEN or state.last_check_ok is False)
    ):
        return "down"
    if state is None or state.last_check_ok is None or not fresh:
        return "unknown"
    slow = (state.last_latency_ms or 0) > timeout * 500  # over half the check timeout (ms)
    if state.breaker == HALF_OPEN or state.consecutive_failures > 0 or slow:
        return "degraded"
    return "up"


def health(ctx: GatewayContext, session: Session) -> dict[str, tuple[State, ConnectorState | None]]:
    """Every configured or known instance's state, from the stored checks alone (no backlog
    query: readiness probes and metric scrapes ask this often)."""
    now = ctx.clock()
    delivery = ctx.settings.delivery
    states = snapshot(session)
    result: dict[str, tuple[State, ConnectorState | None]] = {}
    for name in sorted(set(ctx.settings.connectors) | set(states)):
        state = states.get(name)
        fresh = bool(
            state
            and state.last_check_at
            and now - state.last_check_at < timedelta(seconds=3 * delivery.health_interval_seconds)
        )
        errors = ctx.connectors.errors.get(name, [])
        timeout = delivery.health_timeout_seconds
        result[name] = (state_of(state, errors, timeout=timeout, fresh=fresh), state)
    return result


def connectors(ctx: GatewayContext, session: Session) -> list[ConnectorView]:
    """Every configured or known connector instance with its backlog, problems first."""
    stats = outbox.queue_stats(session, now=ctx.clock())
    views = []
    for name, (verdict, state) in health(ctx, session).items():
        q = stats.get(name, outbox.QueueStats())
        ctype = ctx.connectors.types.get(name)
        views.append(
            ConnectorView(
                name=name,
                type=ctype.name if ctype else ctx.settings.connectors.get(name, {}).get("type"),
                state=verdict,
                breaker=state.breaker if state else CLOSED,
                consecutive_failures=state.consecutive_failures if state else 0,
                last_check_at=state.last_check_at if state else None,
                last_latency_ms=state.last_latency_ms if state else None,
                last_error=state.last_error if state else None,
                config_errors=ctx.connectors.errors.get(name, []),
                queue_depth=q.pending,
                in_flight=q.in_flight,
                oldest_pending_seconds=q.oldest_pending_seconds,
                dead_letters=q.dead,
                recent_checks=list(state.recent_checks or []) if state else [],
            )
        )
    views.sort(key=lambda v: (SEVERITY[v.state], -v.dead_letters, v.name))
    return views


@dataclass(frozen=True)
class Hourly:
    """Attempts of one connector per hour over the last day, oldest hour first."""

    delivered: list[int]
    failed: list[int]


def last_day(session: Session, *, now: datetime) -> dict[str, Hourly]:
    """Delivered and failed attempts per connector and hour over the last 24 hours."""
    since = now - timedelta(hours=24)
    rows = session.execute(
        select(Delivery.connector, DeliveryAttempt.started_at, DeliveryAttempt.outcome)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(DeliveryAttempt.started_at >= since)
    ).all()
    result: dict[str, Hourly] = {}
    for connector, started, outcome in rows:
        entry = result.setdefault(connector, Hourly([0] * 24, [0] * 24))
        hour = min(23, int((started - since).total_seconds() // 3600))
        (entry.delivered if outcome == "delivered" else entry.failed)[hour] += 1
    return result
