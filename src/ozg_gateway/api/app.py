"""FastAPI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ozg_gateway import __version__
from ozg_gateway.api import console
from ozg_gateway.api.guard import RequestGuard
from ozg_gateway.api.middleware import HttpMetrics, RequestContextMiddleware, SecurityHeaders
from ozg_gateway.api.problems import install_problem_handlers
from ozg_gateway.api.routers import (
    admin,
    callbacks,
    cases,
    docs,
    identifications,
    open311,
    ops,
    payments,
    pdf_forms,
    schemas,
    services,
    submissions,
)
from ozg_gateway.background import background_jobs
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery.metrics import DeliveryMetrics, OutboxCollector
from ozg_gateway.delivery.worker import Worker
from ozg_gateway.monitoring.metrics import GatewayCollector
from ozg_gateway.store import migrate

DESCRIPTION = """
The integration layer between the town's web portals and back-office systems.

**Portals** (role `portal`) read the catalogue, create a submission, upload attachments and
submit it; the gateway validates the form against the offer's form model and freezes it into a
**case** with a case number. Track it with `GET /v1/submissions/{id}`: the timeline shows when
the case reached each back-office system.

**Back-office systems** (role `backoffice`) receive cases as signed webhooks (Standard Webhooks;
body schema at `/v1/schemas/case-event`) or fetch them from the **pull inbox**: list
`GET /v1/cases`, take one with `POST /v1/cases/{id}/lease`, confirm with `/ack` or give it back
with `/nack`. Attachments come from `GET /v1/cases/{id}/attachments/{aid}` with their SHA-256.

**Administrators** (role `admin`) see connector health, deliveries and dead letters, replay or
cancel them, and read the audit log.

Authenticate with `Authorization: Bearer <key>`. Every `POST` accepts an `Idempotency-Key`:
the same key with the same body returns the first response (header `Idempotent-Replayed`),
with another body `409`. Every error is `application/problem+json` (RFC 9457); field errors
carry a JSON pointer in `errors[].pointer`. Problem types are explained at `/problems/{slug}`.
"""


def create_app(ctx: GatewayContext, *, with_worker: bool = False) -> FastAPI:
    """Build the API around a gateway context; ``with_worker`` also runs delivery and health."""
    registry = CollectorRegistry()
    registry.register(OutboxCollector(ctx.db, ctx.clock))
    registry.register(GatewayCollector(ctx))
    delivery_metrics = DeliveryMetrics(registry)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if with_worker:
            worker = Worker(ctx, ctx.connectors, metrics=delivery_metrics)
            tasks = [asyncio.create_task(job) for job in background_jobs(ctx, worker, stop)]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ctx.connectors.aclose()

    app = FastAPI(
        title="ozg-gateway",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "Catalogue", "description": "Offers: online, PDF, new."},
            {"name": "Submissions", "description": "Portal intake: create, attach, submit."},
            {"name": "PDF forms", "description": "Fillable PDFs, filled-PDF intake, receipts."},
            {"name": "Payments", "description": "Fees online via XBezahldienste."},
            {"name": "Identification", "description": "eID (BSI TR-03130): start, redeem."},
            {"name": "Back office", "description": "Pull inbox, cases, attachments, schemas."},
            {
                "name": "Administration",
                "description": "Deliveries, dead letters, connectors, audit.",
            },
            {"name": "Callbacks", "description": "External systems announcing news."},
            {"name": "Operations", "description": "Health, readiness, metrics."},
        ],
    )
    app.state.ctx = ctx
    app.state.registry = registry
    app.state.migration_head = migrate.head_revision()
    install_problem_handlers(app)
    for module in (
        docs,
        services,
        pdf_forms,
        submissions,
        payments,
        identifications,
        cases,
        schemas,
        admin,
        callbacks,
        open311,
        ops,
    ):
        app.include_router(module.router)
    console.install(app, ctx)
    app.mount(docs.ASSETS, docs.assets(), name="docs-assets")
    # Outermost last: request id and access log, then security headers, then the guard.
    app.add_middleware(RequestGuard, fastapi_app=app)
    https = ctx.settings.public_base_url.startswith("https://")
    app.add_middleware(SecurityHeaders, https=https)
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    return app
