"""``webhook`` connector: POST the case event, signed per Standard Webhooks.

Settings, pure mapping (``build_request``), I/O (``WebhookConnector``) and the registration
object live here; ``receiver`` is a reference receiver used by the demo and the tests.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from standardwebhooks import Webhook

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    ConnectorType,
    DeliveryRequest,
    DeliveryResult,
)
from ozg_gateway.connectors.threads import BlockingCalls
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.http import HttpUrl, Timeouts, TlsSettings, sync_client
from ozg_gateway.mappings.case_document import build_case_event
from ozg_gateway.runtime import Clock, system_clock

SIGNATURE_VERSION = "v1"


class WebhookSettings(BaseModel):
    """Where and how to POST; ``url`` may contain ``{public_base_url}``."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    secrets: list[SecretStr] = Field(
        min_length=1,
        max_length=2,
        description="Standard Webhooks secrets (whsec_...); two during rotation, both sign.",
    )
    check_url: HttpUrl | None = Field(
        default=None, description="GET target for health checks (2xx = up); default: HEAD url."
    )
    timeouts: Timeouts = Timeouts(connect=5, read=15, write=15)
    tls: TlsSettings | None = None
    max_connections: int = Field(default=8, ge=1, le=256)

    @field_validator("secrets")
    @classmethod
    def _valid_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        for secret in value:
            raw = secret.get_secret_value()
            try:
                key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
            except ValueError:
                key = b""
            if not raw.startswith("whsec_") or not 24 <= len(key) <= 64:
                raise ValueError("secrets must be whsec_<base64 of 24 to 64 bytes>")
        return value


def build_request(
    request: DeliveryRequest,
    *,
    signers: list[Webhook],
    timestamp: datetime,
    attachment_url: str,
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of one webhook call (pure)."""
    event = build_case_event(request.document, timestamp=timestamp, attachment_url=attachment_url)
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    msg_id = request.idempotency_key
    signatures = " ".join(s.sign(msg_id, timestamp, body) for s in signers)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "Idempotency-Key": msg_id,
    }
    return body.encode(), headers


def parse_reference(response: httpx.Response) -> str | None:
    """The receiver's reference from a JSON answer ``{"reference": ...}``, if any."""
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        data: Any = response.json()
    except ValueError:
        return None
    ref = data.get("reference") if isinstance(data, dict) else None
    return str(ref)[:200] if ref is not None else None


class WebhookConnector:
    """Posts case events; the HTTP status decides the outcome via the translation table.

    Calls run on a synchronous httpx client in a small thread pool: httpx's async pool slows
    down sharply with many concurrent connections, the sync client in threads does not.
    """

    def __init__(
        self,
        name: str,
        settings: WebhookSettings,
        env: ConnectorEnv,
        *,
        clock: Clock = system_clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = env.expand(settings.url)
        self.check_url = env.expand(settings.check_url) if settings.check_url else None
        self._signers = [Webhook(s.get_secret_value()) for s in settings.secrets]
        self._attachment_url = (
            env.public_base_url.rstrip("/") + "/v1/cases/{case_id}/attachments/{attachment_id}"
        )
        self._clock = clock
        self._client = sync_client(
            timeouts=settings.timeouts,
            tls=settings.tls,
            max_connections=settings.max_connections,
            transport=transport,
        )
        self._calls = BlockingCalls(settings.max_connections, name=f"hook-{name}")

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self._calls.run(send, self._client, method, url, **kwargs)

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """POST the signed event."""
        body, headers = build_request(
            request,
            signers=self._signers,
            timestamp=self._clock(),
            attachment_url=self._attachment_url,
        )
        response = await self._call("POST", self.url, content=body, headers=headers)
        error = error_for_response(response, what="webhook receiver")
        if error is not None:
            raise error
        return DeliveryResult(remote_reference=parse_reference(response))

    async def check(self, *, timeout: float) -> None:
        """GET check_url (2xx) or HEAD url (anything below 500 means reachable)."""
        if self.check_url:
            check_url = self.check_url
            response = await self._call("GET", check_url, timeout=timeout)
            error = error_for_response(response, what="health check")
        else:
            response = await self._call("HEAD", self.url, timeout=timeout)
            error = (
                error_for_response(response, what="health check")
                if response.status_code >= 500
                else None
            )
        if error is not None:
            raise error

    async def aclose(self) -> None:
        """Close the HTTP client and its threads."""
        self._calls.close()
        self._client.close()


def _build(name: str, settings: WebhookSettings, env: ConnectorEnv) -> WebhookConnector:
    return WebhookConnector(name, settings, env)


CONNECTOR = ConnectorType(
    name="webhook",
    description="POST of the normalized case, signed per Standard Webhooks.",
    settings=WebhookSettings,
    build=_build,
)
