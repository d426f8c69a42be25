"""The status-webhook instance: posts the event in a delivery's progress to its URL."""

from __future__ import annotations

import httpx
from standardwebhooks import Webhook

from ozg_gateway.connectors.contract import ConnectorEnv, DeliveryRequest, DeliveryResult
from ozg_gateway.connectors.threads import BlockingCalls
from ozg_gateway.connectors.translate import error_for_response
from ozg_gateway.connectors.webhook.client import WebhookClient
from ozg_gateway.connectors.webhook.mapping import parse_reference, signed
from ozg_gateway.connectors.webhook.settings import SigningSettings
from ozg_gateway.errors import ConnectorConfigError
from ozg_gateway.runtime import Clock, system_clock


class StatusHookConnector:
    """Posts status events to the portal URL each delivery names."""

    def __init__(
        self,
        name: str,
        settings: SigningSettings,
        *,
        clock: Clock = system_clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self._signers = [Webhook(s.get_secret_value()) for s in settings.secrets]
        self._clock = clock
        self.client = WebhookClient(settings, transport=transport)
        self._calls = BlockingCalls(settings.max_connections, name=f"status-{name}")

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """POST the signed status event to the portal's URL."""
        url, event = request.progress.get("url"), request.progress.get("event")
        if not isinstance(url, str) or not isinstance(event, dict):
            raise ConnectorConfigError("status delivery without url or event")
        body, headers = signed(
            event, msg_id=request.idempotency_key, signers=self._signers, timestamp=self._clock()
        )
        response = await self._calls.run(self.client.post, url, body, headers)
        error = error_for_response(response, what="portal status URL")
        if error is not None:
            raise error
        return DeliveryResult(remote_reference=parse_reference(response))

    async def check(self, *, timeout: float) -> None:
        """Nothing to reach in advance: every portal has its own URL."""

    async def aclose(self) -> None:
        """Close connections and threads."""
        self._calls.close()
        self.client.close()


def build(name: str, settings: SigningSettings, env: ConnectorEnv) -> StatusHookConnector:
    """The registered factory."""
    return StatusHookConnector(name, settings)
