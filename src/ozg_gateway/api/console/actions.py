"""What an operator changes (POST): sign in and out, replay, cancel, record a refund.

Every change checks the CSRF token and is written to the audit log with the admin client's
id in the same transaction as the change itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL

from ozg_gateway.api.console.auth import (
    COOKIE,
    PATH,
    LoginLimiter,
    Operator,
    admin_by_key,
    checked_form,
    operator,
)
from ozg_gateway.api.console.render import page
from ozg_gateway.api.deps import Ctx
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import admin as outbox_admin
from ozg_gateway.epayment import service as payments
from ozg_gateway.errors import Problem
from ozg_gateway.store import audit
from ozg_gateway.store import console as sessions

router = APIRouter(prefix="/admin", include_in_schema=False)
Who = Annotated[Operator, Depends(operator)]


def _safe_next(value: str | None) -> str:
    """Only paths inside the console: the login form is no open redirect."""
    if value and value.startswith(PATH + "/") and not value.startswith("//"):
        return value
    return PATH + "/"


def _audit(
    ctx: GatewayContext,
    session: Session,
    who: str,
    action: str,
    kind: str,
    target: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        at=ctx.clock(),
        actor=who,
        actor_role="admin",
        action=action,
        target_type=kind,
        target_id=target,
        details=details,
    )


@router.get("/anmelden", name="login", response_class=HTMLResponse)
async def login_page(request: Request, weiter: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return page(request, "login", who=None, title="Anmelden", next_url=_safe_next(weiter))


@router.post("/anmelden", name="login_submit", response_model=None)
async def login(
    request: Request,
    ctx: Ctx,
    key: Annotated[str, Form(max_length=200)] = "",
    weiter: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse | RedirectResponse:
    """Exchange an admin API key for a session cookie."""
    limiter: LoginLimiter = request.app.state.console_login_limiter
    address = request.client.host if request.client else "unknown"

    def refused(error: str, status_code: int) -> HTMLResponse:
        return page(
            request,
            "login",
            who=None,
            title="Anmelden",
            next_url=_safe_next(weiter),
            error=error,
            status_code=status_code,
        )

    if not limiter.allow(address):
        return refused("Zu viele Versuche. Bitte eine Minute warten.", 429)
    principal = await admin_by_key(request, key) if key else None
    if principal is None:
        return refused("Dieser Schlüssel gehört zu keinem Administrator.", 401)
    console = ctx.settings.console

    def start() -> str:
        with ctx.db.writing() as session:
            now = ctx.clock()
            sessions.purge(session, before=now - timedelta(hours=2 * console.absolute_hours))
            token = sessions.start(session, client_id=principal.client_id, now=now)
            _audit(ctx, session, principal.client_id, "console.login", "console", None)
            return token

    token = await run_in_threadpool(start)
    response = RedirectResponse(_safe_next(weiter), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.public_base_url.startswith("https://"),
        max_age=int(console.absolute_hours * 3600),
    )
    return response


@router.post("/abmelden", name="logout")
async def logout(request: Request, ctx: Ctx, who: Who) -> RedirectResponse:
    """End the session: the cookie opens nothing any more."""
    await checked_form(request, who)

    def end() -> None:
        with ctx.db.writing() as session:
            if sessions.end(session, token=who.token, now=ctx.clock()) is not None:
                _audit(ctx, session, who.client_id, "console.logout", "console", None)

    await run_in_threadpool(end)
    response = RedirectResponse(PATH + "/anmelden", status_code=303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


def _chosen(ctx: GatewayContext, fields: dict[str, list[str]]) -> list[str]:
    """Dead letters a form names: by group (connector and error class) or one by one."""
    groups = fields.get("gruppe", [])
    ids = set(fields.get("id", []))
    if groups:
        with ctx.db.reading() as session:
            ids |= set(outbox_admin.dead_ids_in(session, groups=groups))
    return sorted(ids)


@router.post("/probleme/vorschau", name="preview", response_class=HTMLResponse)
async def preview(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """How many deliveries an action would touch, before it is confirmed."""
    fields = await checked_form(request, who)
    action = (fields.get("aktion") or ["erneut"])[0]
    if action not in ("erneut", "abbrechen"):
        raise Problem("malformed-request", detail="Unbekannte Aktion.")
    ids = await run_in_threadpool(_chosen, ctx, fields)

    def load() -> list[outbox_admin.DeliveryRow]:
        with ctx.db.reading() as session:
            rows = outbox_admin.browse(session, status="dead", limit=5000)
            return [r for r in rows if r.delivery.id in set(ids)]

    rows = await run_in_threadpool(load)
    return page(request, "preview", who=who, title="Vorschau", rows=rows, action=action, live=False)


@router.post("/probleme/ausfuehren", name="confirm")
async def confirm(request: Request, ctx: Ctx, who: Who) -> RedirectResponse:
    """Replay or cancel the deliveries confirmed on the preview."""
    fields = await checked_form(request, who)
    action = (fields.get("aktion") or [""])[0]
    ids = fields.get("id", [])

    def run() -> int:
        with ctx.db.writing() as session:
            if action == "erneut":
                done = outbox_admin.replay(
                    session, ids=ids, connector=None, status="dead", now=ctx.clock()
                )
            elif action == "abbrechen":
                done = [
                    outbox_admin.cancel(session, delivery_id=i, now=ctx.clock()).id for i in ids
                ]
            else:
                raise Problem("malformed-request", detail="Unbekannte Aktion.")
            name = "delivery.replay" if action == "erneut" else "delivery.cancel"
            for delivery_id in done:
                _audit(ctx, session, who.client_id, name, "delivery", delivery_id)
            return len(done)

    count = await run_in_threadpool(run)
    verb = "erneut eingereiht" if action == "erneut" else "abgebrochen"
    return RedirectResponse(
        f"{PATH}/probleme?erledigt={quote(f'{count} Zustellung(en) {verb}.')}", status_code=303
    )


@router.post("/zustellungen/{delivery_id}/abbrechen", name="cancel")
async def cancel(request: Request, ctx: Ctx, who: Who, delivery_id: str) -> RedirectResponse:
    """Stop one delivery that has not reached its receiver."""
    await checked_form(request, who)

    def run() -> None:
        with ctx.db.writing() as session:
            outbox_admin.cancel(session, delivery_id=delivery_id, now=ctx.clock())
            _audit(ctx, session, who.client_id, "delivery.cancel", "delivery", delivery_id)

    await run_in_threadpool(run)
    return RedirectResponse(str(URL(f"{PATH}/zustellungen/{delivery_id}")), status_code=303)


@router.post("/zahlungen/{payment_id}/erstattung", name="refund")
async def refund(request: Request, ctx: Ctx, who: Who, payment_id: str) -> RedirectResponse:
    """Record a refund made out of band (providers offer no refund API)."""
    fields = await checked_form(request, who)
    reason = (fields.get("grund") or [""])[0].strip()
    if not 3 <= len(reason) <= 300:
        raise Problem("malformed-request", detail="Bitte einen Grund (3 bis 300 Zeichen) angeben.")

    def run() -> None:
        with ctx.db.writing() as session:
            payments.record_refund(session, payment_id=payment_id, now=ctx.clock())
            _audit(
                ctx,
                session,
                who.client_id,
                "payment.refund",
                "payment",
                payment_id,
                {"reason": reason},  # the operator's words, shown to operators only
            )

    await run_in_threadpool(run)
    return RedirectResponse(
        f"{PATH}/zahlungen?erledigt={quote('Erstattung vermerkt.')}", status_code=303
    )
