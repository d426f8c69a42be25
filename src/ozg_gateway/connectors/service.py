"""External services the gateway uses (payment providers, eID-Server) as connectors.

They receive no cases: the instance only carries the service's client, which implements the
typed protocol of its domain, and checks health with the service's own status call.
"""

from __future__ import annotations

import asyncio
from typing import Generic, Protocol, TypeVar


class ServiceClient(Protocol):
    """What every service client offers the connector wrapper."""

    name: str

    def health(self) -> None:
        """Raise ConnectorError when the service is not usable."""
        ...

    def close(self) -> None:
        """Close connections."""
        ...


C = TypeVar("C", bound=ServiceClient)


class ServiceConnector(Generic[C]):
    """Instance of a ``service`` connector type: health checks around a typed client."""

    def __init__(self, client: C) -> None:
        self.name = client.name
        self.client = client

    async def check(self, *, timeout: float) -> None:
        """The service's status call."""
        await asyncio.wait_for(asyncio.to_thread(self.client.health), timeout)

    async def aclose(self) -> None:
        """Close connections."""
        self.client.close()
