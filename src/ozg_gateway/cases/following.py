"""Status from back offices that keep it themselves (Open311 servers): asked, not told.

For every delivered case whose receiver can be asked (``StatusFollowing``) and that is not
finished yet, the receiver's word becomes a status update like a back office's own report:
``closed`` → completed, ``open`` with notes → in progress, ``open`` → received. The update id
is the receiver's state and time, so asking again changes nothing until it changes.

Receivers that confirm arrival (an XTA transport report green or yellow, FIT-Connect's
``accept-submission``) make the case ``received``: :func:`on_arrival` is the tracking
poller's hook. A FIT-Connect ``reject-submission`` is a technical refusal, not the office's
decision on the application: the delivery becomes a dead letter an admin can replay, and
the case's status stays as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ozg_gateway.cases import status as case_status
from ozg_gateway.connectors.contract import RemoteStatus, StatusFollowing
from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery.outbox import Tracked
from ozg_gateway.delivery.policy import DELIVERED
from ozg_gateway.delivery.tracking import TrackingPoller
from ozg_gateway.errors import ConnectorError
from ozg_gateway.logging import get_logger
from ozg_gateway.runtime import wait_or_stop
from ozg_gateway.store.models import Case, Delivery

log = get_logger("ozg_gateway.following")
FINAL = ("completed", "rejected", "withdrawn")


@dataclass(frozen=True)
class Followed:
    """A delivered case and where its receiver filed it."""

    case_id: str
    connector: str
    reference: str


def _state(remote: RemoteStatus) -> str:
    if remote.closed:
        return "completed"
    return "in_progress" if remote.notes else "received"


class StatusFollower:
    """Asks receivers about the cases they took, each round, and records what changed."""

    def __init__(self, ctx: GatewayContext, connectors: Connectors) -> None:
        self.ctx = ctx
        self.connectors = connectors

    def _following(self) -> list[str]:
        return [n for n, c in self.connectors.instances.items() if isinstance(c, StatusFollowing)]

    def _open_cases(self, names: list[str], limit: int = 200) -> list[Followed]:
        with self.ctx.db.reading() as session:
            rows = session.execute(
                select(Delivery.case_id, Delivery.connector, Delivery.remote_reference)
                .join(Case, Case.id == Delivery.case_id)
                .where(
                    Delivery.connector.in_(names),
                    Delivery.status == DELIVERED,
                    Delivery.remote_reference.is_not(None),
                    Case.processing.is_(None) | Case.processing.not_in(FINAL),
                )
                .order_by(Case.updated_at)
                .limit(limit)
            ).all()
        return [Followed(c, n, str(r)) for c, n, r in rows]

    def _record(self, item: Followed, remote: RemoteStatus) -> bool:
        state = _state(remote)
        occurred = remote.updated_at or self.ctx.clock()
        with self.ctx.db.writing() as session:
            case = session.get(Case, item.case_id)
            if case is None:
                return False
            _, changed = case_status.report(
                self.ctx,
                session,
                case=case,
                status=state,
                note=remote.notes,
                occurred_at=occurred,
                reported_by=f"connector:{item.connector}",
                update_id=f"{item.connector}:{state}:{occurred.isoformat()}"[:100],
            )
            return changed

    async def follow_once(self, *, timeout: float = 10.0) -> int:
        """One round; returns how many cases changed."""
        names = self._following()
        if not names:
            return 0
        changed = 0
        for item in await asyncio.to_thread(self._open_cases, names):
            connector = self.connectors.instances[item.connector]
            assert isinstance(connector, StatusFollowing)
            try:
                remote = await connector.status(item.reference, timeout=timeout)
            except ConnectorError as exc:  # the next round asks again
                log.info("status not available", connector=item.connector, error_type=exc.kind)
                continue
            if remote is not None and await asyncio.to_thread(self._record, item, remote):
                changed += 1
        return changed

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until ``stop`` is set."""
        interval = self.ctx.settings.delivery.status_poll_seconds
        while not stop.is_set():
            try:
                await self.follow_once()
            except Exception as exc:  # a broken round must not end the process
                log.error("status following failed", exc_info=exc)
            await wait_or_stop(stop, interval)


def on_arrival(ctx: GatewayContext) -> Callable[[Session, Tracked], None]:
    """The tracking poller's hook: a confirmed arrival makes the case ``received``."""

    def arrived(session: Session, tracked: Tracked) -> None:
        case = session.get(Case, tracked.case_id)
        if case is None:
            return
        case_status.report(
            ctx,
            session,
            case=case,
            status="received",
            note=None,
            occurred_at=ctx.clock(),
            reported_by=f"connector:{tracked.connector}"[:64],
            update_id=f"{tracked.connector}:arrived"[:100],
        )

    return arrived


def tracking_poller(ctx: GatewayContext) -> TrackingPoller:
    """The transport-report poller with the arrival hook (every caller wants both)."""
    return TrackingPoller(ctx, ctx.connectors, on_arrival=on_arrival(ctx))
