"""Identification flow for portals (TR-03124): start, TC Token, refresh, one-time code, redeem.

Session secrets (session id, PSK) and results are sealed at rest, never logged, and the result
lives only until redemption or ``eid_session_minutes``. The code is single-use, short-lived,
bound to the portal client that started the identification, and stored as a hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from ozg_gateway.context import GatewayContext
from ozg_gateway.eid.client import EidService
from ozg_gateway.eid.mapping import EidPolicy, Identity, NoResultYet, community_id, user_message
from ozg_gateway.eid.report import build_report
from ozg_gateway.eid.tctoken import build_tc_token
from ozg_gateway.eid.wssec import SigningKey
from ozg_gateway.errors import ConnectorError, FieldError, Problem, not_found, validation_problem
from ozg_gateway.logging import get_logger
from ozg_gateway.runtime import wait_or_stop
from ozg_gateway.store import clients
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.models import Identification, SamlAssertion

log = get_logger("ozg_gateway.eid")
STARTED, READY, FAILED, REDEEMED = "started", "ready", "failed", "redeemed"
LEVELS = {"substantial": "substantiell", "high": "hoch"}


def _aad(identification_id: str, what: str) -> str:
    return f"identification:{identification_id}:{what}"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def eid_client(ctx: GatewayContext) -> EidService:
    """The configured eID-Server; 503 if none is usable."""
    server = ctx.connectors.service(ctx.settings.eid_server)
    if not isinstance(server, EidService):
        raise Problem(
            "unavailable",
            detail="Die Identifizierung mit dem Online-Ausweis ist nicht eingerichtet.",
        )
    return server


def report_key(ctx: GatewayContext) -> SigningKey:
    """The key that signs identification reports: the eID-Server client's, else BundID's."""
    for name in (ctx.settings.eid_server, ctx.settings.bundid):
        service = ctx.connectors.service(name)
        key = getattr(service, "signing_key", None)
        if isinstance(key, SigningKey):
            return key
    raise Problem("unavailable", detail="Die Identifizierung ist nicht eingerichtet.")


def policy_for(ctx: GatewayContext, service_id: str) -> EidPolicy:
    """What the offer may read (its catalogue entry decides; everything else is prohibited)."""
    offer = ctx.catalog.get(service_id)
    if offer is None or offer.eid.mode == "none":
        raise validation_problem(
            [FieldError("/service_id", "no_eid", "Diese Leistung sieht keine Identifizierung vor.")]
        )
    return EidPolicy(
        required=frozenset(offer.eid.attributes),
        allowed=frozenset(offer.eid.optional_attributes),
        min_age=offer.eid.min_age,
        community_id=community_id(offer.office.ags) if offer.eid.place_verification else None,
    )


def start(
    ctx: GatewayContext, *, client_id: str, service_id: str, return_url: str
) -> Identification:
    """useID for the offer's policy; the session secrets are sealed before anything else."""
    policy = policy_for(ctx, service_id)
    require_return_url(ctx, client_id=client_id, return_url=return_url)
    try:
        answer = eid_client(ctx).use_id(policy)
    except ConnectorError as exc:
        log.warning("eID start failed", error_type=type(exc).__name__)
        raise Problem("unavailable", detail="Der eID-Dienst ist nicht erreichbar.") from None
    secrets_ = {
        "session_id": answer.session_id,
        "psk_id": answer.psk_id,
        "psk_key": answer.psk_key,
        "server_address": answer.server_address,
    }
    return new_identification(
        ctx, client_id=client_id, service_id=service_id, return_url=return_url, secret=secrets_
    )


def session_secret(ctx: GatewayContext, row: Identification) -> dict[str, Any]:
    """The sealed session secret of a started identification (eID session or SAML request)."""
    assert row.session_sealed is not None
    secret: dict[str, Any] = ctx.keyring.open_json(row.session_sealed, aad=_aad(row.id, "session"))
    return secret


