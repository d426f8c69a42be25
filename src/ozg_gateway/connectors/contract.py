"""The shape every external system takes: settings, client (I/O only), pure mapping, one
registration object.

A connector *type* (``webhook``, ``pull``, ``xta``, ``fitconnect``, ``open311``,
``xbezahldienste``, ``epaybl``, ``eid``) is one :class:`ConnectorType`, published under the
entry-point group ``ozg_gateway.connectors`` (so a separate package can add one). Connector
*instances* are declared in the config file (``[connectors.<name>] type = "..."``).

Every type has an explicit ``kind``:

``route``
    Cases are pushed to it by the delivery worker; catalogue routes name it. Its instances
    implement :class:`RouteConnector` (below).
``pull``
    Catalogue routes name it, but back offices fetch the cases themselves (pull inbox).
``service``
    A system the gateway uses (payment provider, eID-Server): never a route. Its instance is
    a :class:`ServiceConnector` whose ``client`` implements the domain's typed protocol
    (``epayment.provider.PaymentProvider``, ``eid.client.EidService``).

Every instance implements :class:`Connector` (``check``, ``aclose``); a route instance also:

``deliver(request)``
    Hand one case to the external system. Return a :class:`DeliveryResult` on success.
    Raise a :class:`~ozg_gateway.errors.ConnectorError` subclass on failure (translate foreign
    exceptions with :func:`ozg_gateway.connectors.translate.translate`); never decide about
    retries yourself. Pass ``request.idempotency_key`` to the receiver (webhook-id header,
    XTA message id, FIT-Connect submission id) so a redelivery after a crash is recognisable.
    Must be safe to call concurrently.

``request.progress`` / ``request.remember(progress)``
    What the connector stored for this delivery in an earlier attempt (parse it with the
    type's ``progress`` model), and a way to store the model durably *before* a step that must
    not be repeated differently after a crash (the XTA message id is remembered before
    sendMessage, so a resend reuses it).

``track(reference=, progress=)`` (optional)
    Connectors whose receivers report later (XTA transport reports) return
    ``DeliveryResult(track=True)`` and implement ``track``; a poller calls it until the
    answer is final (green / yellow / red).

``check()``
    Cheap health probe, bounded by ``timeout`` seconds; raise a ConnectorError when down.

``aclose()``
    Release connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment of the case being delivered; ``open`` streams its plaintext."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    open: Callable[[], AsyncIterator[bytes]]


async def _forget(_progress: BaseModel) -> None:
    """Default ``remember`` for requests built outside the worker (tests, tools)."""


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
    progress: Mapping[str, Any] = field(default_factory=dict)
    remember: Callable[[BaseModel], Awaitable[None]] = field(default=_forget)


@dataclass(frozen=True)
class DeliveryResult:
    """Success: the receiver's own reference, if it gave one."""

    remote_reference: str | None = None
    detail: str | None = None
    track: bool = False  # the receiver's final report comes later, via ``track``


@dataclass(frozen=True)
class RemoteStatus:
    """What the receiving system says about a case it took: ``closed`` or ``open``, its note
    and when it last changed (for back offices that keep the status themselves)."""

    closed: bool
    notes: str | None
    updated_at: datetime | None


@runtime_checkable
class StatusFollowing(Protocol):
    """A route connector whose receiver can be asked how a delivered case stands."""

    async def status(self, reference: str, *, timeout: float) -> RemoteStatus | None:
        """The receiver's word on the case it filed under ``reference`` (None: unknown)."""
        ...


@dataclass(frozen=True)
class TrackResult:
    """A tracked delivery's report: open / green / yellow / red, with the reasons given."""

    status: str
    detail: str | None = None

    @property
    def final(self) -> bool:
        """Green, yellow and red do not change any more."""
        return self.status != "open"


@dataclass(frozen=True)
class ConnectorEnv:
    """What connector factories may use besides their settings."""

    public_base_url: str
    data_dir: Path
    specs_dir: Path | None
    extras: dict[str, Any] = field(default_factory=dict)
    # Renders a case document in a standard format ("xfall", "open311", ...) with the
    # catalogue's settings; connectors use it instead of reaching into the catalogue.
    render: Callable[[Mapping[str, Any], str], bytes] | None = None

    def expand(self, url: str) -> str:
        """A configured URL with ``{public_base_url}`` replaced by the gateway's own address."""
        return url.format(public_base_url=self.public_base_url.rstrip("/"))


