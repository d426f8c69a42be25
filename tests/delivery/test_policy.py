"""Retry policy: one place decides delivered, retry when, or dead letter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from ozg_gateway.config import DeliverySettings
from ozg_gateway.delivery.policy import DEAD, DELIVERED, PENDING, backoff_seconds, decide
from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    PermanentError,
    TransientError,
)

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
S = DeliverySettings(
    max_attempts=5, backoff_base_seconds=2, backoff_max_seconds=60, max_age_hours=1
)


def test_success_and_non_retryable() -> None:
    assert decide(error=None, attempts=1, created_at=NOW, now=NOW, settings=S).status == DELIVERED
    for err in (PermanentError("400"), ConnectorConfigError("redirect")):
        decision = decide(error=err, attempts=1, created_at=NOW, now=NOW, settings=S)
        assert decision.status == DEAD
        assert "not retried" in (decision.reason or "")


def test_transient_and_auth_retry_with_capped_jittered_backoff() -> None:
    rng = random.Random(7)
    for attempts in range(1, 5):
        for err in (TransientError("503"), ConnectorAuthError("401")):
            d = decide(error=err, attempts=attempts, created_at=NOW, now=NOW, settings=S, rng=rng)
            assert d.status == PENDING
            assert d.next_attempt_at is not None
            step = min(60, 2 * 2 ** (attempts - 1))
            assert step / 2 <= (d.next_attempt_at - NOW).total_seconds() <= step
    assert max(backoff_seconds(30, S, rng) for _ in range(50)) <= 60


def test_gives_up_after_max_attempts_or_age() -> None:
    assert (
        decide(error=TransientError("x"), attempts=5, created_at=NOW, now=NOW, settings=S).status
        == DEAD
    )
    old = NOW - timedelta(minutes=59, seconds=59)
    assert (
        decide(error=TransientError("x"), attempts=1, created_at=old, now=NOW, settings=S).status
        == DEAD
    )


def test_retry_after_wins_when_longer_and_is_capped() -> None:
    err = TransientError("429", retry_after=300)
    d = decide(error=err, attempts=1, created_at=NOW, now=NOW, settings=S)
    assert d.next_attempt_at == NOW + timedelta(seconds=300)
    capped = DeliverySettings(max_retry_after_seconds=10)
    d2 = decide(
        error=TransientError("429", retry_after=99999),
        attempts=1,
        created_at=NOW,
        now=NOW,
        settings=capped,
    )
    assert d2.next_attempt_at is not None
    assert (d2.next_attempt_at - NOW).total_seconds() <= 10
