"""Cases for back-office systems (read access; the pull inbox builds on this)."""

from __future__ import annotations

from fastapi import APIRouter

from ozg_gateway.api.deps import BackofficePrincipal, Ctx
from ozg_gateway.api.schemas import CaseOut
from ozg_gateway.errors import not_found
from ozg_gateway.store import submissions as store
from ozg_gateway.store.models import Case

router = APIRouter(prefix="/v1/cases", tags=["Back office"])


@router.get("/{case_id}", operation_id="getCase", summary="Get a normalized case")
def get_case(ctx: Ctx, principal: BackofficePrincipal, case_id: str) -> CaseOut:
    """A back-office client sees only cases of the offers it is configured for."""
    with ctx.db.reading() as session:
        case = session.get(Case, case_id)
        if case is None or not principal.may_see_offer(case.service_id):
            raise not_found("Case")
        return CaseOut(
            id=case.id,
            case_number=case.case_number,
            service_id=case.service_id,
            status=case.status,
            created_at=case.created_at,
            document=store.open_case(ctx.keyring, case),
        )
