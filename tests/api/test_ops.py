"""Health, readiness, metrics, OpenAPI."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from ozg_gateway.api.app import create_app
from ozg_gateway.context import build_context
from tests.conftest import Api, make_settings
from tests.factories import aem_submission

OPERATION_IDS = {
    "listServices",
    "connectorCallback",
    "getService",
    "createSubmission",
    "getSubmission",
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
