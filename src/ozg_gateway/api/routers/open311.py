"""Open311 GeoReport v2 for issue-report apps: AEM reports in, their status out.

``/open311/v2/{discovery,services,requests}.{json|xml}``. The ``api_key`` (query or form
body, as the spec's swagger declares it) is a portal client's key. A report filed here is a
normal AEM case: same form model, same routing, same status. Reading requests needs the key
too and shows only the reports that key filed (their descriptions are citizens' words).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ozg_gateway.api.deps import Ctx, context_of, resolve_principal
from ozg_gateway.api.guard import limiter_of
from ozg_gateway.api.uploads import sniff
from ozg_gateway.cases import intake
from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import Problem
from ozg_gateway.forms.aem import AemSettings
from ozg_gateway.mappings import georeport
from ozg_gateway.mappings.open311 import build_service_request
from ozg_gateway.store import submissions as store
from ozg_gateway.store.clients import Principal, Role
from ozg_gateway.store.models import Case, Submission

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
Format = Literal["json", "xml"]
OFFER = "aem-meldung"


class Open311Error(Exception):
    """An answer in the spec's error format."""

    def __init__(
        self, status: int, *descriptions: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(descriptions)
        self.status = status
        self.descriptions = descriptions
        self.headers = headers or {}


def _answer(fmt: str, root: str, item: str, items: list[dict[str, Any]]) -> Response:
    if fmt == "xml":
        return Response(georeport.xml(root, item, items), media_type="application/xml")
    return JSONResponse(items)


def error_response(fmt: str, exc: Open311Error) -> Response:
    """The spec's error list with its HTTP status."""
    items = georeport.errors(exc.status, exc.descriptions)
    if fmt == "xml":
        body = georeport.xml("errors", "error", items)
        return Response(
            body, status_code=exc.status, media_type="application/xml", headers=exc.headers
        )
    return JSONResponse(items, status_code=exc.status, headers=exc.headers)


def _settings(ctx: GatewayContext) -> AemSettings:
    settings = ctx.catalog.form_settings(OFFER)
    if not isinstance(settings, AemSettings) or ctx.catalog.get(OFFER) is None:
        raise Open311Error(404, "Dieser Dienst bietet keine Meldungen an.")
    return settings


async def _principal(request: Request, params: dict[str, str]) -> Principal:
    key = params.get("api_key") or request.query_params.get("api_key")
    if not key:
        raise Open311Error(401, "api_key fehlt.")
    try:
        principal = await resolve_principal(context_of(request.app), f"Bearer {key}")
    except Problem:
        raise Open311Error(401, "api_key ungültig.") from None
    if principal.role != Role.portal:
        raise Open311Error(403, "Dieser Schlüssel gehört zu keinem Portal.")
    return principal


def _limit(request: Request, ctx: GatewayContext, principal: Principal) -> None:
    """Per key: the guard counted the address before the body was read; the key is in it."""
    if "open311CreateRequest" not in ctx.settings.limits.rate.operations:
        return
    try:
        limiter_of(request.app, ctx.settings.limits).check(
            operation="open311CreateRequest", client_id=principal.client_id, address=None
        )
    except Problem as problem:
        raise Open311Error(429, problem.detail or "", headers=dict(problem.headers)) from None


def _jurisdiction(ctx: GatewayContext, value: str | None) -> None:
    expected = ctx.settings.open311_jurisdiction_id
    if expected and value and value != expected:
        raise Open311Error(404, f"jurisdiction_id: unbekannt (erwartet {expected}).")


@router.get("/discovery.{fmt}", operation_id="open311Discovery", summary="Open311 discovery")
def discovery(ctx: Ctx, fmt: Format) -> Response:
    """Where the endpoint is and which formats it speaks."""
    base = ctx.settings.public_base_url.rstrip("/") + "/open311/v2/"
    info = {
        "changeset": "2026-12-01",
        "contact": ctx.catalog.municipality.name,
        "key_service": "API-Schlüssel vergibt die Stadtverwaltung (Portal-Client).",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-12-01",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "xml":
        return Response(georeport.xml_object("discovery", info), media_type="application/xml")
    return JSONResponse(info)


@router.get("/services.{fmt}", operation_id="open311Services", summary="Report categories")
def list_services(ctx: Ctx, fmt: Format, jurisdiction_id: str | None = None) -> Response:
    """One service per AEM category with a service code."""
    try:
        _jurisdiction(ctx, jurisdiction_id)
        items = georeport.services(_settings(ctx), group=ctx.catalog.get(OFFER).title)  # type: ignore[union-attr]
    except Open311Error as exc:
        return error_response(fmt, exc)
    return _answer(fmt, "services", "service", items)


@router.get(
    "/services/{service_code}.{fmt}",
    operation_id="open311ServiceDefinition",
    summary="Attributes of a report category",
)
def service_definition(ctx: Ctx, service_code: str, fmt: Format) -> Response:
    """The report-or-suggestion attribute."""
    try:
        if not any(k.service_code == service_code for k in _settings(ctx).kategorien):
            raise Open311Error(404, "service_code: unbekannter Dienst.")
    except Open311Error as exc:
        return error_response(fmt, exc)
    body = georeport.definition(service_code)
    if fmt == "xml":
        return Response(
            georeport.xml_object("service_definition", body), media_type="application/xml"
        )
    return JSONResponse(body)


async def _fields(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    media = form.get("media")
    return fields, media if isinstance(media, UploadFile) and media.filename else None


@router.post(
    "/requests.{fmt}",
    operation_id="open311CreateRequest",
    summary="File an issue report (form fields; a photo as `media`)",
)
async def create_request(request: Request, ctx: Ctx, fmt: Format) -> Response:
    """The report becomes a normal AEM case; answers its case number as service_request_id."""
    try:
        fields, media = await _fields(request)
        params = {**dict(request.query_params), **fields}
        principal = await _principal(request, params)
        _limit(request, ctx, principal)
        _jurisdiction(ctx, params.get("jurisdiction_id"))
        form_data, applicant, problems = georeport.form_from_post(params, _settings(ctx))
        photo = await media.read(ctx.settings.max_attachment_bytes + 1) if media else None
        if photo is not None and (
            len(photo) > ctx.settings.max_attachment_bytes or sniff(photo[:16]) is None
        ):
            problems.append("media: nur JPEG- oder PNG-Bilder bis zur erlaubten Größe.")
        offer = intake.offer_for(ctx, OFFER)
        try:
            form, contact = intake.validated_form(ctx, offer, form_data, applicant)
        except Problem as problem:
            problems += [f"{e.pointer.rsplit('/', 1)[-1]}: {e.detail}" for e in problem.errors]
        if problems:
            raise Open311Error(400, *problems)
        number = await run_in_threadpool(
            _file, ctx, principal, offer, form, contact, photo, media.filename if media else None
        )
    except Open311Error as exc:
        return error_response(fmt, exc)
    notice = f"Ihre Meldung ist eingegangen: {offer.office.name} kümmert sich darum."
    return _answer(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": number, "service_notice": notice, "account_id": None}],
    )


def _file(
    ctx: GatewayContext,
    principal: Principal,
    offer: Any,
    form: dict[str, Any],
    contact: dict[str, Any] | None,
    photo: bytes | None,
    filename: str | None,
) -> str:
    """Submission, photo and case in one transaction; returns the case number."""
    ref = ctx.ids().replace("-", "")
    pending = ctx.blobs.begin(ref) if photo else None
    if pending is not None and photo is not None:
        pending.write(photo)
        pending.finish()
    try:
        with ctx.db.writing() as session:
            sub = store.create_submission(
                session,
                keyring=ctx.keyring,
                submission_id=ctx.ids(),
                client_id=principal.client_id,
                service_id=offer.id,
                form_data=form,
                applicant=contact,
                now=ctx.clock(),
            )
            if pending is not None:
                store.add_attachment(
                    keyring=ctx.keyring,
                    sub=sub,
                    attachment_id=ctx.ids(),
                    blob_ref=ref,
                    filename=filename or "foto",
                    purpose="foto",
                    content_type=sniff((photo or b"")[:16]) or "image/jpeg",
                    size=pending.size,
                    sha256=pending.sha256,
                    now=ctx.clock(),
                    max_count=ctx.settings.max_attachments_per_submission,
                )
            intake.freeze(ctx, sub, offer, principal, form, contact)
            intake.record_audit(ctx, session, principal, "submission.open311", sub.id, None)
            if pending is not None:
                pending.place()
            assert sub.case is not None
            return sub.case.case_number
    except BaseException:
        if pending is not None:
            pending.discard()
        raise


def _request_view(ctx: GatewayContext, case: Case) -> dict[str, Any]:
    settings = ctx.catalog.form_settings(OFFER)
    assert isinstance(settings, AemSettings)
    document = store.open_case(ctx.keyring, case)
    # the case document keeps every applied status update, the last one is the current state
    last = (document.get("status_updates") or [{}])[-1]
    return build_service_request(
        document,
        settings=settings,
        status="closed" if last.get("monitor_status") == "COMPLETED" else "open",
        status_notes=last.get("note"),
        updated=last.get("occurred_at") or case.updated_at.isoformat(),
    )


@router.get("/requests.{fmt}", operation_id="open311ListRequests", summary="Reports filed")
async def list_requests(
    request: Request,
    ctx: Ctx,
    fmt: Format,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Literal["open", "closed"] | None = None,
) -> Response:
    """The spec's filters; ``service_request_id`` (comma-separated) overrides the others."""
    try:
        principal = await _principal(request, {})
    except Open311Error as exc:
        return error_response(fmt, exc)

    def load() -> list[dict[str, Any]]:
        query = (
            select(Case)
            .join(Submission, Submission.id == Case.submission_id)
            .where(Submission.client_id == principal.client_id, Case.service_id == OFFER)
            .order_by(Case.created_at.desc())
            .limit(1000)
        )
        if service_request_id:
            query = query.where(Case.case_number.in_(service_request_id.split(",")))
        else:
            if start_date:
                query = query.where(Case.created_at >= start_date)
            if end_date:
                query = query.where(Case.created_at <= end_date)
        with ctx.db.reading() as session:
            items = [_request_view(ctx, c) for c in session.scalars(query)]
        if not service_request_id:
            items = [
                i
                for i in items
                if (status is None or i["status"] == status)
                and (service_code is None or i["service_code"] == service_code)
            ]
        return items

    return _answer(fmt, "service_requests", "request", await run_in_threadpool(load))


@router.get(
    "/requests/{service_request_id}.{fmt}",
    operation_id="open311GetRequest",
    summary="One report with its status",
)
async def get_request(request: Request, ctx: Ctx, service_request_id: str, fmt: Format) -> Response:
    """``status`` open/closed, ``status_notes``, ``agency_responsible``, ``updated_datetime``
    from the back office's status."""
    response = await list_requests(request, ctx, fmt, service_request_id=service_request_id)
    empty = b"<request>" not in bytes(response.body) if fmt == "xml" else response.body == b"[]"
    if response.status_code == 200 and empty:
        return error_response(fmt, Open311Error(404, "service_request_id: unbekannt."))
    return response
