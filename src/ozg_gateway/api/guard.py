"""The request guard: what a request must pass before any byte of its body is read.

For the route a request matches, in this order:
1. for routes that need an API key, authentication (the principal is handed to the route
   through the scope, so the key is looked up once);
2. a body limit for its kind (JSON, upload, or small for endpoints without a key), checked
   against ``Content-Length`` at once and enforced again while the body streams in;
3. rate limits per API client and per source address on the expensive operations.

FastAPI reads and parses a JSON body before it runs dependencies, so authentication in a
dependency alone would let anyone without a key make the server read and parse 50 MB.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

import limits
import limits.storage
import limits.strategies
from fastapi import FastAPI
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from ozg_gateway.api import deps
from ozg_gateway.api.middleware import scope_header
from ozg_gateway.api.problems import problem_response
from ozg_gateway.api.uploads import MULTIPART_OVERHEAD
from ozg_gateway.config import LimitSettings, Settings
from ozg_gateway.errors import Problem

# Operations that stream files; their limit is the attachment size plus multipart framing.
UPLOAD_OPERATIONS = frozenset(
    {"uploadAttachment", "createSubmissionFromPdf", "open311CreateRequest"}
)
# A status update may carry a notice PDF of up to 10 MB, base64 in the JSON body.
DOCUMENT_OPERATIONS = frozenset({"reportCaseStatus"})
DOCUMENT_JSON_BYTES = 14 * 1024 * 1024 + 64 * 1024


@dataclass(frozen=True)
class RoutePolicy:
    """What the guard applies to one operation."""

    operation: str | None
    body_limit: int
    needs_key: bool
    rate_limited: bool


def route_table(
    openapi: dict[str, Any], settings: LimitSettings, upload_bytes: int
) -> list[tuple[re.Pattern[str], str, RoutePolicy]]:
    """(path pattern, method, policy) for each operation of the published OpenAPI document.

    The document is the contract portals read: an operation that lists a security
    requirement there needs a key here. It is also the one stable route list (FastAPI keeps
    included routers as private wrapper objects).
    """
    table = []
    for path, operations in openapi.get("paths", {}).items():
        pattern, _, _ = compile_path(path)
        for method, operation in operations.items():
            operation_id = operation.get("operationId")
            needs_key = bool(operation.get("security"))
            if operation_id in UPLOAD_OPERATIONS:
                limit = upload_bytes + MULTIPART_OVERHEAD
            elif operation_id in DOCUMENT_OPERATIONS:
                limit = DOCUMENT_JSON_BYTES
            else:
                limit = settings.json_body_bytes if needs_key else settings.public_body_bytes
            rated = operation_id in settings.rate.operations
            table.append(
                (pattern, method.upper(), RoutePolicy(operation_id, limit, needs_key, rated))
            )
    return table


class RateLimiter:
    """Moving-window limits per client and per address (storage from the settings)."""

    def __init__(self, settings: LimitSettings) -> None:
        rate = settings.rate
        self.per_client = limits.parse(rate.per_client)
        self.per_address = limits.parse(rate.per_address)
        storage = limits.storage.storage_from_string(rate.storage_uri)
        self.limiter = limits.strategies.MovingWindowRateLimiter(storage)

    def check(self, *, operation: str, client_id: str | None, address: str | None) -> None:
        """Count one request; raise 429 with ``Retry-After`` when a window is full."""
        buckets = [(self.per_address, "address", address)] if address is not None else []
        if client_id is not None:
            buckets.append((self.per_client, "client", client_id))
        for item, kind, who in buckets:
            if not self.limiter.hit(item, operation, kind, who):
                reset = self.limiter.get_window_stats(item, operation, kind, who).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise Problem(
                    "too-many-requests",
                    detail=f"Zu viele Anfragen; bitte in {wait} Sekunden erneut versuchen.",
                    headers={"Retry-After": str(wait)},
                )


def limiter_of(app: FastAPI, settings: LimitSettings) -> RateLimiter:
    """The app's one rate limiter (the guard's, and routes that learn the key from the body)."""
    limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    if limiter is None:
        limiter = app.state.rate_limiter = RateLimiter(settings)
    return limiter


class RequestGuard:
    """Pure ASGI middleware applying :class:`RoutePolicy` before the route runs."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._table: list[tuple[re.Pattern[str], str, RoutePolicy]] | None = None

    def _policy(self, scope: Scope, settings: Settings) -> RoutePolicy:
        if self._table is None:
            self._table = route_table(
                self.fastapi_app.openapi(), settings.limits, settings.max_attachment_bytes
            )
        path, method = scope["path"], scope["method"]
        for pattern, wanted, policy in self._table:
            if wanted == method and pattern.match(path):
                return policy
        # Unlisted: documentation pages, demo simulators, unknown paths, wrong methods.
        return RoutePolicy(None, settings.limits.public_body_bytes, False, False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = deps.context_of(self.fastapi_app)
        policy = self._policy(scope, ctx.settings)
        try:
            client_id = None
            if policy.needs_key:
                header = scope_header(scope, b"authorization")
                principal = await deps.resolve_principal(ctx, header)
                scope.setdefault("state", {})[deps.PRINCIPAL_STATE] = principal
                client_id = principal.client_id
            declared = _content_length(scope)
            if declared is not None and declared > policy.body_limit:
                raise Problem(
                    "payload-too-large",
                    detail=f"Die Anfrage ist zu groß (höchstens {policy.body_limit} Bytes).",
                )
            if policy.rate_limited and policy.operation:
                address = (scope.get("client") or ("unknown", 0))[0]
                limiter_of(self.fastapi_app, ctx.settings.limits).check(
                    operation=policy.operation, client_id=client_id, address=str(address)
                )
        except Problem as problem:
            response = problem_response(problem, instance=scope.get("path"))
            await response(scope, receive, send)
            return
        await RequestBodyLimitMiddleware(self.app, policy.body_limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    raw = scope_header(scope, b"content-length")
    return int(raw) if raw is not None and raw.isdigit() else None
