"""I/O of an Open311 instance: POST requests, GET services (run in the connector's threads)."""

from __future__ import annotations

import httpx

from ozg_gateway.connectors.open311.settings import Open311Settings
from ozg_gateway.connectors.translate import send
from ozg_gateway.http import sync_client


class Open311Client:
    """GeoReport v2 calls; transport failures leave as ConnectorErrors."""

    def __init__(
        self, settings: Open311Settings, endpoint: str, *, transport: httpx.BaseTransport | None
    ) -> None:
        self.endpoint = endpoint
        self.suffix = settings.format  # the GeoReport format extension: .json or .xml
        self._http = sync_client(
            timeouts=settings.timeouts, tls=settings.tls, max_connections=4, transport=transport
        )

    def post_request(self, body: bytes, *, idempotency_key: str) -> httpx.Response:
        """POST {endpoint}/requests.{json|xml} (form-encoded)."""
        return send(
            self._http,
            "POST",
            f"{self.endpoint}/requests.{self.suffix}",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": idempotency_key,
            },
        )

    def services(self, *, jurisdiction_id: str | None, timeout: float) -> httpx.Response:
        """GET {endpoint}/services.{json|xml}, the list every GeoReport server offers."""
        params = {"jurisdiction_id": jurisdiction_id} if jurisdiction_id else None
        return send(
            self._http,
            "GET",
            f"{self.endpoint}/services.{self.suffix}",
            params=params,
            timeout=timeout,
        )

    def request(self, request_id: str, *, api_key: str, timeout: float) -> httpx.Response:
        """GET {endpoint}/requests/{id}.{json|xml}: a filed report with its current status."""
        return send(
            self._http,
            "GET",
            f"{self.endpoint}/requests/{request_id}.{self.suffix}",
            params={"api_key": api_key},
            timeout=timeout,
        )

    def close(self) -> None:
        """Close connections."""
        self._http.close()
