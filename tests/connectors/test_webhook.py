"""Webhook connector: Standard Webhooks signatures, rotation, status mapping, no redirects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from ozg_gateway.connectors.contract import ConnectorEnv, DeliveryRequest
from ozg_gateway.connectors.registry import build_connectors
from ozg_gateway.connectors.webhook.connector import WebhookConnector
from ozg_gateway.connectors.webhook.mapping import build_request
from ozg_gateway.connectors.webhook.settings import WebhookSettings
from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    PermanentError,
    TransientError,
)

OLD = "whsec_" + "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQ="
NEW = "whsec_" + "bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ="
ENV = ConnectorEnv(public_base_url="https://gw.example", data_dir=Path("."), specs_dir=None)
REQUEST = DeliveryRequest(
    delivery_id="d1",
    idempotency_key="dlv_1",
    attempt=1,
    case_id="c1",
    case_number="MTL-2026-X",
    service_id="aem-meldung",
    document={"case_id": "c1", "attachments": [{"id": "a1", "sha256": "0" * 64}]},
)


def test_signature_verifies_with_either_secret_during_rotation() -> None:
    now = datetime.now(UTC)
    body, headers = build_request(
        REQUEST,
        signers=[Webhook(OLD), Webhook(NEW)],
        timestamp=now,
        attachment_url="{case_id}/{attachment_id}",
    )
    assert headers["webhook-id"] == "dlv_1" == headers["Idempotency-Key"]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (OLD, NEW):
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == "case.submitted"
        assert event["data"]["attachments"][0]["download_url"] == "c1/a1"
    tampered = body.replace(b"c1", b"c2", 1)
    with pytest.raises(Exception, match="signature"):
        Webhook(NEW).verify(tampered, headers)


def _connector(handler: object) -> WebhookConnector:
    settings = WebhookSettings(url="{public_base_url}/hook", secrets=[NEW])
    return WebhookConnector("hook", settings, ENV, transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (400, {}, PermanentError),
        (410, {}, PermanentError),
        (401, {}, ConnectorAuthError),
        (408, {}, TransientError),
        (429, {"Retry-After": "30"}, TransientError),
        (503, {}, TransientError),
        (302, {"Location": "https://elsewhere.example/"}, ConnectorConfigError),
    ],
)
def test_status_mapping(status: int, headers: dict[str, str], error: type[Exception]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers=headers)

    connector = _connector(handler)
    with pytest.raises(error) as info:
        asyncio.run(connector.deliver(REQUEST))
    assert len(seen) == 1  # never follows redirects, never retries on its own
    assert seen[0].url == "https://gw.example/hook"
    if status == 429:
        assert info.value.retry_after == 30  # type: ignore[attr-defined]


def test_success_returns_reference_and_timeouts_are_transient() -> None:
    ok = _connector(lambda r: httpx.Response(200, json={"reference": "AZ-17"}))
    assert asyncio.run(ok.deliver(REQUEST)).remote_reference == "AZ-17"

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TransientError):
        asyncio.run(_connector(slow).deliver(REQUEST))


def test_broken_instance_is_reported_and_others_start() -> None:
    loaded = build_connectors(
        {
            "good": {"type": "webhook", "url": "https://a.example/h", "secrets": [NEW]},
            "bad": {
                "type": "webhook",
                "url": "ftp://x",
                "secrets": ["nope"],
                "timeouts": {"read": -1},
            },
            "typo": {"type": "webhok"},
        },
        ENV,
    )
    assert list(loaded.instances) == ["good"]
    assert any(p.startswith("connectors.bad.url") for p in loaded.errors["bad"])
    assert any(p.startswith("connectors.bad.secrets") for p in loaded.errors["bad"])
    assert any(p.startswith("connectors.bad.timeouts.read") for p in loaded.errors["bad"])
    assert "unknown type 'webhok'" in loaded.errors["typo"][0]


def test_settings_repr_hides_secrets() -> None:
    settings = WebhookSettings(url="https://a.example/h", secrets=[NEW])
    assert NEW not in repr(settings)
