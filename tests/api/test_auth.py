"""Access control: keys, roles, revocation, back-office offer limits."""

from __future__ import annotations

from sqlalchemy import select

from ozg_gateway.context import GatewayContext
from ozg_gateway.store import clients
from ozg_gateway.store.models import ApiClient, Case
from tests.conftest import ADMIN_KEY, BACKOFFICE_KEY, PORTAL_KEY, Api
from tests.factories import aem_submission


def test_missing_or_unknown_key(api: Api) -> None:
    r = api.http.post("/v1/submissions", json=aem_submission())
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/problem+json"
    assert api.http.get("/v1/submissions/x", headers=api.as_("nope")).status_code == 401


def test_roles(api: Api) -> None:
    for key in (BACKOFFICE_KEY, ADMIN_KEY):
        r = api.http.post("/v1/submissions", json=aem_submission(), headers=api.as_(key))
        assert r.status_code == 403
    assert api.http.get("/v1/admin/audit", headers=api.portal).status_code == 403
    assert api.http.get("/v1/admin/audit", headers=api.as_(ADMIN_KEY)).status_code == 200


def test_keys_are_stored_as_hashes_and_revocable(api: Api, ctx: GatewayContext) -> None:
    with ctx.db.reading() as s:
        stored = s.scalar(select(ApiClient).where(ApiClient.id == "portal-1"))
        assert stored is not None
        assert PORTAL_KEY not in (stored.key_hash, stored.key_hint)
    with ctx.db.writing() as s:
        clients.revoke_client(s, client_id="portal-1", now=ctx.clock())
    r = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal)
    assert r.status_code == 401


def test_backoffice_limited_to_its_offers(api: Api, ctx: GatewayContext) -> None:
    api.http.post("/v1/submissions", json=aem_submission(submit=True), headers=api.portal)
    kita = aem_submission(service_id="kita-anmeldung", submit=True)
    assert api.http.post("/v1/submissions", json=kita, headers=api.portal).status_code == 201
    with ctx.db.reading() as s:
        by_service = {c.service_id: c.id for c in s.scalars(select(Case))}
    backoffice = api.as_(BACKOFFICE_KEY)
    assert (
        api.http.get(f"/v1/cases/{by_service['aem-meldung']}", headers=backoffice).status_code
        == 200
    )
    assert (
        api.http.get(f"/v1/cases/{by_service['kita-anmeldung']}", headers=backoffice).status_code
        == 404
    )
    admin = api.as_(ADMIN_KEY)
    assert (
        api.http.get(f"/v1/cases/{by_service['kita-anmeldung']}", headers=admin).status_code == 200
    )


def test_verified_keys_are_cached_for_a_few_seconds(api: Api, ctx: GatewayContext) -> None:
    ctx.settings = ctx.settings.model_copy(update={"auth_cache_seconds": 60})
    body = aem_submission()
    assert api.http.post("/v1/submissions", json=body, headers=api.portal).status_code == 201
    with ctx.db.writing() as s:
        clients.revoke_client(s, client_id="portal-1", now=ctx.clock())
    # Within the cache time the key still works (documented), then it stops.
    assert api.http.post("/v1/submissions", json=body, headers=api.portal).status_code == 201
    ctx.settings = ctx.settings.model_copy(update={"auth_cache_seconds": 0})
    from ozg_gateway.api import deps

    deps._AUTH_CACHE.clear()
    assert api.http.post("/v1/submissions", json=body, headers=api.portal).status_code == 401
