"""Prometheus metrics of delivery: counters in the worker, backlog gauges read from the DB."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ozg_gateway.delivery import outbox
from ozg_gateway.delivery.breaker import CLOSED, HALF_OPEN, OPEN, snapshot
from ozg_gateway.runtime import Clock
from ozg_gateway.store.db import Database
from ozg_gateway.store.models import Delivery, InboundMessage

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
        tracking = GaugeMetricFamily(
            "ozg_delivery_reports",
            "Delivered messages by transport report (XTA): open, green, yellow, red.",
            labels=["connector", "report"],
        )
        inbound = GaugeMetricFamily(
            "ozg_inbound_messages",
            "Messages taken from inbound channels (XTA mailboxes) by outcome.",
            labels=["connector", "status"],
        )
        with self._db.reading() as session:
            stats = outbox.queue_stats(session, now=self._clock())
            states = snapshot(session)
            reports = session.execute(
                select(Delivery.connector, Delivery.tracking, func.count())
                .where(Delivery.tracking.is_not(None))
                .group_by(Delivery.connector, Delivery.tracking)
            ).all()
            received = session.execute(
                select(InboundMessage.connector, InboundMessage.status, func.count()).group_by(
                    InboundMessage.connector, InboundMessage.status
                )
            ).all()
        for connector, report, count in reports:
            tracking.add_metric([connector, report], count)
        for connector, status, count in received:
            inbound.add_metric([connector, status], count)
        for name, s in stats.items():
            depth.add_metric([name], s.pending)
            dead.add_metric([name], s.dead)
            oldest.add_metric([name], s.oldest_pending_seconds or 0.0)
        for name, state in states.items():
            breaker.add_metric([name], _BREAKER_VALUE.get(state.breaker, 0))
        yield from (depth, oldest, dead, breaker, tracking, inbound)
