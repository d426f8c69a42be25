"""FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ozg_gateway import __version__
from ozg_gateway.api.middleware import HttpMetrics, RequestContextMiddleware
from ozg_gateway.api.problems import install_problem_handlers
from ozg_gateway.api.routers import admin, cases, ops, services, submissions
from ozg_gateway.context import GatewayContext
from ozg_gateway.store import migrate

DESCRIPTION = """
The integration layer between the town's web portals and back-office systems.

**Portals** (role `portal`) read the catalogue, create a submission, upload attachments and
submit it; the gateway validates the form against the offer's form model and freezes it into a
**case** with a case number. Track it with `GET /v1/submissions/{id}`.

**Back-office systems** (role `backoffice`) read cases of the offers they are configured for.
**Administrators** (role `admin`) read the audit log.

Authenticate with `Authorization: Bearer <key>`. Every `POST` accepts an `Idempotency-Key`:
the same key with the same body returns the first response (header `Idempotent-Replayed`),
with another body `409`. Every error is `application/problem+json` (RFC 9457); field errors
carry a JSON pointer in `errors[].pointer`. Problem types are explained at `/problems/{slug}`.
"""


def create_app(ctx: GatewayContext) -> FastAPI:
    """Build the API around a gateway context."""
    app = FastAPI(
        title="ozg-gateway",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "Catalogue", "description": "Offers: online, PDF, new."},
            {"name": "Submissions", "description": "Portal intake: create, attach, submit."},
            {"name": "Back office", "description": "Cases for back-office systems."},
            {"name": "Administration", "description": "Audit and operations."},
            {"name": "Operations", "description": "Health, readiness, metrics."},
        ],
    )
    registry = CollectorRegistry()
    app.state.ctx = ctx
    app.state.registry = registry
    app.state.migration_head = migrate.head_revision()
    install_problem_handlers(app)
    for module in (services, submissions, cases, admin, ops):
        app.include_router(module.router)
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    return app
