"""Everything a worker process runs besides serving: one list for `serve --with-worker` and
`worker`."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from ozg_gateway.cases.following import StatusFollower, tracking_poller
from ozg_gateway.cases.receiving import ReceivePoller
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery.worker import Worker
from ozg_gateway.eid.service import IdentificationJanitor
from ozg_gateway.epayment.poller import PaymentPoller
from ozg_gateway.monitoring.health import HealthPoller


def background_jobs(
    ctx: GatewayContext, worker: Worker, stop: asyncio.Event
) -> list[Coroutine[Any, Any, None]]:
    """Delivery, health checks, payment polling, eID clean-up, transport reports, mailboxes,
    status from back offices that keep it themselves."""
    return [
        worker.run(stop),
        HealthPoller(ctx, ctx.connectors).run(stop),
        PaymentPoller(ctx).run(stop),
        IdentificationJanitor(ctx).run(stop),
        tracking_poller(ctx).run(stop),
        ReceivePoller(ctx, ctx.connectors).run(stop),
        StatusFollower(ctx, ctx.connectors).run(stop),
    ]
