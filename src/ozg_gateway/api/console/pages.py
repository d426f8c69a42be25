"""The console's pages (GET): what an operator reads. Ids, states and numbers only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api.console.auth import Operator, operator
from ozg_gateway.api.console.labels import BERLIN
from ozg_gateway.api.console.render import page
from ozg_gateway.api.deps import Ctx
from ozg_gateway.delivery import admin as outbox_admin
from ozg_gateway.errors import not_found
from ozg_gateway.monitoring import overview
from ozg_gateway.store import audit
from ozg_gateway.store.models import Case, Identification, InboundMessage, Payment, TimelineEvent

router = APIRouter(prefix="/admin", include_in_schema=False)
Who = Annotated[Operator, Depends(operator)]


@router.get("/", name="overview", response_class=HTMLResponse)
async def overview_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """Each connector with state, breaker, backlog and the last day's traffic; problems first."""

    def load() -> tuple[list[overview.ConnectorView], dict[str, overview.Hourly]]:
        with ctx.db.reading() as session:
            return overview.connectors(ctx, session), overview.last_day(session, now=ctx.clock())

    views, traffic = await run_in_threadpool(load)
    threshold = ctx.settings.console.alert_queue_age_seconds
    return page(
        request,
        "overview",
        who=who,
        title="Übersicht",
        connectors=views,
        traffic=traffic,
        queue_age_threshold=threshold,
        problems=sum(
            1
            for v in views
            if v.state in ("down", "degraded")
            or v.dead_letters
            or (v.oldest_pending_seconds or 0) > threshold
        ),
    )


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    """A form's date (YYYY-MM-DD from a date input) as the start of that Berlin day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=BERLIN)


@router.get("/zustellungen", name="deliveries", response_class=HTMLResponse)
async def deliveries_page(
    request: Request,
    ctx: Ctx,
    who: Who,
    status: str | None = None,
    connector: str | None = None,
    offer: str | None = None,
    von: str | None = None,
    bis: str | None = None,
    vorgang: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Deliveries filtered by status, connector, offer and day, or found by case number."""

    def load() -> list[outbox_admin.DeliveryRow]:
        with ctx.db.reading() as session:
            return outbox_admin.browse(
                session,
                status=status or None,
                connector=connector or None,
                service_id=offer or None,
                case_number=vorgang or None,
                since=_day(von),
                until=_day(bis, end=True),
                limit=200,
            )

    rows = await run_in_threadpool(load)
    return page(
        request,
        "deliveries",
        who=who,
        title="Zustellungen",
        rows=rows,
        filters={
            "status": status or "",
            "connector": connector or "",
            "offer": offer or "",
            "von": von or "",
            "bis": bis or "",
            "vorgang": vorgang or "",
        },
        connector_names=sorted(ctx.settings.connectors),
        offers=ctx.catalog.offers,
    )


@router.get("/zustellungen/{delivery_id}", name="delivery", response_class=HTMLResponse)
async def delivery_page(request: Request, ctx: Ctx, who: Who, delivery_id: str) -> HTMLResponse:
    """One delivery: every attempt, the transport report and the case's history."""

    def load() -> dict[str, Any]:
        with ctx.db.reading() as session:
            delivery, attempts = outbox_admin.get_delivery(session, delivery_id)
            case = session.get(Case, delivery.case_id)
            if case is None:
                raise not_found("Der Vorgang")
            events = session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.case_id == case.id)
                .order_by(TimelineEvent.at, TimelineEvent.id)
            ).all()
            return {
                "delivery": delivery,
                "attempts": list(attempts),
                "case_number": case.case_number,
                "service_id": case.service_id,
                "events": list(events),
            }

    values = await run_in_threadpool(load)
    return page(request, "delivery", who=who, title="Zustellung", **values)


