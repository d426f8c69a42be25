"""The webhook instance: signs and posts case events through its client."""

from __future__ import annotations

import httpx
from standardwebhooks import Webhook

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    DeliveryRequest,
    DeliveryResult,
)
from ozg_gateway.connectors.threads import BlockingCalls
from ozg_gateway.connectors.translate import error_for_response
from ozg_gateway.connectors.webhook.client import WebhookClient
from ozg_gateway.connectors.webhook.mapping import build_request, parse_reference
from ozg_gateway.connectors.webhook.settings import WebhookSettings
from ozg_gateway.runtime import Clock, system_clock


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
        self.client = WebhookClient(settings, transport=transport)
        self._calls = BlockingCalls(settings.max_connections, name=f"hook-{name}")

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """POST the signed event."""
        body, headers = build_request(
            request,
            signers=self._signers,
            timestamp=self._clock(),
            attachment_url=self._attachment_url,
        )
        response = await self._calls.run(self.client.post, self.url, body, headers)
        error = error_for_response(response, what="webhook receiver")
        if error is not None:
            raise error
        return DeliveryResult(remote_reference=parse_reference(response))

    async def check(self, *, timeout: float) -> None:
        """GET check_url (2xx) or HEAD url (anything below 500 means reachable)."""
        if self.check_url:
            check_url = self.check_url
            response = await self._calls.run(self.client.probe, "GET", check_url, timeout=timeout)
            error = error_for_response(response, what="health check")
        else:
            response = await self._calls.run(self.client.probe, "HEAD", self.url, timeout=timeout)
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
        self.client.close()


def _build(name: str, settings: WebhookSettings, env: ConnectorEnv) -> WebhookConnector:
    return WebhookConnector(name, settings, env)
