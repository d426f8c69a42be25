"""Identification with the eID for portals: start, TC Token, refresh, redeem."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api.deps import Ctx, PortalPrincipal
from ozg_gateway.eid import service
from ozg_gateway.eid.tctoken import activation_links
from ozg_gateway.runtime import with_query

router = APIRouter(tags=["Identification"])
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


class IdentificationStart(BaseModel):
    """Which offer, and where the citizen's browser goes afterwards (allow-listed)."""

    model_config = ConfigDict(extra="forbid")
    service_id: str = Field(min_length=1, max_length=64)
    return_url: str = Field(min_length=8, max_length=2000)


class IdentificationOut(BaseModel):
    """Start the citizen's eID-Client with one of the activation links."""

    id: str
    tc_token_url: str
    activation: dict[str, str]
    expires_at: datetime


class Redeem(BaseModel):
    """The one-time code from the return URL; optionally attach the result to a draft."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=8, max_length=200)
    submission_id: str | None = None


class IdentityOut(BaseModel):
    """Only what the offer may read, plus the level of assurance and yes/no checks."""

    attributes: dict[str, Any]
    level: str | None
    age_ok: bool | None
    place_ok: bool | None
    restricted_id: str | None = Field(description="Card- and sector-specific pseudonym.")


@router.post(
    "/v1/identifications",
    status_code=201,
    operation_id="startIdentification",
    summary="Start an identification with the German eID",
    responses={
        422: {"description": "Offer without eID or return URL not allowed", **_PROBLEM},
        503: {"description": "eID-Server unavailable", **_PROBLEM},
    },
)
async def start(
    ctx: Ctx, principal: PortalPrincipal, body: IdentificationStart
) -> IdentificationOut:
    """Calls useID with exactly the attributes the offer needs."""
    row = await run_in_threadpool(
        lambda: service.start(
            ctx,
            client_id=principal.client_id,
            service_id=body.service_id,
            return_url=body.return_url,
        )
    )
    url = f"{ctx.settings.public_base_url.rstrip('/')}/v1/identifications/{row.id}/tctoken"
    return IdentificationOut(
        id=row.id, tc_token_url=url, activation=activation_links(url), expires_at=row.expires_at
    )


@router.get(
    "/v1/identifications/{identification_id}/tctoken",
    operation_id="getTcToken",
    summary="TC Token for the eID-Client",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}},
)
def tc_token(ctx: Ctx, identification_id: str) -> Response:
    """TcToken.xsd document: server address, session, PSK, refresh address."""
    return Response(service.tc_token(ctx, identification_id), media_type="text/xml")


@router.get(
    "/v1/identifications/{identification_id}/refresh",
    operation_id="identificationRefresh",
    summary="Where the eID-Client sends the browser when done",
    response_class=RedirectResponse,
    status_code=303,
)
async def refresh(ctx: Ctx, identification_id: str) -> RedirectResponse:
    """Fetches the result (server to server), then redirects to the portal with a one-time
    code; no personal data ever appears in a URL. Without a result yet the portal gets
    ``error=not_finished`` and the identification stays open."""
    finished = await service.refresh(
        ctx,
        identification_id,
        deadline=ctx.settings.eid_result_wait_seconds,
        pause=ctx.settings.eid_result_pause_seconds,
    )
    return RedirectResponse(with_query(finished.return_url, finished.params), status_code=303)


@router.post(
    "/v1/identifications/{identification_id}/redeem",
    operation_id="redeemIdentification",
    summary="Exchange the one-time code for the result (server to server)",
    responses={
        409: {"description": "Code unknown, used, expired or of another client", **_PROBLEM}
    },
)
def redeem(
    ctx: Ctx, principal: PortalPrincipal, identification_id: str, body: Redeem
) -> IdentityOut:
    """Single use; the stored result is deleted afterwards."""
    result = service.redeem(
        ctx,
        client_id=principal.client_id,
        identification_id=identification_id,
        code=body.code,
        submission_id=body.submission_id,
    )
    return IdentityOut(**result)
