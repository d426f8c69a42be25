"""Service catalogue for portals: what can be done online, as PDF, and what is new."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ozg_gateway.api.deps import Ctx
from ozg_gateway.api.schemas import (
    AttachmentPurposeOut,
    EidOut,
    FeeOut,
    OfficeOut,
    ServiceDetailOut,
    ServiceList,
    ServiceOut,
)
from ozg_gateway.catalog.models import Channel, Offer, ways_to_identify
from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import not_found
from ozg_gateway.forms.applicant import Applicant
from ozg_gateway.forms.registry import FORM_MODELS

router = APIRouter(prefix="/v1/services", tags=["Catalogue"])


def _service(ctx: GatewayContext, offer: Offer) -> ServiceOut:
    return ServiceOut(
        id=offer.id,
        title=offer.title,
        description=offer.description,
        channel=offer.channel.value,
        new=offer.is_new(ctx.today(), ctx.settings.new_window_days),
        new_since=offer.new_since,
        leika_key=offer.leika_key,
        ozg_id=offer.ozg_id,
        office=OfficeOut(name=offer.office.name, ags=offer.office.ags),
        fee=FeeOut(
            amount_cents=offer.fee.amount_cents,
            additional_copy_cents=offer.fee.additional_copy_cents,
            pay_before_delivery=offer.fee.pay_before_delivery,
        ),
        eid=EidOut(
            mode=offer.eid.mode.value,
            min_level=offer.eid.min_level.value if offer.eid.min_level else None,
            methods=list(offer.eid.methods),
            description=_eid_words(offer),
        ),
        pdf_form_url=str(offer.pdf_form_url) if offer.pdf_form_url else None,
        generated_form_pdf_url=(
            f"{ctx.settings.public_base_url.rstrip('/')}/v1/services/{offer.id}/form.pdf"
            if offer.form_model
            else None
        ),
        accepts_online_submissions=offer.accepts_online,
        allow_anonymous=offer.allow_anonymous,
    )


@router.get("", operation_id="listServices", summary="List the service catalogue")
def list_services(
    ctx: Ctx,
    channel: Annotated[Channel | None, Query(description="Only offers on this channel.")] = None,
    new: Annotated[
        bool | None, Query(description="Only new (true) or established (false).")
    ] = None,
) -> ServiceList:
    """Offers of the municipality; filter by channel and by the derived `new` flag."""
    items = [_service(ctx, o) for o in ctx.catalog.offers]
    if channel is not None:
        items = [s for s in items if s.channel == channel.value]
    if new is not None:
        items = [s for s in items if s.new is new]
    m = ctx.catalog.municipality
    return ServiceList(municipality={"name": m.name, "ags": m.ags, "ars": m.ars}, items=items)


@router.get(
    "/{service_id}", operation_id="getService", summary="Get one offer with its form schema"
)
def get_service(ctx: Ctx, service_id: str) -> ServiceDetailOut:
    """One offer with everything a portal needs to render its form: the labelled form
    schema (null for PDF-only offers), the applicant schema and the files it asks for."""
    offer = ctx.catalog.get(service_id)
    if offer is None:
        raise not_found("Das Angebot")
    model = FORM_MODELS.get(offer.form_model) if offer.form_model else None
    settings = ctx.catalog.form_settings(offer.id)
    types = list(ctx.settings.attachment_types)
    return ServiceDetailOut(
        **_service(ctx, offer).model_dump(),
        form_schema=model.json_schema(settings) if model else None,
        applicant_schema=Applicant.model_json_schema(),
        attachment_purposes=[
            AttachmentPurposeOut(
                purpose=a.purpose,
                title=a.label,
                description=a.help,
                required=a.required,
                content_types=[t for t in types if t.startswith("image/")]
                if a.images_only
                else types,
                max_bytes=ctx.settings.max_attachment_bytes,
            )
            for a in (model.attachments if model else ())
        ],
        form_settings=settings.model_dump(mode="json") if settings else None,
    )


_LEVEL_WORDS = {"substantial": "substanziell", "high": "hoch"}


def _eid_words(offer: Offer) -> str:
    """The eID policy as a citizen reads it."""
    eid = offer.eid
    if eid.mode == "none":
        return "Keine Identifizierung nötig."
    level = f" (Vertrauensniveau {_LEVEL_WORDS[eid.min_level.value]})" if eid.min_level else ""
    ways = ways_to_identify(eid.methods)
    if eid.mode == "required":
        return f"Vor dem Einreichen {ways} identifizieren{level}."
    return f"Identifizierung {ways} möglich, aber freiwillig{level}."
