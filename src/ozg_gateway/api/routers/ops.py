"""Liveness, readiness, metrics and problem type documentation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from ozg_gateway.api.deps import Ctx
from ozg_gateway.errors import PROBLEM_BASE, PROBLEM_TYPES, not_found
from ozg_gateway.monitoring import overview
from ozg_gateway.store import migrate

router = APIRouter(tags=["Operations"])


@router.get("/healthz", operation_id="liveness", summary="The process is up")
def healthz() -> dict[str, str]:
    """Always ok while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readiness",
    summary="Database reachable and migrations current (connector trouble is reported only)",
    responses={503: {"description": "Not ready"}},
)
def readyz(ctx: Ctx, request: Request) -> JSONResponse:
    """503 until the database answers and is at the shipped migration head."""
    checks: dict[str, Any] = {}
    ready = True
    try:
        ctx.db.ping()
        current = migrate.current_revision(ctx.db)
        head: str | None = request.app.state.migration_head
        checks["database"] = "ok"
        checks["migrations"] = "current" if current == head else f"at {current}, need {head}"
        ready = current == head
        if ready:
            with ctx.db.reading() as session:
                states = overview.health(ctx, session)
            # reported, not counted: a back office being down must not take this gateway out
            # of the load balancer (it still accepts and keeps cases); an operator sees it here
            checks["connectors"] = {
                state: sorted(n for n, (verdict, _) in states.items() if verdict == state)
                for state in ("down", "degraded", "unknown")
            }
    except SQLAlchemyError:
        checks["database"] = "unreachable"
        ready = False
    features = ctx.settings.specs_features()
    checks["specs"] = {
        # whether, not where: public answers carry no file-system paths
        "configured": ctx.settings.specs_dir is not None,
        "unavailable_features": sorted(k for k, ok in features.items() if not ok),
    }
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    """Text exposition format."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(PROBLEM_BASE + "{slug}", operation_id="problemType", summary="Explain a problem type")
def problem_type(slug: str) -> dict[str, Any]:
    """What a problem `type` means and what the caller should do."""
    if slug not in PROBLEM_TYPES:
        raise not_found("Der Problemtyp")
    status, title, action = PROBLEM_TYPES[slug]
    return {"type": PROBLEM_BASE + slug, "status": status, "title": title, "what_to_do": action}
