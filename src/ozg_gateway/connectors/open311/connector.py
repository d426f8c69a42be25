"""The Open311 instance: renders the report and posts it through its client."""

from __future__ import annotations

import httpx

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    DeliveryRequest,
    DeliveryResult,
    RemoteStatus,
)
from ozg_gateway.connectors.open311.client import Open311Client
from ozg_gateway.connectors.open311.mapping import build_post_body, parse_created, parse_status
from ozg_gateway.connectors.open311.settings import Open311Settings
from ozg_gateway.connectors.threads import BlockingCalls
from ozg_gateway.connectors.translate import error_for_response
from ozg_gateway.errors import ConnectorConfigError


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
        self.client = Open311Client(settings, self.endpoint, transport=transport)
        self._calls = BlockingCalls(4, name=f"open311-{name}")

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """POST {endpoint}/requests.{json|xml} with the report's form fields."""
        if self._render is None:
            raise ConnectorConfigError("open311 needs the catalogue's AEM settings")
        body = build_post_body(
            self._render(request.document, "open311-post"),
            api_key=self.settings.api_key.get_secret_value(),
            jurisdiction_id=self.settings.jurisdiction_id,
        )
        response = await self._calls.run(
            self.client.post_request, body, idempotency_key=request.idempotency_key
        )
        error = error_for_response(response, what="Open311 server")
        if error is not None:
            raise error
        return DeliveryResult(
            remote_reference=parse_created(response.content, self.settings.format)
        )

    async def status(self, reference: str, *, timeout: float) -> RemoteStatus | None:
        """GET requests/{id}: open or closed, the status notes, the last change."""
        response = await self._calls.run(
            self.client.request,
            reference,
            api_key=self.settings.api_key.get_secret_value(),
            timeout=timeout,
        )
        if response.status_code == 404:
            return None
        error = error_for_response(response, what="Open311 server")
        if error is not None:
            raise error
        return parse_status(response.content, self.settings.format)

    async def check(self, *, timeout: float) -> None:
        """GET services (the service list every GeoReport server offers)."""
        response = await self._calls.run(
            self.client.services, jurisdiction_id=self.settings.jurisdiction_id, timeout=timeout
        )
        error = error_for_response(response, what="Open311 health check")
        if error is not None:
            raise error

    async def aclose(self) -> None:
        """Close the HTTP client and its threads."""
        self._calls.close()
        self.client.close()


def _build(name: str, settings: Open311Settings, env: ConnectorEnv) -> Open311Connector:
    return Open311Connector(name, settings, env)
