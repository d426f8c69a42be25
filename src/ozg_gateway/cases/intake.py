"""Intake steps shared by the JSON and the PDF routes: offer lookup, validation, freezing.

Validation is pure and happens before a write transaction starts where possible; ``freeze``
runs inside the caller's transaction, so a case, its deliveries, its timeline and audit
entries are written together or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ozg_gateway.cases.numbers import case_number as new_case_number
from ozg_gateway.catalog.models import Offer, ways_to_identify
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.errors import (
    FieldError,
    field_errors_from_pydantic,
    pointer,
    validation_problem,
)
from ozg_gateway.forms.applicant import Applicant
from ozg_gateway.forms.registry import FORM_MODELS, FormContext, FormInvalid
from ozg_gateway.mappings.case_document import AttachmentInfo, build_case_document
from ozg_gateway.store import audit
from ozg_gateway.store import submissions as store
from ozg_gateway.store.clients import Principal
from ozg_gateway.store.models import Submission


def offer_for(ctx: GatewayContext, service_id: str) -> Offer:
    """The online offer a submission is for; 422 on /service_id otherwise."""
    offer = ctx.catalog.get(service_id)
    if offer is None:
        raise validation_problem(
            [FieldError("/service_id", "unknown_service", "Unbekannte Leistung.")]
        )
    if not offer.accepts_online:
        raise validation_problem(
            [
                FieldError(
                    "/service_id",
                    "pdf_only",
                    f"Diese Leistung ist nur als PDF-Formular verfügbar: {offer.pdf_form_url}",
                )
            ]
        )
    return offer


_MAX_REPORTED = 20


def check_form_size(ctx: GatewayContext, form_data: object, *, at: str = "/form_data") -> None:
    """Bound form data before it is stored or validated: total size and every text's length.

    Drafts are stored unvalidated, so without this a portal could park megabytes per draft.
    """
    bounds = ctx.settings.limits
    errors: list[FieldError] = []

    def walk(value: object, path: tuple[str | int, ...]) -> None:
        if isinstance(value, str) and len(value) > bounds.string_chars:
            errors.append(
                FieldError(
                    at + pointer(path),
                    "string_too_long",
                    f"Zu lang (höchstens {bounds.string_chars} Zeichen).",
                )
            )
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))

    walk(form_data, ())
    size = len(json.dumps(form_data, ensure_ascii=False, separators=(",", ":")).encode())
    if size > bounds.form_data_bytes:
        errors.append(
            FieldError(
                at,
                "too_large",
                f"Die Formulardaten sind zu groß (höchstens {bounds.form_data_bytes} Bytes).",
            )
        )
    if errors:
        raise validation_problem(errors[:_MAX_REPORTED])


def contact_of(applicant: object) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """The applicant normalised, or the problems with it (pointers under ``/applicant``)."""
    if applicant is None:
        return None, []
    try:
        valid = Applicant.model_validate(applicant)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        return None, field_errors_from_pydantic(errors, prefix=("applicant",))
    return valid.model_dump(mode="json", exclude_none=True), []


def validated_contact(applicant: object) -> dict[str, Any] | None:
    """The applicant of a draft, checked at once (the form is checked on submit)."""
    contact, errors = contact_of(applicant)
    if errors:
        raise validation_problem(errors)
    return contact


def validated_form(
    ctx: GatewayContext, offer: Offer, form_data: object, applicant: object
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate form data and applicant together, so the portal sees every error at once;
    returns both normalised."""
    check_form_size(ctx, form_data)
    contact, errors = contact_of(applicant)
    if applicant is None and not offer.allow_anonymous:
        errors.append(FieldError("/applicant", "missing", "Bitte die Kontaktdaten angeben."))
    assert offer.form_model is not None  # guaranteed for online offers by the catalogue
    form: dict[str, Any] = {}
    try:
        form = FORM_MODELS[offer.form_model].validate(
            form_data,
            context=FormContext(today=ctx.today(), settings=ctx.catalog.form_settings(offer.id)),
        )
    except FormInvalid as exc:
        errors = [*exc.errors, *errors]
    if errors:
        raise validation_problem(errors)
    return form, contact


# eID levels of assurance in rising order (TR-03130 spelling).
_LOA = {"normal": 0, "substantiell": 1, "substantial": 1, "hoch": 2, "high": 2}


