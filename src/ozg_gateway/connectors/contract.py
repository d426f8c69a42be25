"""The shape every external system takes: settings, client (I/O only), pure mapping, one
registration object.

A connector *type* (``webhook``, ``pull``, later ``xta``, ``fitconnect``, ``open311``) is
registered once as a :class:`ConnectorType`. Connector *instances* are declared in the config
file (``[connectors.<name>] type = "..."``) and referenced by name from catalogue routes.

An instance implements :class:`Connector`:

``deliver(request)``
    Hand one case to the external system. Return a :class:`DeliveryResult` on success.
    Raise a :class:`~ozg_gateway.errors.ConnectorError` subclass on failure (translate foreign
    exceptions with :func:`ozg_gateway.connectors.translate.translate`); never decide about
    retries yourself. Pass ``request.idempotency_key`` to the receiver (webhook-id header,
    XTA message id, FIT-Connect submission id) so a redelivery after a crash is recognisable.
    Must be safe to call concurrently.

``check()``
    Cheap health probe, bounded by ``timeout`` seconds; raise a ConnectorError when down.

``aclose()``
    Release connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment of the case being delivered; ``open`` streams its plaintext."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    open: Callable[[], AsyncIterator[bytes]]


@dataclass(frozen=True)
class DeliveryRequest:
    """One delivery of one case to one connector instance."""

    delivery_id: str
    idempotency_key: str
    attempt: int
    case_id: str
    case_number: str
    service_id: str
    document: dict[str, Any]
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class DeliveryResult:
    """Success: the receiver's own reference, if it gave one."""

    remote_reference: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ConnectorEnv:
    """What connector factories may use besides their settings."""

    public_base_url: str
    data_dir: Path
    specs_dir: Path | None
    extras: dict[str, Any] = field(default_factory=dict)

    def expand(self, url: str) -> str:
        """A configured URL with ``{public_base_url}`` replaced by the gateway's own address."""
        return url.format(public_base_url=self.public_base_url.rstrip("/"))


@runtime_checkable
class Connector(Protocol):
    """A configured instance of a connector type (see module docstring)."""

    name: str

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Hand one case over; raise ConnectorError on failure."""
        ...

    async def check(self, *, timeout: float) -> None:
        """Raise ConnectorError if the external system is not usable."""
        ...

    async def aclose(self) -> None:
        """Release resources."""
        ...


@dataclass(frozen=True)
class ConnectorType:
    """Registration object of a connector type."""

    name: str
    description: str
    settings: type[BaseModel]
    build: Callable[[str, Any, ConnectorEnv], Connector]
    pushes: bool = True  # False: receivers fetch cases themselves (pull inbox)
    routable: bool = True  # False: a service the gateway uses (payment, eID), not a case route
