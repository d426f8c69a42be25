"""Back-office access: read cases, the pull inbox (lease / ack / nack), attachment downloads."""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ozg_gateway.api import cursors
from ozg_gateway.api.deps import BackofficePrincipal, Ctx, request_id
from ozg_gateway.api.downloads import file_response
from ozg_gateway.api.idempotency import IdempotencyKey, body_fingerprint, run_idempotent
from ozg_gateway.api.schemas import (
    AckRequest,
    CaseList,
    CaseListItem,
    CaseOut,
    CaseStatusIn,
    CaseStatusOut,
    LeaseOut,
    LeaseRequest,
    NackRequest,
)
from ozg_gateway.cases import status as case_status
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.delivery.policy import PENDING
from ozg_gateway.errors import FieldError, Problem, not_found
from ozg_gateway.inbox import leases as inbox
from ozg_gateway.mappings import formats
from ozg_gateway.store import audit
from ozg_gateway.store import submissions as store
from ozg_gateway.store.clients import Principal
from ozg_gateway.store.models import Attachment, Case, Delivery

router = APIRouter(prefix="/v1/cases", tags=["Back office"])
Fingerprint = Annotated[str, Depends(body_fingerprint)]
RequestId = Annotated[str | None, Depends(request_id)]
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _case_out(ctx: GatewayContext, case: Case) -> CaseOut:
    return CaseOut(
        id=case.id,
        case_number=case.case_number,
        service_id=case.service_id,
        status=case.status,
        created_at=case.created_at,
        document=store.open_case(ctx.keyring, case),
    )


