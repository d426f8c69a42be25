"""I/O of a webhook instance: one synchronous httpx client (run in the connector's threads)."""

from __future__ import annotations

import httpx

from ozg_gateway.connectors.translate import send
from ozg_gateway.connectors.webhook.settings import SigningSettings
from ozg_gateway.http import sync_client


class WebhookClient:
    """POST an event, probe for health; transport failures leave as ConnectorErrors."""

    def __init__(
        self, settings: SigningSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = sync_client(
            timeouts=settings.timeouts,
            tls=settings.tls,
            max_connections=settings.max_connections,
            transport=transport,
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """One signed event."""
        return send(self._http, "POST", url, content=body, headers=headers)

    def probe(self, method: str, url: str, *, timeout: float) -> httpx.Response:
        """GET a health URL or HEAD the webhook URL."""
        return send(self._http, method, url, timeout=timeout)

    def close(self) -> None:
        """Close connections."""
        self._http.close()
