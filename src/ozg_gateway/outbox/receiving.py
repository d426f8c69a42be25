"""Inbound rounds: every receiving connector (XTA mailboxes) polls at its own interval."""

from __future__ import annotations

import asyncio
import time

from ozg_gateway.connectors.contract import Receiving
from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.connectors.translate import translate
from ozg_gateway.context import GatewayContext
from ozg_gateway.logging import get_logger
from ozg_gateway.runtime import wait_or_stop
from ozg_gateway.store.inbound import StoreInboundSink

log = get_logger("ozg_gateway.receiving")


class ReceivePoller:
    """Runs ``receive`` of each receiving connector; failures wait for the next round."""

    def __init__(self, ctx: GatewayContext, connectors: Connectors) -> None:
        self.ctx = ctx
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

    async def receive_once(self, name: str) -> int:
        """One round for one connector; return the number of new cases."""
        try:
            accepted = await self.receivers[name].receive(StoreInboundSink(self.ctx, name))
        except Exception as exc:  # noqa: BLE001 - logged by kind, retried next round
            error = translate(exc)
            log.warning("inbound round failed", connector=name, error_type=error.kind)
            return 0
        if accepted:
            log.info("inbound messages received", connector=name, count=accepted)
        return accepted
