"""The request guard: authentication and size limits before the body, rate limits, headers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ozg_gateway.api.app import create_app
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.runtime import SequenceIds
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from ozg_gateway.store.models import ApiClient, Submission
from tests.conftest import PORTAL_KEY, Api, FrozenClock, make_settings
from tests.factories import aem_submission

FIFTY_MB = 50 * 1024 * 1024


def call_raw(
    ctx: GatewayContext, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[bytes, bytes], int]:
    """Call the ASGI app without a client; return status, headers and body reads attempted."""
    app = create_app(ctx)
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"]), reads


def test_no_key_is_refused_before_the_body_is_read(ctx: GatewayContext) -> None:
    headers = {"content-type": "application/json", "content-length": str(FIFTY_MB)}
    status, response_headers, reads = call_raw(ctx, "POST", "/v1/submissions", headers)
    assert status == 401
    assert response_headers[b"content-type"] == b"application/problem+json"
    assert reads == 0
    # an unknown key too, and a key that is fine but a body declared too large
    status, _, reads = call_raw(
        ctx, "POST", "/v1/submissions", {**headers, "authorization": "Bearer nope"}
    )
    assert (status, reads) == (401, 0)
    status, _, reads = call_raw(
        ctx, "POST", "/v1/submissions", {**headers, "authorization": f"Bearer {PORTAL_KEY}"}
    )
    assert (status, reads) == (413, 0)


def test_streamed_body_without_length_stops_at_the_limit(ctx: GatewayContext) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {PORTAL_KEY}"}
    status, response_headers, reads = call_raw(ctx, "POST", "/v1/submissions", headers)
    assert status == 413
    assert response_headers[b"content-type"] == b"application/problem+json"
    # 1 MiB JSON limit, 64 KiB per read: it stops right after the limit, not at 50 MB
    assert reads <= 17


def test_endpoints_without_key_have_small_limits(api: Api) -> None:
    r = api.http.post(
        "/v1/payments/epaybl/notify",
        content=b"a=" + b"x" * (100 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert r.json()["type"] == "/problems/payload-too-large"
    assert "zu groß" in r.json()["detail"]


def test_form_data_and_texts_are_bounded(api: Api, ctx: GatewayContext) -> None:
    body = aem_submission()
    body["form_data"]["beschreibung"] = "x" * 20_000
    r = api.http.post("/v1/submissions", json=body, headers=api.portal)
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/form_data/beschreibung"
    body = aem_submission()
    body["form_data"]["notizen"] = ["y" * 9_000] * 40  # ~360 KB: each text fits, not the total
    r = api.http.post("/v1/submissions", json=body, headers=api.portal)
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "pointer": "/form_data",
        "code": "too_large",
        "detail": "Die Formulardaten sind zu groß (höchstens 262144 Bytes).",
    }
    draft = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal).json()
    r = api.http.patch(
        f"/v1/submissions/{draft['id']}",
        json={"form_data": {"beschreibung": "z" * 20_000}},
        headers=api.portal,
    )
    assert r.status_code == 422
    with ctx.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1


def _limited(
    tmp_path: Path, database_url: str, clock: FrozenClock, rate: dict[str, Any]
) -> Iterator[Api]:
    settings = make_settings(tmp_path, database_url, limits={"rate": rate})
    context = build_context(settings, clock=clock, ids=SequenceIds("id"))
    migrate.upgrade(context.db)
    with context.db.writing() as session:
        for cid in ("portal-a", "portal-b"):
            if session.get(ApiClient, cid) is None:
                clients.add_client(
                    session, client_id=cid, name=cid, role=Role.portal, now=clock(), key=cid * 3
                )
    with TestClient(create_app(context), raise_server_exceptions=False) as http:
        yield Api(http)
    context.close()


@pytest.fixture
def limited(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[Api]:
    rate = {"per_client": "2/minute", "per_address": "3/minute", "operations": ["getSubmission"]}
    yield from _limited(tmp_path, database_url, clock, rate)


def test_open311_reports_are_limited_per_api_key(
    tmp_path: Path, database_url: str, clock: FrozenClock
) -> None:
    """The key travels in the query or the form body, so the route counts it once read."""
    rate = {"per_client": "2/minute", "per_address": "100/minute"}
    for api in _limited(tmp_path, database_url, clock, rate):
        url = "/open311/v2/requests.json"
        for _ in range(2):
            assert api.http.post(url, data={"api_key": "portal-a" * 3}).status_code == 400
        refused = api.http.post(url, data={"api_key": "portal-a" * 3})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()[0]["code"] == 429  # the spec's error list
        xml = api.http.post("/open311/v2/requests.xml", params={"api_key": "portal-a" * 3})
        assert (xml.status_code, xml.text.count("<code>429</code>")) == (429, 1)
        other = api.http.post(url, data={"api_key": "portal-b" * 3})  # same address
        assert other.status_code == 400


def test_rate_limits_per_client_and_per_address(limited: Api) -> None:
    a, b = limited.as_("portal-a" * 3), limited.as_("portal-b" * 3)
    assert [limited.http.get("/v1/submissions/x", headers=a).status_code for _ in range(2)] == [
        404,
        404,
    ]
    r = limited.http.get("/v1/submissions/x", headers=a)
    assert r.status_code == 429
    assert r.json()["type"] == "/problems/too-many-requests"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # another client from the same address: its own window is free, the address's is full
    r = limited.http.get("/v1/submissions/x", headers=b)
    assert r.status_code == 429
    # operations not named are not limited
    assert limited.http.get("/v1/services", headers=a).status_code == 200


def test_security_headers(api: Api) -> None:
    r = api.http.get("/v1/services")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert "strict-transport-security" not in r.headers
    docs = api.http.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "'sha256-" in csp
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src  # styles may be inline, scripts never
    assert "https://" not in csp  # no CDN: the assets are served by the gateway
    asset = api.http.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000
    https = api.http.get("https://testserver/healthz")
    assert https.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.redis
def test_instances_share_rate_limits_through_redis(tmp_path: Path, clock: FrozenClock) -> None:
    """Two API instances, one window: limits.rate.storage_uri points both at Redis."""
    import uuid

    import redis

    db = 15
    server = redis.Redis(host="127.0.0.1", port=6379, db=db)
    try:
        server.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is needed at 127.0.0.1:6379 for the shared rate-limit test")
        pytest.skip("Redis is not running")
    rate = {
        "per_client": "2/minute",
        "per_address": "100/minute",
        "operations": ["getSubmission"],
        "storage_uri": f"redis://127.0.0.1:6379/{db}",
    }
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", limits={"rate": rate})
    context = build_context(settings, clock=clock, ids=SequenceIds("id"))
    migrate.upgrade(context.db)
    key = f"portal-{uuid.uuid4().hex}"  # a window of its own in the shared Redis
    with context.db.writing() as session:
        clients.add_client(
            session, client_id=key[:36], name="p", role=Role.portal, now=clock(), key=key
        )
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with TestClient(create_app(context)) as one, TestClient(create_app(context)) as two:
            assert one.get("/v1/submissions/x", headers=headers).status_code == 404
            assert two.get("/v1/submissions/x", headers=headers).status_code == 404
            assert one.get("/v1/submissions/x", headers=headers).status_code == 429
            assert two.get("/v1/submissions/x", headers=headers).status_code == 429
    finally:
        context.close()
