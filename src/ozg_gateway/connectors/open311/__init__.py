"""``open311`` connector: AEM reports as GeoReport v2 service requests (``POST requests``).

Settings, pure mapping (``build_post_body``, ``parse_created``), I/O (``Open311Connector``) and
the registration object live here; ``simulator`` is a GeoReport v2 server for tests and demo.

GeoReport v2 has no idempotency: a report whose answer got lost is posted again when retried.
The gateway sends its delivery key as ``Idempotency-Key`` for servers that honour it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    ConnectorType,
    DeliveryRequest,
    DeliveryResult,
)
from ozg_gateway.connectors.threads import BlockingCalls
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.errors import ConnectorConfigError, PermanentError
from ozg_gateway.http import HttpUrl, Timeouts, TlsSettings, sync_client


class Open311Settings(BaseModel):
    """Endpoint (e.g. ``https://…/georeport/v2``), API key, optional jurisdiction."""

    model_config = ConfigDict(extra="forbid")

    endpoint: HttpUrl = Field(description="Base URL; requests go to {endpoint}/requests.json.")
    api_key: SecretStr
    jurisdiction_id: str | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=30, write=30)
    tls: TlsSettings | None = None


def build_post_body(form_fields: bytes, *, api_key: str, jurisdiction_id: str | None) -> bytes:
    """The case's form fields plus api_key and jurisdiction_id (pure)."""
    extra = [("api_key", api_key)]
    if jurisdiction_id:
        extra.append(("jurisdiction_id", jurisdiction_id))
    return form_fields + b"&" + urlencode(extra).encode()


def parse_created(body: bytes) -> str:
    """The service request id (or ``token:<token>``) from a POST answer (pure)."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise PermanentError("Open311 answer is not JSON") from exc
    first = data[0] if isinstance(data, list) and data else data
    if not isinstance(first, dict):
        raise PermanentError("Open311 answer without a service request")
    if first.get("service_request_id"):
        return str(first["service_request_id"])[:200]
    if first.get("token"):
        return f"token:{first['token']}"[:200]
    raise PermanentError("Open311 answer without service_request_id or token")


class Open311Connector:
    """Posts AEM reports; the HTTP status decides via the translation table (403: auth)."""

    def __init__(
        self,
        name: str,
        settings: Open311Settings,
        env: ConnectorEnv,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.endpoint = env.expand(settings.endpoint).rstrip("/")
        self._render = env.render
        self._client = sync_client(
            timeouts=settings.timeouts, tls=settings.tls, max_connections=4, transport=transport
        )
        self._calls = BlockingCalls(4, name=f"open311-{name}")

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self._calls.run(send, self._client, method, url, **kwargs)

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """POST {endpoint}/requests.json with the report's form fields."""
        if self._render is None:
            raise ConnectorConfigError("open311 needs the catalogue's AEM settings")
        body = build_post_body(
            self._render(request.document, "open311-post"),
            api_key=self.settings.api_key.get_secret_value(),
            jurisdiction_id=self.settings.jurisdiction_id,
        )
        response = await self._call(
            "POST",
            f"{self.endpoint}/requests.json",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": request.idempotency_key,
            },
        )
        error = error_for_response(response, what="Open311 server")
        if error is not None:
            raise error
        return DeliveryResult(remote_reference=parse_created(response.content))

    async def check(self, *, timeout: float) -> None:
        """GET services.json (the service list every GeoReport server offers)."""
        params = (
            {"jurisdiction_id": self.settings.jurisdiction_id}
            if self.settings.jurisdiction_id
            else None
        )
        response = await self._call(
            "GET", f"{self.endpoint}/services.json", params=params, timeout=timeout
        )
        error = error_for_response(response, what="Open311 health check")
        if error is not None:
            raise error

    async def aclose(self) -> None:
        """Close the HTTP client and its threads."""
        self._calls.close()
        self._client.close()


def _build(name: str, settings: Open311Settings, env: ConnectorEnv) -> Open311Connector:
    return Open311Connector(name, settings, env)


CONNECTOR = ConnectorType(
    name="open311",
    description="AEM reports as Open311 GeoReport v2 service requests (POST requests).",
    settings=Open311Settings,
    build=_build,
)
