"""Health, readiness, metrics, OpenAPI."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from ozg_gateway.api.app import create_app
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.store import migrate
from tests.conftest import Api, make_settings
from tests.factories import aem_submission

OPERATION_IDS = {
    "open311Discovery",
    "open311Services",
    "open311ServiceDefinition",
    "open311CreateRequest",
    "open311ListRequests",
    "open311GetRequest",
    "reportCaseStatus",
    "listServices",
    "connectorCallback",
    "getService",
    "createSubmission",
    "getSubmission",
    "downloadStatusDocument",
    "updateSubmission",
    "submitSubmission",
    "uploadAttachment",
    "deleteAttachment",
    "getCase",
    "listCases",
    "leaseCase",
    "ackCase",
    "nackCase",
    "downloadCaseAttachment",
    "getCaseFormat",
    "getServiceFormPdf",
    "createSubmissionFromPdf",
    "getSubmissionReceipt",
    "startPayment",
    "getPayment",
    "paymentReturn",
    "listPayments",
    "refundPayment",
    "epayblNotification",
    "startIdentification",
    "bundidMetadata",
    "bundidLogin",
    "bundidAssertionConsumer",
    "getTcToken",
    "identificationRefresh",
    "redeemIdentification",
    "getSchema",
    "listAuditLog",
    "listDeliveries",
    "listInbound",
    "getDelivery",
    "replayDeliveries",
    "cancelDelivery",
    "listConnectors",
    "liveness",
    "readiness",
    "metrics",
    "problemType",
}


def test_health_and_ready(api: Api) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok"}
    ready = api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["migrations"] == "current"
    # no file-system paths in a public answer
    assert "/" not in str(ready.json()["checks"]["specs"])
    assert ready.json()["checks"]["specs"]["configured"] is True


def test_not_ready_before_migrations(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}")
    ctx = build_context(settings)
    try:
        with TestClient(create_app(ctx)) as http:
            r = http.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["migrations"].startswith("at None")
    finally:
        ctx.close()


def test_metrics_use_route_templates(api: Api) -> None:
    sid = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal).json()["id"]
    api.http.get(f"/v1/submissions/{sid}", headers=api.portal)
    text = api.http.get("/metrics").text
    assert 'route="/v1/submissions/{submission_id}"' in text
    assert sid not in text


def test_request_id_echoed(api: Api) -> None:
    r = api.http.get("/healthz", headers={"X-Request-ID": "portal-abc-12345"})
    assert r.headers["x-request-id"] == "portal-abc-12345"
    generated = api.http.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert generated.headers["x-request-id"] != "bad id\n"


def test_openapi_is_stable_and_documented(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert ops == OPERATION_IDS
    upload = spec["paths"]["/v1/submissions/{submission_id}/attachments"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "413" in upload["responses"]


def test_problem_types_are_explained(api: Api) -> None:
    r = api.http.get("/problems/validation-error").json()
    assert r["status"] == 422
    assert r["what_to_do"]
    assert api.http.get("/problems/nope").status_code == 404


def test_unknown_route_and_method(api: Api) -> None:
    assert api.http.get("/nope").headers["content-type"] == "application/problem+json"
    assert api.http.delete("/v1/services").status_code == 405


def test_ready_while_a_back_office_is_down_and_says_which(api: Api, ctx: GatewayContext) -> None:
    from ozg_gateway.store.models import ConnectorState

    with ctx.db.writing() as session:
        session.add(
            ConnectorState(
                name="aem-system",
                last_check_at=ctx.clock(),
                last_check_ok=False,
                last_error="connection refused",
                updated_at=ctx.clock(),
            )
        )
    ready = api.http.get("/readyz")
    assert ready.status_code == 200  # the gateway itself still takes and keeps cases
    assert ready.json()["checks"]["connectors"]["down"] == ["aem-system"]
    metrics = api.http.get("/metrics").text
    assert 'ozg_connector_health_state{connector="aem-system"} 2.0' in metrics
    assert 'ozg_connector_health_state{connector="kita-fachverfahren"} 3.0' in metrics  # unknown


def test_certificate_expiry_of_every_configured_certificate(tmp_path: Path) -> None:
    from tests.tls import make_pki

    pki = make_pki(tmp_path / "pki")
    hook = {
        "type": "webhook",
        "url": "https://backoffice.example/hook",
        "secrets": ["whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlYw=="],
        "tls": {
            "ca_bundle": str(pki.ca),
            "pkcs12": str(pki.client_p12),
            "pkcs12_password": pki.p12_password,
        },
    }
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", connectors={"aem-system": hook}
    )
    ctx = build_context(settings)
    try:
        migrate.upgrade(ctx.db)
        with TestClient(create_app(ctx)) as http:
            metrics = http.get("/metrics").text
        lines = [row for row in metrics.splitlines() if row.startswith("ozg_certificate_expiry")]
        assert {row.split("}")[0] + "}" for row in lines} == {
            'ozg_certificate_expiry_timestamp_seconds{connector="aem-system",setting="tls.ca_bundle"}',
            'ozg_certificate_expiry_timestamp_seconds{connector="aem-system",setting="tls.pkcs12"}',
        }
        for line in lines:
            assert float(line.rsplit(" ", 1)[1]) > time.time()  # valid today, expiry in future
    finally:
        ctx.close()
