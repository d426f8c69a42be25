"""PDF forms next to the online forms: download the fillable PDF, submit it filled, receipts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api import views
from ozg_gateway.api.deps import Ctx, PortalPrincipal
from ozg_gateway.api.idempotency import IdempotencyKey, fingerprint_of, run_idempotent
from ozg_gateway.api.routers.submissions import RequestId
from ozg_gateway.api.schemas import SubmissionOut
from ozg_gateway.api.uploads import receive_upload
from ozg_gateway.cases import intake
from ozg_gateway.cases.documents import inspect_form, pdf_problem
from ozg_gateway.context import GatewayContext
from ozg_gateway.epayment import service as payments
from ozg_gateway.errors import Problem, not_found
from ozg_gateway.forms.registry import FORM_MODELS
from ozg_gateway.mappings.pdf.extract import PdfFormError, PdfInspection, extract
from ozg_gateway.mappings.pdf.generate import build_form_pdf, form_fields, form_version
from ozg_gateway.mappings.pdf.receipt import ReceiptFacts, build_receipt_pdf
from ozg_gateway.store import submissions as store

router = APIRouter(tags=["PDF forms"])
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
_FORM_PURPOSE = "antragsformular"


@router.get(
    "/v1/services/{service_id}/form.pdf",
    operation_id="getServiceFormPdf",
    summary="The fillable PDF form of an offer",
    response_class=Response,
    responses={**_PDF, 404: {"description": "Unknown offer or no form model", **_PROBLEM}},
)
def get_form_pdf(ctx: Ctx, service_id: str) -> Response:
    """Generated from the same form model as the online form, so both always match."""
    offer = ctx.catalog.get(service_id)
    if offer is None or not offer.form_model:
        raise not_found("Das PDF-Formular")
    pdf = build_form_pdf(offer, FORM_MODELS[offer.form_model], ctx.catalog.form_settings(offer.id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{offer.id}.pdf"'},
    )


def _read_filled(
    ctx: GatewayContext, inspection: PdfInspection
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Offer id, form data and applicant of a filled form; Problem on anything unusable."""
    info = inspection.info
    offer = ctx.catalog.get(info.get("offer", ""))
    if offer is None or not offer.form_model or not offer.accepts_online:
        raise pdf_problem(PdfFormError("foreign", "Das Formular gehört zu keiner Online-Leistung."))
    model = FORM_MODELS[offer.form_model]
    if info.get("version") != form_version(model):
        raise pdf_problem(
            PdfFormError("outdated", "Veraltete Formularversion; bitte das aktuelle PDF verwenden.")
        )
    form, applicant = extract(inspection, form_fields(model, ctx.catalog.form_settings(offer.id)))
    return offer.id, form, applicant


@router.post(
    "/v1/submissions/pdf",
    status_code=201,
    operation_id="createSubmissionFromPdf",
    summary="Submit a filled PDF form (or keep it as a draft)",
    response_model=SubmissionOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
    responses={
        400: {"description": "Corrupted PDF", **_PROBLEM},
        415: {"description": "Not a PDF", **_PROBLEM},
        422: {
            "description": "Flattened, encrypted, foreign or outdated PDF, or invalid fields",
            **_PROBLEM,
        },
    },
)
async def create_from_pdf(
    request: Request,
    ctx: Ctx,
    principal: PortalPrincipal,
    rid: RequestId,
    idempotency_key: IdempotencyKey = None,
    draft: Annotated[
        bool,
        Query(
            description="Keep it as a draft: attach an identification (redeem with the "
            "draft's id) or more files, then `POST /v1/submissions/{id}/submit`."
        ),
    ] = False,
) -> JSONResponse:
    """Same validation and errors as JSON, all at once; the original PDF is kept as the
    case's form file. Offers that need an identification take the `draft=true` path."""
    ref = ctx.ids().replace("-", "")
    pending = ctx.blobs.begin(ref)
    try:
        upload = await receive_upload(
            request, pending, limit=ctx.settings.max_attachment_bytes, allowed=("application/pdf",)
        )
        pdf = b"".join(await run_in_threadpool(lambda: list(ctx.blobs.read_pending(pending))))
        service_id, form_data, applicant_raw = _read_filled(ctx, await inspect_form(ctx, pdf))
        offer = intake.offer_for(ctx, service_id)
        form, applicant = intake.validated_form(ctx, offer, form_data, applicant_raw)
    except BaseException:
        pending.discard()
        raise
    fingerprint = fingerprint_of("pdf", service_id, pending.sha256, str(draft))

    def effect(session: Session) -> tuple[int, Any]:
        sub = store.create_submission(
            session,
            keyring=ctx.keyring,
            submission_id=ctx.ids(),
            client_id=principal.client_id,
            service_id=offer.id,
            form_data=form,
            applicant=applicant,
            now=ctx.clock(),
        )
        store.add_attachment(
            keyring=ctx.keyring,
            sub=sub,
            attachment_id=ctx.ids(),
            blob_ref=ref,
            filename=upload.filename,
            purpose=_FORM_PURPOSE,
            content_type="application/pdf",
            size=pending.size,
            sha256=pending.sha256,
            now=ctx.clock(),
            max_count=ctx.settings.max_attachments_per_submission,
        )
        intake.record_audit(ctx, session, principal, "submission.create_from_pdf", sub.id, rid)
        if not draft:
            intake.freeze(ctx, sub, offer, principal, form, applicant)
        pending.place()
        return 201, views.submission_view(ctx, sub)

    return await run_in_threadpool(
        run_idempotent,
        ctx,
        client_id=principal.client_id,
        key=idempotency_key,
        fingerprint=fingerprint,
        effect=effect,
        on_failure=pending.discard,
    )


@router.get(
    "/v1/submissions/{submission_id}/receipt.pdf",
    operation_id="getSubmissionReceipt",
    summary="Receipt (Eingangsbestätigung) of a submitted case",
    response_class=Response,
    responses={
        **_PDF,
        404: {"description": "Unknown", **_PROBLEM},
        409: {"description": "Not submitted yet", **_PROBLEM},
    },
)
def get_receipt(ctx: Ctx, principal: PortalPrincipal, submission_id: str) -> Response:
    """Case number, office, time (Europe/Berlin), fee and payment, identification, the entered
    data under their German labels, the attachments."""
    with ctx.db.reading() as session:
        sub = store.get_submission(
            session, client_id=principal.client_id, submission_id=submission_id
        )
        case = sub.case
        if case is None:
            raise Problem("conflict", detail="Der Antrag ist noch nicht eingereicht.")
        document = store.open_case(ctx.keyring, case)
        payment = payments.latest(session, sub.id)
        facts = ReceiptFacts(
            received_at=case.created_at,
            payment_status=payment.status if payment else None,
            paid_at=payment.paid_at if payment else None,
        )
    offer = ctx.catalog.get(document["service"]["id"])
    model = FORM_MODELS[offer.form_model] if offer and offer.form_model else None
    schema = model.json_schema(ctx.catalog.form_settings(offer.id)) if model and offer else {}
    pdf = build_receipt_pdf(document, form_schema=schema, facts=facts)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{case.case_number}.pdf"'},
    )
