"""Callbacks of external systems that announce news (FIT-Connect: new submissions, new events).

A callback only notifies: the gateway then fetches, as it would when polling, so a forged or
lost callback changes nothing but timing. Polling stays the fallback.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from ozg_gateway.api.deps import Ctx
from ozg_gateway.cases.following import tracking_poller
from ozg_gateway.cases.receiving import ReceivePoller
from ozg_gateway.connectors.contract import CallbackReceiving
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.errors import Problem, not_found
from ozg_gateway.logging import get_logger

router = APIRouter(tags=["Callbacks"])
log = get_logger("ozg_gateway.callbacks")
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/v1/callbacks/{connector}",
    operation_id="connectorCallback",
    summary="A callback of an external system (FIT-Connect), verified by its signature",
    responses={
        401: {"description": "Signature wrong or timestamp too old: ignored", **_PROBLEM},
        404: {"description": "No connector of that name takes callbacks", **_PROBLEM},
    },
)
async def callback(
    ctx: Ctx, connector: str, request: Request, background: BackgroundTasks
) -> JSONResponse:
    """Verified, then the announced fetch starts at once (after this answer)."""
    instance = ctx.connectors.instances.get(connector)
    if not isinstance(instance, CallbackReceiving):
        raise not_found("Der Connector")
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    announced = instance.callback(headers=headers, body=body, now=time.time())
    if announced is None:
        log.warning("callback ignored", connector=connector, error_code="not_authentic")
        raise Problem("unauthorized", detail="Callback nicht authentisch oder zu alt.")
    if announced == "new-submissions":
        background.add_task(ReceivePoller(ctx, ctx.connectors).receive_once, connector)
    elif announced == "new-events":
        background.add_task(_reports_now, ctx, connector)
    return JSONResponse({"accepted": announced})


async def _reports_now(ctx: GatewayContext, connector: str) -> None:
    """Make the connector's open transport reports due and ask for them."""

    def due() -> None:
        with ctx.db.writing() as session:
            outbox.tracking_due(session, connector=connector, now=ctx.clock())

    await asyncio.to_thread(due)
    await tracking_poller(ctx).track_once()
