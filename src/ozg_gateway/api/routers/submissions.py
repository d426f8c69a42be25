"""Submission intake for portals: create, attach, submit, track."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api import views
from ozg_gateway.api.deps import Ctx, PortalPrincipal, request_id
from ozg_gateway.api.downloads import file_response
from ozg_gateway.api.idempotency import (
    IdempotencyKey,
    body_fingerprint,
    fingerprint_of,
    run_idempotent,
)
from ozg_gateway.api.schemas import (
    AttachmentOut,
    SubmissionCreate,
    SubmissionOut,
    SubmissionUpdate,
)
from ozg_gateway.api.uploads import receive_upload
from ozg_gateway.cases import intake
from ozg_gateway.cases import status as case_status
from ozg_gateway.cases.documents import refuse_active_content
from ozg_gateway.errors import Problem, not_found
from ozg_gateway.store import submissions as store

router = APIRouter(prefix="/v1/submissions", tags=["Submissions"])
Fingerprint = Annotated[str, Depends(body_fingerprint)]
RequestId = Annotated[str | None, Depends(request_id)]

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON", **_PROBLEM},
    401: {"description": "Missing or unknown key", **_PROBLEM},
    403: {"description": "Not a portal client", **_PROBLEM},
    404: {"description": "Unknown submission (or another portal's)", **_PROBLEM},
    409: {"description": "Not a draft any more, or Idempotency-Key reused", **_PROBLEM},
    422: {"description": "Field errors with JSON pointers", **_PROBLEM},
}


@router.post(
    "",
    status_code=201,
    operation_id="createSubmission",
    summary="Create a submission (draft, or submitted at once with `submit: true`)",
    response_model=SubmissionOut,
    responses=_ERRORS,
)
def create_submission(
    ctx: Ctx,
    principal: PortalPrincipal,
    body: SubmissionCreate,
    fingerprint: Fingerprint,
    rid: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a draft for an online offer. Upload attachments next, then submit it."""
    offer = intake.offer_for(ctx, body.service_id)
    applicant = body.applicant
    # Validation is pure: do it before the write transaction starts. Drafts are only bounded.
    form = None
    if body.submit:
        form, applicant = intake.validated_form(ctx, offer, body.form_data, body.applicant)
    else:
        intake.check_form_size(ctx, body.form_data)
        applicant = intake.validated_contact(body.applicant)

    def effect(session: Session) -> tuple[int, Any]:
        sub = store.create_submission(
            session,
            keyring=ctx.keyring,
            submission_id=ctx.ids(),
            client_id=principal.client_id,
            service_id=offer.id,
            form_data=body.form_data,
            applicant=applicant,
            now=ctx.clock(),
        )
        intake.record_audit(ctx, session, principal, "submission.create", sub.id, rid)
        if form is not None:
            intake.freeze(ctx, sub, offer, principal, form, applicant)
            intake.record_audit(ctx, session, principal, "submission.submit", sub.id, rid)
        return 201, views.submission_view(ctx, sub)

    response = run_idempotent(
        ctx,
        client_id=principal.client_id,
        key=idempotency_key,
        fingerprint=fingerprint,
        effect=effect,
    )
    if response.status_code == 201:
        response.headers["Location"] = f"/v1/submissions/{_id_of(response)}"
    return response


def _id_of(response: JSONResponse) -> str:
    return str(json.loads(bytes(response.body))["id"])


@router.get(
    "/{submission_id}",
    operation_id="getSubmission",
    summary="Status, attachments and timeline of a submission",
    responses=_ERRORS,
)
def get_submission(ctx: Ctx, principal: PortalPrincipal, submission_id: str) -> SubmissionOut:
    """A portal sees only its own submissions."""
    with ctx.db.reading() as session:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id
        )
        return SubmissionOut.model_validate(views.submission_view(ctx, sub))


@router.get(
    "/{submission_id}/documents/{document_id}",
    operation_id="downloadStatusDocument",
    summary="Download a document the office sent with a status update (a notice PDF)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}}}, **_ERRORS},
)
def download_status_document(
    ctx: Ctx, principal: PortalPrincipal, submission_id: str, document_id: int
) -> StreamingResponse:
    """The timeline step's ``document.href``; only the portal that filed the application."""
    with ctx.db.reading() as session:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id
        )
        row = (
            case_status.document_of(session, case_id=sub.case.id, document_id=document_id)
            if sub.case is not None
            else None
        )
        if row is None or row.document_ref is None:
            raise not_found("Das Dokument")
        filename = case_status.document_filename(ctx, row)
    return file_response(
        ctx,
        ref=row.document_ref,
        filename=filename,
        content_type=row.document_type or "application/pdf",
        size=row.document_size or 0,
        sha256=row.document_sha256 or "",
    )


@router.patch(
    "/{submission_id}",
    operation_id="updateSubmission",
    summary="Replace form data or applicant of a draft",
    responses=_ERRORS,
)
def update_submission(
    ctx: Ctx, principal: PortalPrincipal, submission_id: str, body: SubmissionUpdate, rid: RequestId
) -> SubmissionOut:
    """Fields given replace the stored ones; validation happens on submit."""
    if body.form_data is not None:
        intake.check_form_size(ctx, body.form_data)
    contact = intake.validated_contact(body.applicant)
    with ctx.db.writing() as session:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id, lock=True
        )
        store.update_submission(
            keyring=ctx.keyring,
            sub=sub,
            form_data=body.form_data,
            applicant=contact,
            now=ctx.clock(),
        )
        intake.record_audit(ctx, session, principal, "submission.update", sub.id, rid)
        return SubmissionOut.model_validate(views.submission_view(ctx, sub))


