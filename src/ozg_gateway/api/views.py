"""How the API shows stored things to portals (no form data echoed)."""

from __future__ import annotations

from typing import Any

from ozg_gateway.api.schemas import AttachmentOut, CaseRef, SubmissionOut, TimelineItem
from ozg_gateway.context import GatewayContext
from ozg_gateway.store import submissions as store
from ozg_gateway.store.models import Submission


def submission_view(ctx: GatewayContext, sub: Submission) -> dict[str, Any]:
    """The portal's view of a submission (no form data echoed)."""
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
        timeline=[TimelineItem(at=e.at, status=e.status, detail=e.detail) for e in sub.events],
    )
    return out.model_dump(mode="json")