def _visible_case(session: Session, principal: Principal, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or not principal.may_see_offer(case.service_id):
        raise not_found("Der Vorgang")
    return case


_InboxState = Literal["available", "leased", "delivered", "dead", "cancelled", "in_flight", "held"]


def _delivery_status(d: Delivery, now: datetime) -> _InboxState:
    if d.status == PENDING or (d.status == outbox.LEASED and (d.claimed_until or now) < now):
        return "available"
    return d.status  # type: ignore[return-value]


@router.get("", operation_id="listCases", summary="The pull inbox: cases routed to pull connectors")
def list_cases(
    ctx: Ctx,
    principal: BackofficePrincipal,
    status: Annotated[
        Literal["available", "leased", "delivered", "dead"] | None,
        Query(description="Inbox state; default: all."),
    ] = None,
    service: Annotated[str | None, Query(description="Only this offer.")] = None,
    since: Annotated[datetime | None, Query(description="Cases created at or after.")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CaseList:
    """Oldest first; a back-office client sees only the offers it is configured for."""
    now = ctx.clock()
    with ctx.db.reading() as session:
        items = inbox.list_items(
            session,
            connectors=ctx.connectors.pulling(),
            offers=principal.offers,
            status=status,
            service=service,
            since=since,
            after=cursors.decode(cursor),
            limit=limit,
            now=now,
        )
    out = [
        CaseListItem(
            id=i.case.id,
            case_number=i.case.case_number,
            service_id=i.case.service_id,
            created_at=i.case.created_at,
            connector=i.delivery.connector,
            delivery_status=_delivery_status(i.delivery, now),
            leased_until=i.delivery.claimed_until if i.delivery.status == outbox.LEASED else None,
        )
        for i in items
    ]
    last = items[-1].case if len(items) == limit else None
    return CaseList(
        items=out, next_cursor=cursors.encode(last.created_at, last.id) if last else None
    )


@router.post(
    "/{case_id}/status",
    operation_id="reportCaseStatus",
    summary="Report a case's processing status (back office)",
    responses={404: {"description": "Unknown or not your offer", **_PROBLEM}},
)
def report_status(
    ctx: Ctx, principal: BackofficePrincipal, case_id: str, body: CaseStatusIn, rid: RequestId
) -> CaseStatusOut:
    """Moves the case forward only: repeated, late (``occurred_at`` before the last update)
    or backward updates change nothing and answer with where the case stands."""
    document = _status_document(body)
    with ctx.db.writing() as session:
        case = _visible_case(session, principal, case_id)
        state, changed = case_status.report(
            ctx,
            session,
            case=case,
            status=body.status,
            note=body.note,
            occurred_at=body.occurred_at or ctx.clock(),
            reported_by=principal.client_id,
            update_id=body.update_id,
            document=document,
        )
        if changed:
            audit.record_by(
                session,
                principal=principal,
                action="case.status",
                target_type="case",
                target_id=case.id,
                at=ctx.clock(),
                request_id=rid,
            )
    return CaseStatusOut(
        status=state.status,
        monitor_status=state.monitor,
        note=state.note,
        occurred_at=state.occurred_at,
        changed=changed,
    )


def _status_document(body: CaseStatusIn) -> case_status.StatusDocument | None:
    """The decoded document of an update, checked before anything is written."""
    if body.document is None:
        return None
    try:
        data = body.document.data
    except binascii.Error:
        data = b""
    document = case_status.StatusDocument(
        filename=body.document.filename, content_type=body.document.content_type, data=data
    )
    problem = case_status.document_problem(document)
    if problem is not None:
        raise Problem(
            "validation-error",
            detail=problem,
            errors=[FieldError("/document/content_base64", "invalid_document", problem)],
        )
    return document


@router.get("/{case_id}", operation_id="getCase", summary="Get a normalized case")
def get_case(ctx: Ctx, principal: BackofficePrincipal, case_id: str) -> CaseOut:
    """A back-office client sees only cases of the offers it is configured for."""
    with ctx.db.reading() as session:
        return _case_out(ctx, _visible_case(session, principal, case_id))


@router.post(
    "/{case_id}/lease",
    operation_id="leaseCase",
    summary="Take a case exclusively for a while",
    response_model=LeaseOut,
    responses={
        404: {"description": "Not in your inbox", **_PROBLEM},
        409: {"description": "Held by another consumer or done", **_PROBLEM},
    },
)
def lease_case(
    ctx: Ctx,
    principal: BackofficePrincipal,
    case_id: str,
    fingerprint: Fingerprint,
    rid: RequestId,
    body: LeaseRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Until `leased_until` no other consumer gets this case; an expired lease returns it."""
    seconds = (body.lease_seconds if body else None) or ctx.settings.delivery.pull_lease_seconds

    def effect(session: Session) -> tuple[int, Any]:
        case = _visible_case(session, principal, case_id)
        delivery, token = inbox.lease(
            session,
            case_id=case_id,
            connectors=ctx.connectors.pulling(),
            offers=principal.offers,
            consumer=principal.client_id,
            seconds=seconds,
            now=ctx.clock(),
        )
        audit.record_by(
            session,
            principal=principal,
            action="case.lease",
            target_type="case",
            target_id=case_id,
            at=ctx.clock(),
            request_id=rid,
        )
        assert delivery.claimed_until is not None
        out = LeaseOut(
            case_id=case_id,
            lease_token=token,
            leased_until=delivery.claimed_until,
            case=_case_out(ctx, case),
        )
        return 200, out.model_dump(mode="json")

    return run_idempotent(
        ctx,
        client_id=principal.client_id,
        key=idempotency_key,
        fingerprint=fingerprint,
        effect=effect,
    )


def _settle(
    ctx: GatewayContext,
    principal: Principal,
    case_id: str,
    *,
    token: str,
    outcome: str,
    reference: str | None,
    reason: str | None,
    fingerprint: str,
    key: str | None,
    rid: str | None,
    status: CaseStatusIn | None = None,
) -> JSONResponse:
    def effect(session: Session) -> tuple[int, Any]:
        case = _visible_case(session, principal, case_id)
        now = ctx.clock()
        delivery = inbox.settle(
            session,
            case_id=case_id,
            connectors=ctx.connectors.pulling(),
            offers=principal.offers,
            token=token,
            outcome=outcome,
            reference=reference,
            reason=reason,
            consumer=principal.client_id,
            started_at=now,
            now=now,
        )
        audit.record_by(
            session,
            principal=principal,
            action=f"case.{outcome}",
            target_type="case",
            target_id=case_id,
            at=now,
            request_id=rid,
        )
        if status is not None:  # the first word on processing, with the acknowledgement
            case_status.report(
                ctx,
                session,
                case=case,
                status=status.status,
                note=status.note,
                occurred_at=status.occurred_at or now,
                reported_by=principal.client_id,
                update_id=status.update_id,
            )
        return 200, {"case_id": case_id, "delivery_status": delivery.status}

    return run_idempotent(
        ctx, client_id=principal.client_id, key=key, fingerprint=fingerprint, effect=effect
    )


@router.post(
    "/{case_id}/ack",
    operation_id="ackCase",
    summary="Confirm a leased case was taken over",
    responses={409: {"description": "No valid lease with this token", **_PROBLEM}},
)
def ack_case(
    ctx: Ctx,
    principal: BackofficePrincipal,
    case_id: str,
    body: AckRequest,
    fingerprint: Fingerprint,
    rid: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The case counts as delivered, with your reference."""
    return _settle(
        ctx,
        principal,
        case_id,
        token=body.lease_token,
        outcome="ack",
        reference=body.reference,
        reason=None,
        fingerprint=fingerprint,
        key=idempotency_key,
        rid=rid,
        status=body.status,
    )


@router.post(
    "/{case_id}/nack",
    operation_id="nackCase",
    summary="Give a leased case back, or reject it",
    responses={409: {"description": "No valid lease with this token", **_PROBLEM}},
)
def nack_case(
    ctx: Ctx,
    principal: BackofficePrincipal,
    case_id: str,
    body: NackRequest,
    fingerprint: Fingerprint,
    rid: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """`retry: true` puts it back into the inbox; `retry: false` makes it a dead letter."""
    return _settle(
        ctx,
        principal,
        case_id,
        token=body.lease_token,
        outcome="retry" if body.retry else "reject",
        reference=None,
        reason=body.reason,
        fingerprint=fingerprint,
        key=idempotency_key,
        rid=rid,
    )


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    operation_id="downloadCaseAttachment",
    summary="Download an attachment; compare its SHA-256",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
def download_attachment(
    ctx: Ctx, principal: BackofficePrincipal, case_id: str, attachment_id: str
) -> StreamingResponse:
    """Streamed and decrypted on the fly; `Repr-Digest` (RFC 9530) carries the SHA-256."""
    with ctx.db.reading() as session:
        case = _visible_case(session, principal, case_id)
        att = session.scalar(
            select(Attachment).where(Attachment.id == attachment_id, _files_of(case))
        )
        if att is None:
            raise not_found("Die Anlage")
        filename = store.open_filename(ctx.keyring, att)
    return file_response(
        ctx,
        ref=att.blob_ref,
        filename=filename,
        content_type=att.content_type,
        size=att.size,
        sha256=att.sha256,
    )


@router.get(
    "/{case_id}/formats/{name}",
    operation_id="getCaseFormat",
    summary="The case in a standard format",
    responses={
        200: {"content": {"application/xml": {}, "application/json": {}}},
        404: {"description": "Unknown case, or format not applicable", **_PROBLEM},
    },
)
def get_case_format(
    ctx: Ctx,
    principal: BackofficePrincipal,
    case_id: str,
    name: Annotated[
        Literal["xfall", "fitconnect-data", "fitconnect-metadata", "open311", "xpersonenstand"],
        Path(description="`open311` for AEM reports, `xpersonenstand` for certificate orders."),
    ],
) -> Response:
    """XFall 2.0, FIT-Connect data and metadata 1.0.0, Open311 request, XPersonenstand-aligned."""
    with ctx.db.reading() as session:
        case = _visible_case(session, principal, case_id)
        document = store.open_case(ctx.keyring, case)
        blob_refs = {
            a.id: a.blob_ref for a in session.scalars(select(Attachment).where(_files_of(case)))
        }
    try:
        body, media_type = formats.render(
            document,
            name,
            catalog=ctx.catalog,
            now=ctx.clock(),
            new_id=ctx.ids,
            attachment_sha512=lambda att_id: _sha512(ctx, blob_refs[att_id]),
        )
    except formats.NotApplicable as exc:
        raise Problem("not-found", detail=str(exc)) from None
    return Response(body, media_type=media_type)


def _sha512(ctx: GatewayContext, ref: str) -> str:
    digest = hashlib.sha512()
    for chunk in ctx.blobs.read(ref):
        digest.update(chunk)
    return digest.hexdigest()


def _files_of(case: Case) -> ColumnElement[bool]:
    """Portal cases keep their files on the submission, inbound cases on the case."""
    if case.submission_id:
        return Attachment.submission_id == case.submission_id
    return Attachment.case_id == case.id
