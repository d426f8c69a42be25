"""External services the gateway uses (payment providers, eID-Server) as connectors.

They receive no cases; their health is the service's own status call.
"""

from __future__ import annotations

import asyncio
from typing import Generic, Protocol, TypeVar

from ozg_gateway.connectors.contract import DeliveryRequest, DeliveryResult
from ozg_gateway.errors import ConnectorConfigError


class StatusClient(Protocol):
    """What a provider client offers the connector wrapper."""

    name: str

    def status(self) -> None:
        """Raise ConnectorError when the provider is not usable."""
        ...

    def close(self) -> None:
        """Close connections."""
        ...


C = TypeVar("C", bound=StatusClient)


class ServiceConnector(Generic[C]):
    """Connector-shaped wrapper around a service client."""

    def __init__(self, client: C) -> None:
        self.name = client.name
        self.client = client

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Services receive no cases."""
        raise ConnectorConfigError(f"{self.name} is a service, not a delivery route")

    async def check(self, *, timeout: float) -> None:
        """The service's status call."""
        await asyncio.to_thread(self.client.status)

    async def aclose(self) -> None:
        """Close connections."""
        self.client.close()