def require_return_url(ctx: GatewayContext, *, client_id: str, return_url: str) -> None:
    """422 unless the portal client allow-listed ``return_url``."""
    with ctx.db.reading() as session:
        if not clients.return_url_allowed(session, client_id=client_id, url=return_url):
            raise validation_problem(
                [
                    FieldError(
                        "/return_url", "not_allowed", "Rücksprungadresse ist nicht freigegeben."
                    )
                ]
            )


def new_identification(
    ctx: GatewayContext,
    *,
    client_id: str,
    service_id: str,
    return_url: str,
    secret: dict[str, Any],
) -> Identification:
    """Store a started identification with its session secret sealed (either method)."""
    now = ctx.clock()
    identification_id = ctx.ids()
    row = Identification(
        id=identification_id,
        client_id=client_id,
        service_id=service_id,
        status=STARTED,
        session_sealed=ctx.keyring.seal_json(secret, aad=_aad(identification_id, "session")),
        counter=0,
        return_url=return_url,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(minutes=ctx.settings.eid_session_minutes),
    )
    with ctx.db.writing() as session:
        session.add(row)
    return row


def _load(ctx: GatewayContext, identification_id: str) -> Identification:
    with ctx.db.reading() as session:
        row = session.get(Identification, identification_id)
    if row is None or row.expires_at < ctx.clock():
        raise not_found("Die Identifizierung")
    return row


def tc_token(ctx: GatewayContext, identification_id: str) -> bytes:
    """The TC Token for the eID-Client."""
    row = _load(ctx, identification_id)
    if row.status != STARTED or row.session_sealed is None:
        raise not_found("Die Identifizierung")
    data = session_secret(ctx, row)
    base = f"{ctx.settings.public_base_url.rstrip('/')}/v1/identifications/{row.id}"
    return build_tc_token(
        server_address=data["server_address"] or "",
        session_identifier=data["psk_id"],
        refresh_address=f"{base}/refresh",
        communication_error_address=f"{base}/refresh?ResultMajor=error",
        psk_hex=data["psk_key"],
    )


@dataclass(frozen=True)
class Finished:
    """Where the browser goes after the refresh."""

    return_url: str
    params: dict[str, str]


async def refresh(
    ctx: GatewayContext, identification_id: str, *, deadline: float = 3.0, pause: float = 0.3
) -> Finished:
    """getResult (counter rising, polling while noResultYet, up to ``deadline`` seconds, without
    blocking the event loop); seal the minimised result.

    A refresh that comes before the eID-Server has a result (called early, or by someone else)
    leaves the session as it was: the citizen's own eID-Client can still complete it.
    """
    row = await asyncio.to_thread(_load, ctx, identification_id)
    if row.status != STARTED or row.session_sealed is None:
        return Finished(row.return_url, {"identification": row.id, "error": "already_used"})
    data = session_secret(ctx, row)
    client = eid_client(ctx)
    counter = row.counter

    async def fetch() -> Identity:
        nonlocal counter
        counter += 1
        return await asyncio.to_thread(client.get_result, data["session_id"], counter)

    try:
        identity = await AsyncRetrying(
            retry=retry_if_exception_type(NoResultYet),
            stop=stop_after_delay(deadline),
            wait=wait_fixed(pause),
            reraise=True,
        ).wraps(fetch)()
    except NoResultYet:
        await asyncio.to_thread(_note_counter, ctx, row.id, counter)
        return Finished(row.return_url, {"identification": row.id, "error": "not_finished"})
    except ConnectorError as exc:
        error = user_message(getattr(exc, "code", None))
        return await asyncio.to_thread(_finish, ctx, row.id, None, error, counter)
    return await asyncio.to_thread(_finish, ctx, row.id, identity, None, counter)


def _note_counter(ctx: GatewayContext, identification_id: str, counter: int) -> None:
    """Keep the request counter (the eID-Server wants it rising) of an unfinished session."""
    with ctx.db.writing() as session:
        row = session.get(Identification, identification_id, with_for_update=True)
        if row is not None and row.status == STARTED:
            row.counter = max(row.counter, counter)
            row.updated_at = ctx.clock()


