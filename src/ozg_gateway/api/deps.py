"""FastAPI dependencies: context, authentication and role checks.

Dependencies without I/O are ``async`` so FastAPI runs them on the event loop instead of
paying a thread-pool hop each.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import Problem
from ozg_gateway.store import clients
from ozg_gateway.store.clients import Principal, Role

_bearer = HTTPBearer(auto_error=False, description="API key of a portal, back office or admin.")
ADMIN_CLIENT_ID = "admin"


async def get_context(request: Request) -> GatewayContext:
    """The gateway context of this app."""
    return context_of(request.app)


Ctx = Annotated[GatewayContext, Depends(get_context)]


async def request_id(request: Request) -> str | None:
    """Request id set by the middleware."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


PRINCIPAL_STATE = "principal"


def context_of(app: Any) -> GatewayContext:
    """The gateway context an app was built around."""
    ctx: GatewayContext = app.state.ctx
    return ctx


async def resolve_principal(ctx: GatewayContext, authorization: str | None) -> Principal:
    """The principal of an ``Authorization: Bearer`` header; 401 without a valid key.

    The configured admin key is the bootstrap admin. Called by the request guard before the
    body is read. A key verified within ``auth_cache_seconds`` is answered from memory; only
    a cache miss looks the key up in the database (in the thread pool).
    """
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Problem(
            "unauthorized",
            detail="Bitte mit `Authorization: Bearer <Schlüssel>` anmelden.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = _known_principal(ctx, key)
    if found is None:
        found = await run_in_threadpool(_looked_up_principal, ctx, key)
    if found is None:
        raise Problem(
            "unauthorized",
            detail="Unbekannter oder gesperrter Schlüssel.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


async def authenticate(
    ctx: Ctx,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal the request guard resolved (or resolve it now, e.g. in bare tests)."""
    principal = getattr(request.state, PRINCIPAL_STATE, None)
    if not isinstance(principal, Principal):
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        principal = await resolve_principal(ctx, header)
    structlog.contextvars.bind_contextvars(client_id=principal.client_id, role=principal.role.value)
    return principal


# key hash -> (principal, monotonic expiry); bounded, so unknown keys cannot grow it.
_AUTH_CACHE: dict[str, tuple[Principal, float]] = {}
_AUTH_CACHE_MAX = 1024


def _known_principal(ctx: GatewayContext, key: str) -> Principal | None:
    """The admin key, or a key verified within ``auth_cache_seconds`` (no I/O)."""
    admin_key = ctx.settings.admin_key
    if admin_key is not None and hmac.compare_digest(
        key.encode(), admin_key.get_secret_value().encode()
    ):
        return Principal(client_id=ADMIN_CLIENT_ID, role=Role.admin)
    hit = _AUTH_CACHE.get(clients.hash_key(key))
    return hit[0] if hit is not None and hit[1] > time.monotonic() else None


def _looked_up_principal(ctx: GatewayContext, key: str) -> Principal | None:
    """Look the key up and remember a positive answer for ``auth_cache_seconds``.

    A revoked key therefore stops working within that time in every process.
    """
    ttl = ctx.settings.auth_cache_seconds
    digest = clients.hash_key(key)
    with ctx.db.reading() as session:
        found = clients.authenticate(session, key=key)
    if found is not None and ttl > 0:
        if len(_AUTH_CACHE) >= _AUTH_CACHE_MAX:
            _AUTH_CACHE.clear()
        _AUTH_CACHE[digest] = (found, time.monotonic() + ttl)
    else:
        _AUTH_CACHE.pop(digest, None)
    return found


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller must have one of ``roles``."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in roles:
            raise Problem(
                "forbidden", detail=f"Nur für die Rolle {' oder '.join(r.value for r in roles)}."
            )
        return principal

    return check


PortalPrincipal = Annotated[Principal, Depends(require(Role.portal))]
BackofficePrincipal = Annotated[Principal, Depends(require(Role.backoffice, Role.admin))]
AdminPrincipal = Annotated[Principal, Depends(require(Role.admin))]