@router.get("/probleme", name="problems", response_class=HTMLResponse)
async def problems_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """Dead letters grouped by connector and error class, and each dead letter to pick."""

    def load() -> tuple[list[outbox_admin.DeadGroup], list[outbox_admin.DeliveryRow]]:
        with ctx.db.reading() as session:
            return outbox_admin.dead_groups(session), outbox_admin.browse(
                session, status="dead", limit=500
            )

    groups, dead = await run_in_threadpool(load)
    return page(
        request,
        "problems",
        who=who,
        title="Probleme",
        groups=groups,
        dead=dead,
        done=request.query_params.get("erledigt"),
    )


@router.get("/eingang", name="inbound", response_class=HTMLResponse)
async def inbound_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """Messages taken from inbound channels: the case each became, or why it was refused."""

    def load() -> list[tuple[InboundMessage, str | None]]:
        with ctx.db.reading() as session:
            rows = session.execute(
                select(InboundMessage, Case.case_number)
                .outerjoin(Case, Case.id == InboundMessage.case_id)
                .order_by(InboundMessage.received_at.desc())
                .limit(200)
            ).all()
            return [(m, n) for m, n in rows]

    return page(request, "inbound", who=who, title="Eingang", rows=await run_in_threadpool(load))


@router.get("/zahlungen", name="payments", response_class=HTMLResponse)
async def payments_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """Payments that need attention first, then the latest ones."""

    def load() -> tuple[list[Payment], list[Payment]]:
        with ctx.db.reading() as session:
            flagged = session.scalars(
                select(Payment)
                .where(Payment.needs_reconciliation.is_(True))
                .order_by(Payment.updated_at.desc())
            ).all()
            latest = session.scalars(
                select(Payment).order_by(Payment.created_at.desc()).limit(100)
            ).all()
            return list(flagged), list(latest)

    flagged, latest = await run_in_threadpool(load)
    return page(
        request,
        "payments",
        who=who,
        title="Zahlungen",
        flagged=flagged,
        latest=latest,
        done=request.query_params.get("erledigt"),
    )


@router.get("/identifizierungen", name="identifications", response_class=HTMLResponse)
async def identifications_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """Counts by offer and outcome; nothing about any person."""

    def load() -> list[tuple[str, str, int]]:
        with ctx.db.reading() as session:
            rows = session.execute(
                select(Identification.service_id, Identification.status, func.count())
                .group_by(Identification.service_id, Identification.status)
                .order_by(Identification.service_id, Identification.status)
            ).all()
            return [(s, st, n) for s, st, n in rows]

    counts = await run_in_threadpool(load)
    titles = {o.id: o.title for o in ctx.catalog.offers}
    return page(
        request,
        "identifications",
        who=who,
        title="Identifizierungen",
        counts=counts,
        titles=titles,
    )


@router.get("/protokoll", name="audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, ctx: Ctx, who: Who, aktion: str | None = None
) -> HTMLResponse:
    """Who did what, when: newest first."""

    def load() -> list[object]:
        with ctx.db.reading() as session:
            return list(audit.recent(session, limit=200, action=aktion or None, before_id=None))

    return page(
        request,
        "audit",
        who=who,
        title="Protokoll",
        entries=await run_in_threadpool(load),
        action=aktion or "",
    )


@router.get("/katalog", name="catalogue", response_class=HTMLResponse)
async def catalogue_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """The offers with channel, new marker, routes, fee and eID policy, and what is wrong."""

    def load() -> dict[str, overview.State]:
        with ctx.db.reading() as session:
            return {n: verdict for n, (verdict, _) in overview.health(ctx, session).items()}

    states = await run_in_threadpool(load)
    findings: dict[str, list[str]] = {}
    for offer in ctx.catalog.offers:
        notes = findings.setdefault(offer.id, [])
        for route in offer.routes:
            if route not in states:
                notes.append(f"Route {route}: kein Connector dieses Namens")
            elif ctx.connectors.errors.get(route):
                notes.append(f"Route {route}: Konfiguration fehlerhaft")
            elif states[route] == "down":
                notes.append(f"Route {route}: Connector gestört")
    return page(
        request,
        "catalogue",
        who=who,
        title="Katalog",
        offers=ctx.catalog.offers,
        today=ctx.today(),
        window=ctx.settings.new_window_days,
        findings=findings,
    )
