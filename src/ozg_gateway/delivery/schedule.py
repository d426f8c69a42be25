"""Every "when next" of the gateway, decided here and nowhere else (README: "Scheduling").

delivery retry
    at once, then capped exponential backoff with equal jitter (``delivery.backoff_*``); a
    receiver's ``Retry-After`` is honoured up to ``max_retry_after_seconds``; gives up after
    ``max_attempts`` or ``max_age_hours`` (dead letter), a connector bug after
    ``max_bug_attempts``.
transport report (XTA, FIT-Connect)
    ``report_interval_seconds`` after delivery, then doubling per row up to
    ``report_max_interval_seconds``. Each row has its own next check, so reports that never
    finish cannot starve newer ones; still open after ``report_max_age_hours``: ``unknown``.
payment status
    ``payment_check_seconds`` after the start, then doubling up to
    ``payment_check_max_seconds``; rounds every ``payment_poll_seconds``. The attempt
    expires after ``payment_expiry_minutes`` and is checked for 7 days (a late payment counts).
eID result
    when the citizen's browser comes back, every ``eid_result_pause_seconds`` for at most
    ``eid_result_wait_seconds``; then the portal gets ``not_finished`` and it stays open.
inbound round
    at start, then every ``inbound.poll_interval_seconds`` of the connector.
health check
    at start, then every ``health_interval_seconds``, each bounded by ``health_timeout_seconds``.

Functions are pure: they take the clock's ``now`` and the settings and return a time or a
delay; the loops that act on them sleep with ``runtime.wait_or_stop``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ozg_gateway.config import DeliverySettings


def backoff_seconds(
    attempts: int, settings: DeliverySettings, rng: random.Random | None = None
) -> float:
    """Delivery retry: capped exponential backoff with equal jitter (half to all of the step)."""
    step = float(
        min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** (attempts - 1))
    )
    return step / 2 + (rng or random).uniform(0, step / 2)


def retry_delay(
    attempts: int,
    retry_after: float | None,
    settings: DeliverySettings,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next delivery attempt after attempt number ``attempts`` failed."""
    delay = backoff_seconds(attempts, settings, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.max_retry_after_seconds))
    return delay


def first_report_check(now: datetime, settings: DeliverySettings) -> datetime:
    """When a freshly delivered message's transport report is first asked for."""
    return now + timedelta(seconds=settings.report_interval_seconds)


def next_report_check(
    checks: int, *, delivered_at: datetime, now: datetime, settings: DeliverySettings
) -> datetime | None:
    """After ``checks`` unfinished checks: the next one, or None to give up (``unknown``)."""
    if now - delivered_at >= timedelta(hours=settings.report_max_age_hours):
        return None
    step = min(
        settings.report_max_interval_seconds,
        settings.report_interval_seconds * 2 ** max(checks, 0),
    )
    return now + timedelta(seconds=step)


def first_payment_check(now: datetime, settings: DeliverySettings) -> datetime:
    """When a new payment attempt's status is first pulled in the background."""
    return now + timedelta(seconds=settings.payment_check_seconds)


def next_payment_check(checks: int, now: datetime, settings: DeliverySettings) -> datetime:
    """After ``checks`` checks of an open payment: the next one."""
    step = min(
        settings.payment_check_max_seconds,
        settings.payment_check_seconds * 2 ** min(max(checks, 0), 16),
    )
    return now + timedelta(seconds=step)
