"""Inbound rounds: every receiving connector (XTA mailboxes) polls at its own interval."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ozg_gateway.cases.received import StoreInboundSink
from ozg_gateway.connectors.contract import Receiving
from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.connectors.translate import translate
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery.breaker import ensure_states
from ozg_gateway.delivery.worker import default_worker_id
from ozg_gateway.logging import get_logger
from ozg_gateway.runtime import wait_or_stop
from ozg_gateway.store.models import ConnectorState

log = get_logger("ozg_gateway.receiving")
LEASE_SECONDS = 300.0  # a crashed poller's mailbox is taken over after this long


def try_lease_receiving(
    session: Session, *, name: str, owner: str, now: datetime, seconds: float
) -> bool:
    """Take (or extend) the inbound polling lease of a connector; False if another holds it."""
    ensure_states(session, names=[name], now=now)
    result = session.execute(
        update(ConnectorState)
        .where(
            ConnectorState.name == name,
            or_(
                ConnectorState.receive_until.is_(None),
                ConnectorState.receive_until <= now,
                ConnectorState.receive_owner == owner,
            ),
        )
        .values(receive_owner=owner, receive_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_receiving(session: Session, *, name: str, owner: str, now: datetime) -> None:
    """Give the inbound polling lease back after a round."""
    session.execute(
        update(ConnectorState)
        .where(ConnectorState.name == name, ConnectorState.receive_owner == owner)
        .values(receive_until=now)
        .execution_options(synchronize_session=False)
    )


class ReceivePoller:
    """Runs ``receive`` of each receiving connector; failures wait for the next round."""

    def __init__(
        self, ctx: GatewayContext, connectors: Connectors, *, owner: str | None = None
    ) -> None:
        self.ctx = ctx
        self.owner = owner or default_worker_id()
        self.receivers = {
            n: c
            for n, c in connectors.instances.items()
            if isinstance(c, Receiving) and c.receive_interval > 0
        }

    async def run(self, stop: asyncio.Event, *, first_after: float = 2.0) -> None:
        """Poll until ``stop`` is set (does nothing without receiving connectors)."""
        if not self.receivers:
            return
        await wait_or_stop(stop, first_after)  # the demo's XTA server is this very process
        due = dict.fromkeys(self.receivers, 0.0)
        while not stop.is_set():
            now = time.monotonic()
            for name in [n for n, at in due.items() if at <= now]:
                await self.receive_once(name)
                due[name] = time.monotonic() + self.receivers[name].receive_interval
            await wait_or_stop(stop, max(0.05, min(due.values()) - time.monotonic()))

    def _lease(self, name: str, *, take: bool) -> bool:
        # Several workers share a mailbox: one polls at a time, the others skip the round.
        seconds = max(LEASE_SECONDS, 5 * self.receivers[name].receive_interval)
        with self.ctx.db.writing() as session:
            if take:
                return try_lease_receiving(
                    session, name=name, owner=self.owner, now=self.ctx.clock(), seconds=seconds
                )
            release_receiving(session, name=name, owner=self.owner, now=self.ctx.clock())
            return False

    async def receive_once(self, name: str) -> int:
        """One round for one connector (if no other process holds it); return new cases."""
        if not await asyncio.to_thread(self._lease, name, take=True):
            return 0
        try:
            accepted = await self.receivers[name].receive(StoreInboundSink(self.ctx, name))
        except Exception as exc:  # noqa: BLE001 - logged by kind, retried next round
            error = translate(exc)
            log.warning("inbound round failed", connector=name, error_type=error.kind)
            return 0
        finally:
            await asyncio.to_thread(self._lease, name, take=False)
        if accepted:
            log.info("inbound messages received", connector=name, count=accepted)
        return accepted