@runtime_checkable
class Tracking(Protocol):
    """A connector whose receiver reports on a delivery after accepting it."""

    async def track(self, *, reference: str, progress: Mapping[str, Any]) -> TrackResult:
        """The current report for a delivered message (``progress``: what ``remember`` kept);
        raise ConnectorError if unreadable."""
        ...


@dataclass(frozen=True)
class InboundFile:
    """One file of a received message, already written to ``blob`` (a PendingBlob)."""

    name: str
    content_type: str
    blob: Any
    primary: bool  # the message itself (vs. an attachment)


@dataclass(frozen=True)
class InboundMessage:
    """A message taken from an external system, ready to become a case of ``offer_id``."""

    external_id: str
    offer_id: str
    channel: str
    message_type: str | None
    sender: str | None
    files: tuple[InboundFile, ...]


class InboundSink(Protocol):
    """The gateway's side of receiving: de-duplicate, store files, commit cases."""

    async def known(self, external_id: str) -> bool:
        """True if this message was committed (or rejected) before."""
        ...

    def new_blob(self) -> Any:
        """A PendingBlob for one file (written from the connector's thread)."""
        ...

    async def accept(self, message: InboundMessage) -> str:
        """Commit the case (files, deliveries, de-dup record) and return its id."""
        ...

    async def reject(self, *, external_id: str, message_type: str | None, reason: str) -> None:
        """Record a message that will not become a case (unsupported type)."""
        ...

    async def answer(self, message: InboundMessage) -> bool:
        """A back office's status answer about a case it was sent (not a new case): apply it
        and record the message; False if it was refused (recorded with the reason)."""
        ...


class InboundRouting(BaseModel):
    """What every receiving connector's ``inbound`` settings share: kind → offer, interval."""

    model_config = ConfigDict(extra="forbid")

    offers: dict[str, str] = Field(
        default_factory=dict, description="Kind of received message → offer id of the new case."
    )
    default_offer: str | None = Field(
        default=None, description="Offer for kinds not listed in ``offers``."
    )
    poll_interval_seconds: float = Field(default=30, gt=0)

    def offer_for(self, kind: str | None) -> str | None:
        """The offer a received kind becomes, if supported."""
        return self.offers.get(kind or "", self.default_offer)

    def all_offers(self) -> set[str]:
        """Every offer a received message may become (checked against the catalogue)."""
        return set(self.offers.values()) | ({self.default_offer} if self.default_offer else set())


@runtime_checkable
class Receiving(Protocol):
    """A connector that also receives: poll the external system, hand messages to the sink.

    Close or acknowledge a message at the external system only after ``sink.accept``
    returned; a crash in between means it is fetched again and ``sink.known`` says so.
    """

    receive_interval: float

    def inbound_offers(self) -> set[str]:
        """Offer ids received messages may become (checked against the catalogue at start)."""
        ...

    async def receive(self, sink: InboundSink) -> int:
        """One round; return the number of messages accepted."""
        ...


@runtime_checkable
class CallbackReceiving(Protocol):
    """A connector whose external system announces news by calling the gateway back.

    ``callback`` checks the call (signature, freshness) without I/O and returns what it
    announces: ``"new-submissions"`` (a receiving round is due) or ``"new-events"`` (tracked
    reports are due); None for a call that is not authentic, which is then ignored.
    """

    def callback(self, *, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """What an authentic callback announces, or None."""
        ...


@runtime_checkable
class Connector(Protocol):
    """A configured instance of any connector type (see module docstring)."""

    name: str

    async def check(self, *, timeout: float) -> None:
        """Raise ConnectorError if the external system is not usable."""
        ...

    async def aclose(self) -> None:
        """Release resources."""
        ...


@runtime_checkable
class RouteConnector(Connector, Protocol):
    """An instance of a ``route`` type: the worker hands it cases."""

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Hand one case over; raise ConnectorError on failure."""
        ...


Kind = Literal["route", "pull", "service"]


@dataclass(frozen=True)
class ConnectorType:
    """Registration object of a connector type (published as an entry point)."""

    name: str
    description: str
    settings: type[BaseModel]
    build: Callable[[str, Any, ConnectorEnv], Connector]
    kind: Kind = "route"
    # What one delivery remembers across attempts (route kinds that continue where they
    # stopped): the model ``remember`` stores and ``progress`` is parsed with.
    progress: type[BaseModel] | None = None
