"""Payment providers as connectors: health through the provider's status call, no case routes."""

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


class PaymentProvider(Generic[C]):
    """Connector-shaped wrapper around a provider client."""

    def __init__(self, client: C) -> None:
        self.name = client.name
        self.client = client

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Payment providers receive no cases."""
        raise ConnectorConfigError("a payment provider is not a delivery route")

    async def check(self, *, timeout: float) -> None:
        """The provider's status call."""
        await asyncio.to_thread(self.client.status)

    async def aclose(self) -> None:
        """Close connections."""
        self.client.close()
