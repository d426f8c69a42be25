"""Administration: audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ozg_gateway.api.deps import AdminPrincipal, Ctx
from ozg_gateway.api.schemas import AuditOut
from ozg_gateway.store import audit

router = APIRouter(prefix="/v1/admin", tags=["Administration"])


@router.get("/audit", operation_id="listAuditLog", summary="Newest audit entries first")
def list_audit(
    ctx: Ctx,
    _principal: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: str | None = None,
    before_id: Annotated[
        int | None, Query(description="Cursor: entries older than this id.")
    ] = None,
) -> list[AuditOut]:
    """Who did what, when; ids only."""
    with ctx.db.reading() as session:
        rows = audit.recent(session, limit=limit, action=action, before_id=before_id)
        return [AuditOut.model_validate(r, from_attributes=True) for r in rows]
