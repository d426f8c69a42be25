"""How the API shows stored things to portals (no form data echoed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect as orm_state

from ozg_gateway.api.schemas import (
    AttachmentOut,
    CaseRef,
    FeeState,
    Hold,
    IdentificationState,
    StatusDocumentOut,
    SubmissionOut,
    TimelineItem,
)
from ozg_gateway.cases import status as case_status
from ozg_gateway.catalog.models import Offer, ways_to_identify
from ozg_gateway.context import GatewayContext
from ozg_gateway.epayment import service as payments
from ozg_gateway.mappings.pdf.receipt import LEVELS, euro
from ozg_gateway.store import submissions as store
from ozg_gateway.store.models import Submission, TimelineEvent


def timeline_title(event: TimelineEvent, offer: Offer | None) -> str:
    """One step in German for the citizen: the receiving office by name, never a system."""
    office = offer.office.name if offer else "die zuständige Stelle"
    detail = event.detail or ""
    fixed = {
        "created": "Entwurf angelegt",
        "updated": "Entwurf geändert",
        "attachment_added": "Anlage hinzugefügt",
        "attachment_removed": "Anlage entfernt",
        "identified": "Mit dem Online-Ausweis identifiziert",
        "identified_bundid": "Über BundID identifiziert",
        "awaiting_payment": f"Wartet auf die Zahlung der Gebühr ({detail})".replace(" ()", ""),
        "delivered": f"An {office} übermittelt",
        "delivery_failed": f"Übermittlung an {office} verzögert sich; sie wird wiederholt",
        "payment_paid": f"Gebühr bezahlt ({detail.removeprefix('Gebühr ')})",
        "payment_open": "Zahlung begonnen",
        "payment_failed": "Zahlung fehlgeschlagen",
        "payment_canceled": "Zahlung abgebrochen",
        "payment_expired": "Zahlung abgelaufen",
        "payment_refunded": "Gebühr erstattet",
        "status_received": f"{office} hat den Antrag erhalten",
        "status_in_progress": "Der Antrag wird bearbeitet",
        "status_action_required": "Die zuständige Stelle braucht noch etwas von Ihnen",
        "status_completed": "Der Antrag ist erledigt",
        "status_rejected": "Der Antrag wurde abgelehnt",
        "status_withdrawn": "Der Antrag wurde zurückgezogen",
    }
    if event.status == "submitted":
        number = detail.removeprefix("Fall ").removesuffix(" angelegt")
        return f"Antrag eingereicht, Vorgangsnummer {number}" if number else "Antrag eingereicht"
    return fixed.get(event.status, event.status.replace("_", " "))


def _fee(ctx: GatewayContext, sub: Submission, offer: Offer | None) -> FeeState:
    amount = offer.fee.amount_cents if offer else 0
    before = bool(offer and offer.fee.pay_before_delivery)
    free = offer is None or (offer.fee.amount_cents == 0 and offer.fee.additional_copy_cents == 0)
    if sub.case is not None and not free:  # the total depends on the copies ordered
        amount = int(store.open_case(ctx.keyring, sub.case)["fee"]["amount_cents"])
    if amount == 0:
        return FeeState(amount_cents=0, pay_before_delivery=before, status="none")
    session = orm_state(sub).session
    payment = payments.latest(session, sub.id) if session is not None else None
    status = payment.status if payment is not None else "due"
    return FeeState(amount_cents=amount, pay_before_delivery=before, status=status)


def _identification(
    ctx: GatewayContext, sub: Submission, offer: Offer | None
) -> IdentificationState:
    policy = offer.eid.mode.value if offer else "none"
    identity = store.open_identity(ctx.keyring, sub)
    if identity is not None:
        level = LEVELS.get(str(identity.get("level", "")).lower())
        method = "bundid" if identity.get("method") == "bundid" else "eid-server"
        return IdentificationState(policy=policy, status="attached", level=level, method=method)
    offered = offer.eid.methods if offer else ()
    needed = policy == "required" and bool(ctx.settings.identification_methods(offered))
    return IdentificationState(policy=policy, status="missing" if needed else "not_needed")


def _hold(
    sub: Submission, fee: FeeState, ident: IdentificationState, offer: Offer | None
) -> Hold | None:
    if sub.status != store.SUBMITTED:
        if ident.status == "missing":
            ways = ways_to_identify(offer.eid.methods if offer else ())
            return Hold(reason=f"Vor dem Einreichen bitte {ways} identifizieren.")
        return None
    if fee.pay_before_delivery and fee.status not in ("none", "paid", "refunded"):
        return Hold(
            reason=f"Der Antrag wird weitergeleitet, sobald die Gebühr von "
            f"{euro(fee.amount_cents)} bezahlt ist."
        )
    return None


def submission_view(ctx: GatewayContext, sub: Submission) -> dict[str, Any]:
    """The portal's view of a submission (no form data echoed)."""
    offer = ctx.catalog.get(sub.service_id)
    attachments = [
        AttachmentOut(
            id=a.id,
            filename=store.open_filename(ctx.keyring, a),
            purpose=a.purpose,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            created_at=a.created_at,
        )
        for a in sub.attachments
    ]
    case = sub.case
    fee = _fee(ctx, sub, offer)
    ident = _identification(ctx, sub, offer)
    session = orm_state(sub).session
    processing = "SUBMITTED" if case else "DRAFT"
    shown: dict[tuple[str, datetime], case_status.Shown] = {}
    if case is not None and session is not None:
        processing, shown = case_status.for_portal(ctx, session, case)
    out = SubmissionOut(
        id=sub.id,
        service_id=sub.service_id,
        status="submitted" if sub.status == store.SUBMITTED else "draft",
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        submitted_at=sub.submitted_at,
        attachments=attachments,
        case=CaseRef(id=case.id, case_number=case.case_number, status=case.status)
        if case
        else None,
        fee=fee,
        identification=ident,
        hold=_hold(sub, fee, ident, offer),
        processing=processing,
        timeline=[
            _step(sub, e, offer, shown.get((e.status.removeprefix("status_"), e.at)))
            for e in sub.events
        ],
    )
    return out.model_dump(mode="json")


def _step(
    sub: Submission, event: TimelineEvent, offer: Offer | None, shown: case_status.Shown | None
) -> TimelineItem:
    document = None
    if shown is not None and shown.document_id is not None:
        document = StatusDocumentOut(
            filename=shown.filename or "Dokument.pdf",
            content_type=shown.content_type or "application/pdf",
            size=shown.size or 0,
            href=f"/v1/submissions/{sub.id}/documents/{shown.document_id}",
        )
    return TimelineItem(
        at=event.at,
        status=event.status,
        title=timeline_title(event, offer),
        note=shown.note if shown else None,
        document=document,
    )
