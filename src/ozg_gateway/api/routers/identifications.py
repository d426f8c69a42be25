"""Identification with the eID for portals: start, TC Token, refresh, redeem."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api.deps import Ctx, PortalPrincipal
from ozg_gateway.eid import bundid_flow, service
from ozg_gateway.eid.tctoken import activation_links
from ozg_gateway.runtime import with_query

router = APIRouter(tags=["Identification"])
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


class IdentificationStart(BaseModel):
    """Which offer, and where the citizen's browser goes afterwards (allow-listed)."""

    model_config = ConfigDict(extra="forbid")
    service_id: str = Field(min_length=1, max_length=64)
    return_url: str = Field(min_length=8, max_length=2000)
    method: Literal["eid-server", "bundid"] | None = Field(
        default=None,
        description="The eID-Server (the citizen's eID-Client) or BundID (a login page); "
        "default: the first the offer allows.",
    )


class IdentificationOut(BaseModel):
    """eID-Server: start the citizen's eID-Client with one of the activation links.
    BundID: send the citizen's browser to ``login_url``."""

    id: str
    method: Literal["eid-server", "bundid"] = "eid-server"
    tc_token_url: str | None = None
    activation: dict[str, str] = Field(default_factory=dict)
    login_url: str | None = None
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
    restricted_id: str | None = Field(
        description="Pseudonym: the card's RestrictedID (eID-Server) or BundID's bPK2."
    )
    method: Literal["eid-server", "bundid"] = "eid-server"
    proved_by: str | None = Field(
        default=None, description="BundID: how the citizen proved it (eID, Elster, …)."
    )
    trust_levels: dict[str, int] = Field(
        default_factory=dict,
        description="BundID: each attribute's trust level (1 untergeordnet … 4 hoch).",
    )


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
    """Calls useID with exactly the attributes the offer needs (eID-Server), or prepares the
    signed AuthnRequest asking BundID for exactly those (BundID)."""
    offer = ctx.catalog.get(body.service_id)
    method = body.method or (offer.eid.methods[0] if offer else "eid-server")
    base = ctx.settings.public_base_url.rstrip("/")
    if method == "bundid":
        started = await run_in_threadpool(
            lambda: bundid_flow.start(
                ctx,
                client_id=principal.client_id,
                service_id=body.service_id,
                return_url=body.return_url,
            )
        )
        return IdentificationOut(
            id=started.id,
            method="bundid",
            login_url=f"{base}/v1/identifications/{started.id}/bundid",
            expires_at=started.expires_at,
        )
    row = await run_in_threadpool(
        lambda: service.start(
            ctx,
            client_id=principal.client_id,
            service_id=body.service_id,
            return_url=body.return_url,
        )
    )
    url = f"{base}/v1/identifications/{row.id}/tctoken"
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


@router.get(
    "/v1/identifications/bundid/metadata",
    operation_id="bundidMetadata",
    summary="Our SAML service provider metadata (upload it in BundID's self-service portal)",
    response_class=Response,
    responses={200: {"content": {"application/samlmetadata+xml": {}}}},
)
def bundid_metadata(ctx: Ctx) -> Response:
    """entityID, signing and encryption certificates, assertion consumer service."""
    return Response(
        bundid_flow.bundid_client(ctx).metadata(), media_type="application/samlmetadata+xml"
    )


@router.get(
    "/v1/identifications/{identification_id}/bundid",
    operation_id="bundidLogin",
    summary="The citizen's browser: on to BundID with the signed request",
    response_class=HTMLResponse,
)
def bundid_login(ctx: Ctx, identification_id: str) -> HTMLResponse:
    """An auto-submitting form (HTTP-POST binding); shown once."""
    page = bundid_flow.login_page(ctx, identification_id)
    return HTMLResponse(page.html, headers={"Content-Security-Policy": page.csp})


@router.post(
    "/v1/identifications/bundid/acs",
    operation_id="bundidAssertionConsumer",
    summary="BundID posts the citizen's login here; the browser goes on to the portal",
    response_class=RedirectResponse,
    status_code=303,
)
async def bundid_acs(ctx: Ctx, request: Request) -> RedirectResponse:
    """Decrypts and verifies the assertion, then redirects to the portal with a one-time code
    (or ``error=failed``); no personal data in any URL."""
    form = await request.form()
    finished = await run_in_threadpool(
        lambda: bundid_flow.consume(
            ctx,
            saml_response=str(form.get("SAMLResponse", "")),
            relay_state=str(form.get("RelayState", "")),
        )
    )
    return RedirectResponse(with_query(finished.return_url, finished.params), status_code=303)
