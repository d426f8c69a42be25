"""Prometheus metrics of delivery: counters in the worker, backlog gauges read from the DB."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ozg_gateway.outbox import store as outbox
from ozg_gateway.outbox.breaker import CLOSED, HALF_OPEN, OPEN, snapshot
from ozg_gateway.runtime import Clock
from ozg_gateway.store.db import Database

_BREAKER_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


class DeliveryMetrics:
    """Counters and latency of delivery attempts (one per worker process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "ozg_delivery_attempts",
            "Delivery attempts by connector and outcome.",
            ["connector", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "ozg_delivery_attempt_duration_seconds",
            "Duration of delivery attempts.",
            ["connector"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )


class OutboxCollector(Collector):
    """Queue depth, oldest pending age, dead letters and breaker state, read at scrape time."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One query per scrape."""
        depth = GaugeMetricFamily(
            "ozg_delivery_queue_depth", "Deliveries waiting.", labels=["connector"]
        )
        oldest = GaugeMetricFamily(
            "ozg_delivery_oldest_pending_seconds",
            "Age of the oldest waiting delivery.",
            labels=["connector"],
        )
        dead = GaugeMetricFamily("ozg_delivery_dead_letters", "Dead letters.", labels=["connector"])
        breaker = GaugeMetricFamily(
            "ozg_connector_breaker_state",
            "Circuit breaker: 0 closed, 1 half open, 2 open.",
            labels=["connector"],
        )
        with self._db.reading() as session:
            stats = outbox.queue_stats(session, now=self._clock())
            states = snapshot(session)
        for name, s in stats.items():
            depth.add_metric([name], s.pending)
            dead.add_metric([name], s.dead)
            oldest.add_metric([name], s.oldest_pending_seconds or 0.0)
        for name, state in states.items():
            breaker.add_metric([name], _BREAKER_VALUE.get(state.breaker, 0))
        yield from (depth, oldest, dead, breaker)
