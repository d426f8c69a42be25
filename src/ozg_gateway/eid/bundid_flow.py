"""Identification through BundID: start, the login form, the assertion consumer service.

The result travels exactly like an eID-Server result (``service._finish``): sealed briefly,
a one-time code to the portal's allow-listed return URL, redeemed server to server, deleted
after. The request id (InResponseTo) is sealed in the identification and consumed once;
assertion ids are kept until they expire, so an assertion is never accepted twice.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from ozg_gateway.context import GatewayContext
from ozg_gateway.eid import service
from ozg_gateway.eid.bundid.client import BundIdClient, LoginFailed
from ozg_gateway.eid.bundid.mapping import RANK, BundIdIdentity, Requested, requested
from ozg_gateway.eid.mapping import EidPolicy, Identity
from ozg_gateway.errors import FieldError, Problem, not_found, validation_problem
from ozg_gateway.logging import get_logger
from ozg_gateway.store.models import Identification, SamlAssertion

log = get_logger("ozg_gateway.bundid")
METHOD = "bundid"
TOO_LOW = "Mit dieser Anmeldeart ist das für diese Leistung nötige Vertrauensniveau nicht erreicht."


def bundid_client(ctx: GatewayContext) -> BundIdClient:
    """The configured BundID service provider; 503 if none."""
    client = ctx.connectors.service(ctx.settings.bundid)
    if not isinstance(client, BundIdClient):
        raise Problem("unavailable", detail="Die Anmeldung mit BundID ist nicht eingerichtet.")
    return client


def start(
    ctx: GatewayContext, *, client_id: str, service_id: str, return_url: str
) -> Identification:
    """A new identification through BundID for an offer whose catalogue entry allows it."""
    service.policy_for(ctx, service_id)  # the offer identifies at all
    offer = ctx.catalog.get(service_id)
    if offer is None or METHOD not in offer.eid.methods:
        raise validation_problem(
            [FieldError("/method", "not_offered", "Diese Leistung bietet BundID nicht an.")]
        )
    bundid_client(ctx)
    service.require_return_url(ctx, client_id=client_id, return_url=return_url)
    # The request id is SAML's InResponseTo: sealed, and consumed by the one answer.
    return service.new_identification(
        ctx,
        client_id=client_id,
        service_id=service_id,
        return_url=return_url,
        secret={"method": METHOD, "request_id": f"_{uuid.uuid4().hex}"},
    )


@dataclass(frozen=True)
class Page:
    """HTML with the Content-Security-Policy it needs (its one script carries a nonce)."""

    html: str
    csp: str


def login_page(ctx: GatewayContext, identification_id: str) -> Page:
    """The auto-submitting form that takes the browser to BundID with the signed request.

    Shown once: the back button would post the same request again, so a second visit says
    so instead (BundID's "request already sent" guard on our side).
    """
    with ctx.db.writing() as session:
        row = session.get(Identification, identification_id, with_for_update=True)
        if row is None or row.expires_at < ctx.clock() or row.session_sealed is None:
            raise not_found("Die Identifizierung")
        secret = service.session_secret(ctx, row)
        if secret.get("method") != METHOD or row.status != service.STARTED:
            raise not_found("Die Identifizierung")
        if row.counter > 0:
            return _page(
                "Anmeldung bereits gestartet",
                "<p>Diese Anmeldung wurde schon an BundID geschickt. Bitte beginnen Sie die "
                "Identifizierung im Portal neu.</p>",
            )
        row.counter = 1
        policy = service.policy_for(ctx, row.service_id)
        offer = ctx.catalog.get(row.service_id)
        level = offer.eid.min_level.value if offer and offer.eid.min_level else None
    form = bundid_client(ctx).login_form(
        request_id=str(secret["request_id"]), wanted=_wanted(policy, level), now=ctx.clock()
    )
    target = urlsplit(form.sso_url)
    return _page(
        "Weiter zu BundID",
        f'<form method="post" action="{escape(form.sso_url)}">'
        f'<input type="hidden" name="SAMLRequest" value="{form.saml_request}">'
        f'<input type="hidden" name="RelayState" value="{escape(identification_id)}">'
        "<p>Sie werden zu BundID weitergeleitet.</p>"
        "<noscript><button>Weiter zu BundID</button></noscript></form>",
        autosubmit=True,
        form_action=f"{target.scheme}://{target.netloc}",
    )


def _wanted(policy: EidPolicy, level: str | None) -> Requested:
    checks = (["DateOfBirth"] if policy.min_age is not None else []) + (
        ["CommunityID"] if policy.community_id else []
    )
    return requested(
        required=sorted(policy.required),
        optional=sorted(policy.allowed),
        level=level,
        checks=checks,
    )


def _page(title: str, body: str, *, autosubmit: bool = False, form_action: str = "'none'") -> Page:
    """A small page; the auto-submit script runs under a nonce, and forms may only go to
    BundID (``form-action``)."""
    nonce = secrets.token_urlsafe(16)
    script = f'<script nonce="{nonce}">document.forms[0].submit();</script>' if autosubmit else ""
    html = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"{body}</main>{script}</body></html>"
    )
    csp = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; form-action {form_action}; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    return Page(html, csp)


def consume(ctx: GatewayContext, *, saml_response: str, relay_state: str) -> service.Finished:
    """The assertion consumer service: check everything, then finish like the eID path."""
    with ctx.db.reading() as session:
        row = session.get(Identification, relay_state)
    if row is None or row.expires_at < ctx.clock():
        raise not_found("Die Identifizierung")
    if row.status != service.STARTED or row.session_sealed is None:
        return service.Finished(row.return_url, {"identification": row.id, "error": "already_used"})
    secret = service.session_secret(ctx, row)
    if secret.get("method") != METHOD:
        raise not_found("Die Identifizierung")
    now = ctx.clock()
    try:
        found = bundid_client(ctx).consume(
            saml_response, request_id=str(secret["request_id"]), now=now
        )
        _once(ctx, found)
        identity, extra = _identity(ctx, row.service_id, found, now)
    except LoginFailed as exc:
        log.info("BundID login refused", reason=str(exc)[:120])  # no SAML bodies, no names
        return service._finish(ctx, row.id, None, exc.message, 1)
    return service._finish(ctx, row.id, identity, None, 1, extra)


def _once(ctx: GatewayContext, found: BundIdIdentity) -> None:
    """Record the assertion id; one seen before is a replay."""
    expires = found.expires_at or ctx.clock() + timedelta(minutes=10)
    try:
        with ctx.db.writing() as session:
            session.add(SamlAssertion(id=found.assertion_id[:100], expires_at=expires))
    except IntegrityError:
        raise LoginFailed("assertion replayed") from None


def _identity(
    ctx: GatewayContext, service_id: str, found: BundIdIdentity, now: datetime
) -> tuple[Identity, dict[str, object]]:
    offer = ctx.catalog.get(service_id)
    needed = offer.eid.min_level.value if offer and offer.eid.min_level else "substantial"
    if RANK.get(found.level or "", 0) < RANK[needed]:
        raise LoginFailed(f"level {found.level} below {needed}", TOO_LOW)
    policy = service.policy_for(ctx, service_id)
    age_ok = None
    born = found.attributes.get("DateOfBirth")
    if policy.min_age is not None and isinstance(born, dict) and born.get("date"):
        birthday = date.fromisoformat(str(born["date"]))
        today = now.date()
        years = (
            today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
        )
        age_ok = years >= policy.min_age
    place_ok = None
    if policy.community_id:
        place_ok = str(found.attributes.get("CommunityID", "")).startswith(policy.community_id)
    identity = Identity(
        attributes=found.attributes, age_ok=age_ok, place_ok=place_ok, level=found.level
    )
    visible = policy.visible()
    extra: dict[str, object] = {
        "method": METHOD,
        "proved_by": found.proved_by,
        "trust_levels": {k: v for k, v in found.trust.items() if k in visible},
    }
    return identity, extra
