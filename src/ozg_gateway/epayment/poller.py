"""Background check of open payments (with backoff per attempt) and expiry."""

from __future__ import annotations

import asyncio

from ozg_gateway.context import GatewayContext
from ozg_gateway.epayment import service
from ozg_gateway.logging import get_logger
from ozg_gateway.runtime import wait_or_stop

log = get_logger("ozg_gateway.payments")


class PaymentPoller:
    """Runs ``service.poll_open`` every few seconds while a payment provider is configured."""

    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.interval = ctx.settings.delivery.payment_poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set."""
        if not self.ctx.settings.payment_provider:
            return
        while not stop.is_set():
            try:
                await asyncio.to_thread(service.poll_open, self.ctx)
            except Exception as exc:  # a failed poll must not end the process
                log.error("payment poll failed", exc_info=exc)
            await wait_or_stop(stop, self.interval)
