"""Fees online: start a payment for a submitted case, the citizen's return, the status."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api.deps import Ctx, PortalPrincipal
from ozg_gateway.context import GatewayContext
from ozg_gateway.epayment import service
from ozg_gateway.epayment.epaybl.mapping import NOTIFICATION_FIELDS
from ozg_gateway.errors import FieldError, not_found, validation_problem
from ozg_gateway.runtime import with_query
from ozg_gateway.store import submissions as store
from ozg_gateway.store.models import Payment

router = APIRouter(tags=["Payments"])
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_MAX_NOTIFICATION_FIELD = 1024


class PaymentStart(BaseModel):
    """Where the portal wants the citizen back (must match the client's allow-list)."""

    model_config = ConfigDict(extra="forbid")
    return_url: str = Field(min_length=8, max_length=2000)


class PaymentOut(BaseModel):
    """A payment attempt; send the citizen to ``paypage_url`` while ``status`` is open."""

    id: str
    status: str
    amount_cents: int
    paypage_url: str | None
    transaction_id: str | None
    reference: str | None
    method: str | None
    paid_at: datetime | None
    created_at: datetime


def _out(payment: Payment) -> PaymentOut:
    return PaymentOut.model_validate(payment, from_attributes=True)


@router.post(
    "/v1/submissions/{submission_id}/payment",
    operation_id="startPayment",
    summary="Start paying the fee of a submitted case",
    responses={
        409: {"description": "Not submitted, no fee, or paid already", **_PROBLEM},
        422: {"description": "Return URL not allowed", **_PROBLEM},
        503: {"description": "Provider unavailable", **_PROBLEM},
    },
)
async def start_payment(
    ctx: Ctx, principal: PortalPrincipal, submission_id: str, body: PaymentStart
) -> PaymentOut:
    """While an attempt is open the same attempt is returned; a paid case cannot be paid twice."""
    payment, _token = await run_in_threadpool(
        lambda: service.start_payment(
            ctx,
            client_id=principal.client_id,
            submission_id=submission_id,
            return_url=body.return_url,
        )
    )
    return _out(payment)


@router.get(
    "/v1/submissions/{submission_id}/payment",
    operation_id="getPayment",
    summary="The latest payment attempt (status pulled from the provider)",
)
async def get_payment(ctx: Ctx, principal: PortalPrincipal, submission_id: str) -> PaymentOut:
    """Open attempts are checked with the provider before answering (within the request
    deadline; a slow provider is asked again by the background poller)."""

    def load() -> Payment | None:
        with ctx.db.reading() as session:
            store.get_submission(
                session, client_id=principal.client_id, submission_id=submission_id
            )
            return service.latest(session, submission_id)

    payment = await run_in_threadpool(load)
    if payment is None:
        raise not_found("Die Zahlung")
    return _out(await _refreshed(ctx, payment))


async def _refreshed(ctx: GatewayContext, payment: Payment) -> Payment:
    """The provider's current word on a payment, or what is known when it answers too slowly."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(service.refresh, ctx, payment.id),
            ctx.settings.request_deadline_seconds,
        )
    except TimeoutError:
        return payment


@router.get(
    "/v1/payments/return/{token}",
    operation_id="paymentReturn",
    summary="The citizen's return from the paypage (browser)",
    response_class=RedirectResponse,
    status_code=303,
)
async def payment_return(ctx: Ctx, token: str) -> RedirectResponse:
    """The redirect proves nothing: the status is pulled from the provider, then the browser
    goes on to the portal's return URL with ``payment=paid|open|failed|canceled``."""

    def load() -> Payment | None:
        with ctx.db.reading() as session:
            return session.scalar(
                select(Payment).where(Payment.return_token_hash == service.token_hash(token))
            )

    payment = await run_in_threadpool(load)
    if payment is None:
        raise not_found("Die Zahlung")
    payment = await _refreshed(ctx, payment)
    target = with_query(payment.portal_return_url, {"payment": payment.status})
    return RedirectResponse(target, status_code=303)


@router.post(
    "/v1/payments/epaybl/notify",
    operation_id="epayblNotification",
    summary="ePayBL payment notification (provider to gateway)",
    responses={401: {"description": "Hash invalid (tampered)", **_PROBLEM}},
)
async def epaybl_notification(ctx: Ctx, request: Request) -> dict[str, str]:
    """Verified by hash, then confirmed with a status call; repeats change nothing.

    Only the notification's own fields are read, as short texts: no files, nothing spooled.
    """
    expected = {*NOTIFICATION_FIELDS, "hash"}
    async with request.form(
        max_files=0, max_fields=len(expected) + 4, max_part_size=_MAX_NOTIFICATION_FIELD
    ) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        unexpected = sorted(set(form.keys()) - expected)
    if unexpected:
        raise validation_problem(
            [FieldError(f"/{name}", "unexpected", "Unbekanntes Feld.") for name in unexpected]
        )
    payment = await run_in_threadpool(service.notification, ctx, fields)
    return {"result": "unknown" if payment is None else payment.status}
