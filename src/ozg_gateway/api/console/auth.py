"""Console sign-in: an admin API key becomes a session cookie; forms carry a CSRF token.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
it), Secure when the gateway is served over https, and scoped to ``/admin``. Every
state-changing form also carries the session's CSRF token, and its ``Origin`` must be ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import limits
import limits.storage
import limits.strategies
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ozg_gateway.api.deps import context_of, resolve_principal
from ozg_gateway.errors import Problem
from ozg_gateway.store import console as sessions
from ozg_gateway.store.clients import Principal, Role

COOKIE = "ozg_console"
PATH = "/admin"


class LoginRequired(Exception):
    """No live console session: the browser is sent to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class Operator:
    """The signed-in administrator of a console request."""

    client_id: str
    token: str

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        return sessions.csrf_token(self.token)


async def operator(request: Request) -> Operator:
    """The request's live session, or :class:`LoginRequired`."""
    token = request.cookies.get(COOKIE)
    if token:
        ctx = context_of(request.app)
        console = ctx.settings.console

        def resume() -> str | None:
            with ctx.db.writing() as session:
                row = sessions.resume(
                    session,
                    token=token,
                    now=ctx.clock(),
                    idle=timedelta(minutes=console.idle_minutes),
                    absolute=timedelta(hours=console.absolute_hours),
                )
                return row.client_id if row else None

        client_id = await run_in_threadpool(resume)
        if client_id is not None:
            return Operator(client_id, token)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(target if request.method == "GET" else PATH + "/")


async def checked_form(request: Request, who: Operator) -> dict[str, list[str]]:
    """The form of a state-changing request, once its origin and CSRF token are ours."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise Problem("forbidden", detail="Die Anfrage kam nicht von dieser Konsole.")
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    token = next(iter(fields.get("csrf", [])), None)
    if not sessions.csrf_ok(who.token, token):
        raise Problem(
            "forbidden",
            detail="Das Formular ist abgelaufen oder nicht von dieser Konsole. Bitte neu laden.",
        )
    return fields


class LoginLimiter:
    """At most a few sign-in attempts per address and minute: keys cannot be guessed."""

    def __init__(self, storage_uri: str, rate: str = "10/minute") -> None:
        self.item = limits.parse(rate)
        self.limiter = limits.strategies.MovingWindowRateLimiter(
            limits.storage.storage_from_string(storage_uri)
        )

    def allow(self, address: str) -> bool:
        """Count one attempt."""
        return bool(self.limiter.hit(self.item, "console-login", address))


async def admin_by_key(request: Request, key: str) -> Principal | None:
    """The admin principal of an API key, or None for any other key."""
    ctx = context_of(request.app)
    try:
        principal = await resolve_principal(ctx, f"Bearer {key.strip()}")
    except Problem:
        return None
    return principal if principal.role == Role.admin else None
