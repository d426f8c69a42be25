"""``Idempotency-Key`` for POST: same key + same body replays the first answer; a different
body gets 409. The record is written in the same transaction as the effect, so a key is
either fully used or not at all; two racing requests cannot both take effect."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import Problem
from ozg_gateway.store import idempotency

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Unique per intended operation; a retry with the same key and body "
        "returns the first response.",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"

Effect = Callable[[Session], tuple[int, Any]]


async def body_fingerprint(request: Request) -> str:
    """Fingerprint of a JSON request: method, path and body bytes."""
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()


def fingerprint_of(*parts: str) -> str:
    """Fingerprint from already known request facts (e.g. an upload's hash)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _replay(ctx: GatewayContext, client_id: str, key: str, fingerprint: str) -> JSONResponse | None:
    with ctx.db.reading() as session:
        record = idempotency.find(session, client_id=client_id, key=key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise Problem(
                "idempotency-key-reused",
                detail="Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet.",
            )
        body = idempotency.stored_body(ctx.keyring, record)
        return JSONResponse(body, status_code=record.status_code, headers={REPLAYED_HEADER: "true"})


def run_idempotent(
    ctx: GatewayContext,
    *,
    client_id: str,
    key: str | None,
    fingerprint: str,
    effect: Effect,
    on_failure: Callable[[], None] | None = None,
) -> JSONResponse:
    """Run ``effect`` in one write transaction, remembering its response under ``key``.

    ``on_failure`` runs whenever the effect did not commit (error, replay or conflict), e.g.
    to drop an uploaded blob that no row will reference.
    """
    committed = False
    try:
        response = _run(ctx, client_id, key, fingerprint, effect)
        committed = response.headers.get(REPLAYED_HEADER) is None
        return response
    finally:
        if not committed and on_failure is not None:
            on_failure()


def _run(
    ctx: GatewayContext, client_id: str, key: str | None, fingerprint: str, effect: Effect
) -> JSONResponse:
    if key is not None:
        replay = _replay(ctx, client_id, key, fingerprint)
        if replay is not None:
            return replay
    try:
        with ctx.db.writing() as session:
            status, body = effect(session)
            if key is not None:
                idempotency.remember(
                    session,
                    keyring=ctx.keyring,
                    client_id=client_id,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=status,
                    body=body,
                    now=ctx.clock(),
                )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        replay = _replay(ctx, client_id, key, fingerprint) if key is not None else None
        if replay is None:
            raise
        return replay
    return JSONResponse(body, status_code=status)