def _finish(
    ctx: GatewayContext,
    identification_id: str,
    identity: Identity | None,
    error: str | None,
    counter: int,
    extra: dict[str, Any] | None = None,
) -> Finished:
    now = ctx.clock()
    policy = None
    with ctx.db.writing() as session:
        row = session.get(Identification, identification_id, with_for_update=True)
        assert row is not None
        row.counter = counter
        row.session_sealed = None  # one-shot: the session secrets are no longer needed
        row.updated_at = now
        if identity is None or error:
            row.status = FAILED
            row.error = error or "Die Identifizierung ist fehlgeschlagen."
            log.info("identification failed")
            return Finished(row.return_url, {"identification": row.id, "error": "failed"})
        policy = policy_for(ctx, row.service_id)
        result = {
            "attributes": identity.minimised(policy),
            "level": identity.level,
            "age_ok": identity.age_ok,
            "place_ok": identity.place_ok,
            "restricted_id": identity.attributes.get("RestrictedID"),
            **(extra or {}),
        }
        code = "eidc_" + secrets.token_urlsafe(24)
        row.identity_sealed = ctx.keyring.seal_json(result, aad=_aad(row.id, "identity"))
        row.code_hash = _hash(code)
        row.code_expires_at = now + timedelta(seconds=ctx.settings.eid_code_seconds)
        row.status = READY
        return Finished(row.return_url, {"identification": row.id, "code": code})


def redeem(
    ctx: GatewayContext,
    *,
    client_id: str,
    identification_id: str,
    code: str,
    submission_id: str | None,
) -> dict[str, Any]:
    """Exchange the one-time code for the result; optionally attach it to a draft submission."""
    now = ctx.clock()
    with ctx.db.writing() as session:
        row = session.get(Identification, identification_id, with_for_update=True)
        valid = (
            row is not None
            and row.client_id == client_id  # a code from another portal client is rejected
            and row.status == READY
            and row.code_hash is not None
            and hmac.compare_digest(row.code_hash, _hash(code))
            and row.code_expires_at is not None
            and row.code_expires_at >= now
            and row.identity_sealed is not None
        )
        if not valid or row is None or row.identity_sealed is None:
            raise Problem(
                "conflict",
                detail="Der Code ist unbekannt, schon eingelöst, abgelaufen oder gehört zu "
                "einem anderen Portal.",
            )
        result: dict[str, Any] = ctx.keyring.open_json(
            row.identity_sealed, aad=_aad(row.id, "identity")
        )
        if submission_id is not None:
            sub = subs.get_submission(
                session, client_id=client_id, submission_id=submission_id, lock=True
            )
            subs.require_draft(sub)
            if sub.service_id != row.service_id:
                raise Problem(
                    "conflict", detail="Die Identifizierung gehört zu einem anderen Angebot."
                )
            report = build_report(result, key=report_key(ctx), issued_at=now)
            sub.identity_sealed = ctx.keyring.seal_json(
                {**result, "identification_id": row.id, "report": report},
                aad=subs.identity_aad(sub.id),
            )
            how = "identified_bundid" if result.get("method") == "bundid" else "identified"
            subs.add_event(sub, at=now, status=how)
        # Deleted after redemption: only the status remains.
        row.identity_sealed = None
        row.code_hash = None
        row.status = REDEEMED
        row.updated_at = now
    return result


def purge_expired(ctx: GatewayContext) -> int:
    """Delete identifications past their lifetime (results included), and BundID assertion
    ids past their expiry (they could not be accepted anyway)."""
    with ctx.db.writing() as session:
        session.execute(
            delete(SamlAssertion)
            .where(SamlAssertion.expires_at < ctx.clock() - timedelta(minutes=5))
            .execution_options(synchronize_session=False)
        )
        result = session.execute(
            delete(Identification)
            .where(Identification.expires_at < ctx.clock())
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class IdentificationJanitor:
    """Deletes identifications (and any result still held) once their lifetime is over."""

    def __init__(self, ctx: GatewayContext, interval: float = 60.0) -> None:
        self.ctx = ctx
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        """Purge until ``stop`` is set."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(purge_expired, self.ctx)
            except Exception as exc:  # housekeeping must not end the process
                log.error("identification purge failed", exc_info=exc)
            await wait_or_stop(stop, self.interval)
