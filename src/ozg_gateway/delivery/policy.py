"""The one place that decides what an attempt's outcome means: delivered, retry, or dead
letter (when to retry is ``delivery.schedule``'s word)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ozg_gateway.config import DeliverySettings
from ozg_gateway.delivery.schedule import backoff_seconds, retry_delay
from ozg_gateway.errors import ConnectorError

__all__ = ["DEAD", "DELIVERED", "PENDING", "Decision", "backoff_seconds", "decide"]

DELIVERED = "delivered"
PENDING = "pending"
DEAD = "dead"


@dataclass(frozen=True)
class Decision:
    """What happens to a delivery after an attempt."""

    status: str
    next_attempt_at: datetime | None = None
    reason: str | None = None


def decide(
    *,
    error: ConnectorError | None,
    attempts: int,
    created_at: datetime,
    now: datetime,
    settings: DeliverySettings,
    rng: random.Random | None = None,
) -> Decision:
    """Outcome of attempt number ``attempts`` (1-based) that ended with ``error`` (None = ok)."""
    if error is None:
        return Decision(DELIVERED)
    if not error.retryable:
        return Decision(DEAD, reason=f"{error.kind} error, not retried")
    if error.kind == "bug" and attempts >= settings.max_bug_attempts:
        return Decision(
            DEAD, reason=f"connector bug, gave up after {attempts} attempts; fix it, then replay"
        )
    if attempts >= settings.max_attempts:
        return Decision(DEAD, reason=f"gave up after {attempts} attempts")
    delay = retry_delay(attempts, error.retry_after, settings, rng)
    next_at = now + timedelta(seconds=delay)
    if next_at - created_at > timedelta(hours=settings.max_age_hours):
        return Decision(DEAD, reason=f"older than {settings.max_age_hours:g} h")
    return Decision(PENDING, next_attempt_at=next_at)
