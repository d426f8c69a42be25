"""Service catalogue for portals: what can be done online, as PDF, and what is new."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ozg_gateway.api.deps import Ctx
from ozg_gateway.api.schemas import (
    EidOut,
    FeeOut,
    OfficeOut,
    ServiceDetailOut,
    ServiceList,
    ServiceOut,
)
from ozg_gateway.catalog.models import Channel, Offer
from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import not_found
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
    """One offer including the JSON Schema of its online form (null for PDF-only offers)."""
    offer = ctx.catalog.get(service_id)
    if offer is None:
        raise not_found("Service")
    model = FORM_MODELS.get(offer.form_model) if offer.form_model else None
    settings = ctx.catalog.form_settings(offer.id)
    return ServiceDetailOut(
        **_service(ctx, offer).model_dump(),
        form_schema=model.json_schema() if model else None,
        form_settings=settings.model_dump(mode="json") if settings else None,
    )
