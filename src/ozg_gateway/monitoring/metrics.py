"""Gauges an operator alerts on, read at scrape time from the shared database.

Counts come from the database rather than per-process counters, so every instance of the API
reports the same numbers however many processes handled the payments and identifications.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ozg_gateway.context import GatewayContext
from ozg_gateway.monitoring import certificates, overview
from ozg_gateway.store.models import Identification, Payment

CERTIFICATE_RESCAN_SECONDS = 600.0


class GatewayCollector(Collector):
    """Connector health, payments and identifications by outcome, certificate expiry."""

    def __init__(self, ctx: GatewayContext) -> None:
        self._ctx = ctx
        self._certificates: list[certificates.Expiry] = []
        self._scanned_at = float("-inf")

    def _expiries(self) -> list[certificates.Expiry]:
        # certificate files change rarely; reading them on every scrape would be waste
        if time.monotonic() - self._scanned_at > CERTIFICATE_RESCAN_SECONDS:
            self._certificates = certificates.expiries(self._ctx.connectors.settings)
            self._scanned_at = time.monotonic()
        return self._certificates

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One read transaction per scrape."""
        health = GaugeMetricFamily(
            "ozg_connector_health_state",
            "Connector health: 0 up, 1 degraded, 2 down, 3 unknown (no recent check).",
            labels=["connector"],
        )
        payments = GaugeMetricFamily(
            "ozg_payments",
            "Payment attempts by provider and status.",
            labels=["provider", "status"],
        )
        reconcile = GaugeMetricFamily(
            "ozg_payments_needing_reconciliation",
            "Payments flagged for reconciliation (late, duplicate or contradictory).",
            labels=["provider"],
        )
        identifications = GaugeMetricFamily(
            "ozg_identifications", "Identifications by outcome.", labels=["status"]
        )
        expiry = GaugeMetricFamily(
            "ozg_certificate_expiry_timestamp_seconds",
            "Expiry (Unix time) of each certificate in the connectors' configuration.",
            labels=["connector", "setting"],
        )
        with self._ctx.db.reading() as session:
            states = overview.health(self._ctx, session)
            paid = session.execute(
                select(Payment.provider, Payment.status, func.count()).group_by(
                    Payment.provider, Payment.status
                )
            ).all()
            flagged = session.execute(
                select(Payment.provider, func.count())
                .where(Payment.needs_reconciliation.is_(True))
                .group_by(Payment.provider)
            ).all()
            identified = session.execute(
                select(Identification.status, func.count()).group_by(Identification.status)
            ).all()
        for name, (verdict, _) in states.items():
            health.add_metric([name], overview.STATE_VALUE[verdict])
        for provider, status, count in paid:
            payments.add_metric([provider, status], count)
        for provider, count in flagged:
            reconcile.add_metric([provider], count)
        for status, count in identified:
            identifications.add_metric([status], count)
        seen: set[tuple[str, str]] = set()
        for item in self._expiries():  # soonest first: the first of a setting counts
            if (item.connector, item.setting) not in seen:
                seen.add((item.connector, item.setting))
                expiry.add_metric([item.connector, item.setting], item.not_after.timestamp())
        yield from (health, payments, reconcile, identifications, expiry)