def require_identity(ctx: GatewayContext, offer: Offer, identity: dict[str, Any] | None) -> None:
    """Offers with ``eid.mode = required`` need an attached identification that meets every
    check the offer's policy names: the minimum level, the minimum age, the place of residence.

    Enforced when one of the offer's methods (eID-Server, BundID) is configured (without one
    the offer could never be submitted). All unmet checks are reported at once, on
    ``/identification``.
    """
    if offer.eid.mode != "required" or not ctx.settings.identification_methods(offer.eid.methods):
        return
    if identity is None:
        raise validation_problem(
            [
                FieldError(
                    "/identification",
                    "missing",
                    "Für diese Leistung ist eine Identifizierung erforderlich "
                    f"({ways_to_identify(offer.eid.methods)}).",
                )
            ]
        )
    errors: list[FieldError] = []
    level = str(identity.get("level") or "").rsplit("/", 1)[-1]
    wanted = offer.eid.min_level.value if offer.eid.min_level else None
    if wanted and level and _LOA.get(level, 0) < _LOA[wanted]:
        errors.append(
            FieldError("/identification", "level", "Das Vertrauensniveau reicht nicht aus.")
        )
    min_age = offer.eid.min_age
    if min_age and identity.get("age_ok") is not True:
        detail = (
            f"Laut Ausweis ist das Mindestalter von {min_age} Jahren nicht erreicht."
            if identity.get("age_ok") is False
            else f"Das Mindestalter von {min_age} Jahren wurde nicht bestätigt."
        )
        errors.append(FieldError("/identification", "age", detail))
    if offer.eid.place_verification and identity.get("place_ok") is not True:
        errors.append(
            FieldError(
                "/identification",
                "place",
                "Laut Ausweis liegt der Wohnort nicht im Zuständigkeitsbereich der Behörde."
                if identity.get("place_ok") is False
                else "Der Wohnort wurde nicht bestätigt.",
            )
        )
    if errors:
        raise validation_problem(errors)


def freeze(
    ctx: GatewayContext,
    sub: Submission,
    offer: Offer,
    principal: Principal,
    form: dict[str, Any],
    applicant: dict[str, Any] | None,
) -> None:
    """Turn a draft with validated form data into a case (in the caller's transaction)."""
    attachments: list[AttachmentInfo] = [
        {
            "id": a.id,
            "filename": store.open_filename(ctx.keyring, a),
            "content_type": a.content_type,
            "size": a.size,
            "sha256": a.sha256,
            "purpose": a.purpose,
        }
        for a in sub.attachments
    ]
    now = ctx.clock()

    identity = store.open_identity(ctx.keyring, sub)
    require_identity(ctx, offer, identity)
    model = FORM_MODELS[offer.form_model or "generic"]
    fee = offer.fee.total_cents(model.copies(form))

    def document(case_id: str, case_number: str) -> dict[str, Any]:
        return build_case_document(
            case_id=case_id,
            case_number=case_number,
            offer=offer,
            source="portal",
            client_id=principal.client_id,
            submission_id=sub.id,
            submitted_at=now,
            applicant=applicant,
            form=form,
            attachments=attachments,
            persons=model.persons(form),
            fee_cents=fee,
            identity=identity,
        )

    case_number = new_case_number(prefix=ctx.settings.case_number_prefix, now=now, ids=ctx.ids)
    case = store.freeze_into_case(
        keyring=ctx.keyring,
        sub=sub,
        case_id=ctx.ids(),
        case_number=case_number,
        build_document=document,
        now=now,
    )
    # Same transaction as the case: an accepted case always has its deliveries.
    # Offers that must be paid first keep their deliveries held until the payment is confirmed.
    held = offer.fee.pay_before_delivery and fee > 0
    outbox.enqueue(case=case, routes=offer.routes, new_id=ctx.ids, now=now, held=held)
    if held:
        amount = f"{fee // 100},{fee % 100:02d} €"
        store.add_event(sub, at=now, status="awaiting_payment", detail=amount, case_id=case.id)


def record_audit(
    ctx: GatewayContext,
    session: Session,
    principal: Principal,
    action: str,
    target_id: str,
    rid: str | None,
    target_type: str = "submission",
) -> None:
    """Audit entry for an intake action in the caller's transaction."""
    audit.record_by(
        session,
        principal=principal,
        action=action,
        target_type=target_type,
        target_id=target_id,
        at=ctx.clock(),
        request_id=rid,
    )