@router.post(
    "/{submission_id}/submit",
    operation_id="submitSubmission",
    summary="Validate and freeze a draft into a case",
    response_model=SubmissionOut,
    responses=_ERRORS,
)
def submit_submission(
    ctx: Ctx,
    principal: PortalPrincipal,
    submission_id: str,
    fingerprint: Fingerprint,
    rid: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Validates form data with the offer's form model; on success the case number is returned."""

    def effect(session: Session) -> tuple[int, Any]:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id, lock=True
        )
        if sub.status != store.DRAFT:
            raise Problem("conflict", detail="Der Antrag ist schon eingereicht.")
        offer = intake.offer_for(ctx, sub.service_id)
        applicant = store.open_applicant(ctx.keyring, sub)
        form, contact = intake.validated_form(
            ctx, offer, store.open_form(ctx.keyring, sub), applicant
        )
        intake.freeze(ctx, sub, offer, principal, form, contact)
        intake.record_audit(ctx, session, principal, "submission.submit", sub.id, rid)
        return 200, views.submission_view(ctx, sub)

    return run_idempotent(
        ctx,
        client_id=principal.client_id,
        key=idempotency_key,
        fingerprint=fingerprint,
        effect=effect,
    )


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "PDF, JPEG or PNG (sniffed); size limit per config.",
                    },
                    "purpose": {
                        "type": "string",
                        "maxLength": 64,
                        "description": "What the file proves, e.g. `nachweis-berufstaetigkeit`.",
                    },
                },
            }
        }
    },
}


@router.post(
    "/{submission_id}/attachments",
    status_code=201,
    operation_id="uploadAttachment",
    summary="Upload one file to a draft (streamed multipart)",
    response_model=AttachmentOut,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={
        **_ERRORS,
        413: {"description": "File too large", **_PROBLEM},
        415: {"description": "Not PDF, JPEG or PNG", **_PROBLEM},
    },
)
async def upload_attachment(
    request: Request,
    ctx: Ctx,
    principal: PortalPrincipal,
    submission_id: str,
    rid: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The body is streamed, sniffed, hashed (SHA-256) and encrypted while it arrives."""

    def precheck() -> None:
        with ctx.db.reading() as session:
            sub = store.get_submission(
                session, client_id=principal.client_id, submission_id=submission_id
            )
            store.require_draft(sub)

    await run_in_threadpool(precheck)
    ref = ctx.ids().replace("-", "")
    pending = ctx.blobs.begin(ref)
    try:
        upload = await receive_upload(
            request,
            pending,
            limit=ctx.settings.max_attachment_bytes,
            allowed=ctx.settings.attachment_types,
        )
        if upload.content_type == "application/pdf":
            pdf = b"".join(await run_in_threadpool(lambda: list(ctx.blobs.read_pending(pending))))
            await refuse_active_content(ctx, pdf)
    except BaseException:
        pending.discard()
        raise
    fingerprint = fingerprint_of(
        "upload", submission_id, upload.filename, upload.purpose or "", pending.sha256
    )

    def effect(session: Session) -> tuple[int, Any]:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id, lock=True
        )
        att = store.add_attachment(
            keyring=ctx.keyring,
            sub=sub,
            attachment_id=ctx.ids(),
            blob_ref=ref,
            filename=upload.filename,
            purpose=upload.purpose,
            content_type=upload.content_type,
            size=pending.size,
            sha256=pending.sha256,
            now=ctx.clock(),
            max_count=ctx.settings.max_attachments_per_submission,
        )
        intake.record_audit(ctx, session, principal, "attachment.upload", att.id, rid, "attachment")
        pending.place()  # bytes in place before the row commits: a row never lacks its bytes
        out = AttachmentOut(
            id=att.id,
            filename=upload.filename,
            purpose=att.purpose,
            content_type=att.content_type,
            size=att.size,
            sha256=att.sha256,
            created_at=att.created_at,
        )
        return 201, out.model_dump(mode="json")

    return await run_in_threadpool(
        run_idempotent,
        ctx,
        client_id=principal.client_id,
        key=idempotency_key,
        fingerprint=fingerprint,
        effect=effect,
        on_failure=pending.discard,
    )


@router.delete(
    "/{submission_id}/attachments/{attachment_id}",
    status_code=204,
    operation_id="deleteAttachment",
    summary="Remove a file from a draft",
    responses=_ERRORS,
)
def delete_attachment(
    ctx: Ctx, principal: PortalPrincipal, submission_id: str, attachment_id: str, rid: RequestId
) -> Response:
    """The bytes are deleted after the removal committed."""
    with ctx.db.writing() as session:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id, lock=True
        )
        ref = store.remove_attachment(sub=sub, attachment_id=attachment_id, now=ctx.clock())
        intake.record_audit(
            ctx, session, principal, "attachment.delete", attachment_id, rid, "attachment"
        )
    ctx.blobs.delete(ref)
    return Response(status_code=204)
