"""Transport reports after delivery (XTA, FIT-Connect): ask until green / yellow / red.

Red means the receiving side refused the message: the delivery becomes a dead letter an admin
can replay (with a new message). Open or unreadable reports are asked for again when
``delivery.schedule`` says, each on its own clock; one that stays open past the maximum age is
shown as ``unknown``. A green or yellow report means the back office has the case: the
``on_arrival`` hook (cases' status) records that in the same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.orm import Session

from ozg_gateway.connectors.contract import Tracking, TrackResult
from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox, schedule
from ozg_gateway.errors import ConnectorError
from ozg_gateway.logging import get_logger
from ozg_gateway.runtime import wait_or_stop

log = get_logger("ozg_gateway.tracking")
BATCH = 50
Arrived = Callable[[Session, outbox.Tracked], None]


class TrackingPoller:
    """Asks tracking connectors for open reports each ``report_interval_seconds``."""

    def __init__(
        self, ctx: GatewayContext, connectors: Connectors, *, on_arrival: Arrived | None = None
    ) -> None:
        self.ctx = ctx
        self.connectors = connectors
        self.on_arrival = on_arrival

    def _tracking(self) -> dict[str, Tracking]:
        return {n: c for n, c in self.connectors.instances.items() if isinstance(c, Tracking)}

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set (does nothing without tracking connectors)."""
        if not self._tracking():
            return
        while not stop.is_set():
            try:
                await self.track_once()
            except Exception as exc:  # a broken round must not end the process
                log.error("tracking round failed", exc_info=exc)
            await wait_or_stop(stop, self.ctx.settings.delivery.report_interval_seconds)

    async def track_once(self) -> int:
        """One round; return how many reports became final."""
        tracking = self._tracking()
        if not tracking:
            return 0

        def load() -> list[outbox.Tracked]:
            with self.ctx.db.reading() as session:
                return outbox.open_tracking(
                    session, connectors=list(tracking), limit=BATCH, now=self.ctx.clock()
                )

        final = 0
        for row in await asyncio.to_thread(load):
            try:
                result = await tracking[row.connector].track(
                    reference=row.reference, progress=row.progress or {}
                )
            except ConnectorError as exc:
                log.warning(
                    "transport report unavailable", connector=row.connector, error_type=exc.kind
                )
                result = None
            if result is not None and result.final:
                await asyncio.to_thread(self._settle, row, result)
                final += 1
            else:
                await asyncio.to_thread(self._later, row)
        return final

    def _later(self, row: outbox.Tracked) -> None:
        now = self.ctx.clock()
        next_at = schedule.next_report_check(
            row.checks,
            delivered_at=row.delivered_at or now,
            now=now,
            settings=self.ctx.settings.delivery,
        )
        with self.ctx.db.writing() as session:
            outbox.reschedule_tracking(session, tracked=row, next_at=next_at, now=now)
        if next_at is None:
            log.warning("transport report never arrived", connector=row.connector)

    def _settle(self, row: outbox.Tracked, result: TrackResult) -> None:
        with self.ctx.db.writing() as session:
            outbox.settle_tracking(
                session,
                tracked=row,
                status=result.status,
                detail=result.detail,
                now=self.ctx.clock(),
            )
            if result.status != "red" and self.on_arrival is not None:
                self.on_arrival(session, row)
        if result.status == "red":
            log.warning("transport report red", connector=row.connector, delivery_id=row.id)
