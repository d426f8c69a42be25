"""``xta`` connector: cases out as XFall over sendMessage, messages in from XTA mailboxes.

Outbound, per offer (or one default route): reader, service URI, business scenario and message
type. The XTA message id from createMessageId is remembered on the delivery *before*
sendMessage; a later attempt with a remembered id first asks for its transport report — if the
server knows the message it was sent already, otherwise it is sent under the same id. So a
crash anywhere in between never produces two different messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from ozg_gateway.connectors.contract import (
    AttachmentRef,
    ConnectorEnv,
    DeliveryRequest,
    DeliveryResult,
    InboundFile,
    InboundMessage,
    InboundSink,
    TrackResult,
)
from ozg_gateway.connectors.threads import BlockingCalls, blocking_chunks
from ozg_gateway.errors import ConnectorConfigError, PermanentError
from ozg_gateway.logging import get_logger
from ozg_gateway.mappings import xfall
from ozg_gateway.runtime import Clock, system_clock
from ozg_gateway.xta.client import XtaClient
from ozg_gateway.xta.container import Part
from ozg_gateway.xta.faults import InvalidMessageId
from ozg_gateway.xta.mapping import Listed, build_outgoing, read_listing
from ozg_gateway.xta.messages import PartyId
from ozg_gateway.xta.settings import XtaConnectorSettings, XtaRoute

log = get_logger("ozg_gateway.xta")


class XtaProgress(BaseModel):
    """What one XTA delivery remembers: the message id, issued once, reused on retries."""

    model_config = ConfigDict(extra="forbid")

    xta_message_id: str | None = None


class XtaConnector:
    """Delivers cases to an XTA server; the client's calls run in a small thread pool."""

    def __init__(
        self,
        name: str,
        settings: XtaConnectorSettings,
        env: ConnectorEnv,
        *,
        clock: Clock = system_clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.client = XtaClient(name, settings, env, transport=transport)
        self._render = env.render
        self._clock = clock
        self._calls = BlockingCalls(settings.max_connections, name=f"xta-{name}")
        self._left: set[str] = set()  # unsupported messages already logged

    def _route(self, service_id: str) -> XtaRoute:
        route = self.settings.routes.get(service_id) or self.settings.route
        if route is None:
            raise ConnectorConfigError(f"no XTA route for offer {service_id}")
        return route

    def _xfall(self, document: dict[str, Any]) -> bytes:
        if self._render is not None:
            return self._render(document, "xfall")
        return xfall.build_xfall(document)

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """createMessageId (remembered) → sendMessage with the XFall container and files."""
        route = self._route(request.service_id)
        progress = XtaProgress.model_validate(request.progress)
        if progress.xta_message_id is not None:
            message_id = progress.xta_message_id
            try:
                await self._calls.run(self.client.get_transport_report, message_id)
                return DeliveryResult(remote_reference=message_id, detail="sent before", track=True)
            except InvalidMessageId:
                pass  # issued but never arrived: send it now under the same id
        else:
            message_id = await self._calls.run(self.client.create_message_id)
            await request.remember(progress.model_copy(update={"xta_message_id": message_id}))
        loop = asyncio.get_running_loop()
        outgoing = build_outgoing(
            request,
            route=route,
            message_id=message_id,
            xfall_xml=self._xfall(request.document),
            attachments=[self._part(a, loop) for a in request.attachments],
            clock=self._clock,
        )
        await self._calls.run(self.client.send_message, outgoing)
        return DeliveryResult(remote_reference=message_id, track=True)

    @staticmethod
    def _part(ref: AttachmentRef, loop: asyncio.AbstractEventLoop) -> Part:
        return Part(
            f"{ref.id}@ozg-gateway",
            ref.content_type,
            blocking_chunks(ref.open, loop),
            filename=ref.filename,
            size=ref.size,
        )

    @property
    def receive_interval(self) -> float:
        """Seconds between mailbox polls; 0 when no inbound mailbox is configured."""
        return self.settings.inbound.poll_interval_seconds if self.settings.inbound else 0.0

    def inbound_offers(self) -> set[str]:
        """Every offer a mailbox message may become."""
        return self.settings.inbound.all_offers() if self.settings.inbound else set()

    async def receive(self, sink: InboundSink) -> int:
        """getStatusList → getMessage → ``sink.accept`` (commit) → close, per reader mailbox."""
        inbound = self.settings.inbound
        if inbound is None:
            return 0
        accepted = 0
        for reader_id in inbound.readers:
            reader = PartyId(reader_id)
            listed = await self._calls.run(self.client.get_status_list, reader, inbound.max_items)
            entries = [read_listing(m) for m in listed]
            left = sum(
                1
                for e in entries
                if inbound.offer_for(e.message_type) is None
                and e.message_type not in inbound.status_message_types
            )
            if inbound.unsupported == "leave" and left == len(listed) == inbound.max_items:
                # The list has no offset: left messages would hide everything behind them.
                log.warning(
                    "XTA mailbox list is full of unsupported messages",
                    connector=self.name,
                    hint="raise inbound.max_items or set inbound.unsupported = 'reject'",
                )
            for entry in entries:
                if entry.message_id is None:
                    continue
                try:
                    accepted += await self._one(sink, reader, entry, entry.message_id)
                except InvalidMessageId:
                    continue  # another gateway instance took it in the meantime
                except PermanentError as exc:
                    # One unreadable message must not hold up the others (transient errors end
                    # the round instead: the server is likely gone); it is tried again next round.
                    log.warning("XTA message not taken", connector=self.name, error_type=exc.kind)
        return accepted

    async def _one(self, sink: InboundSink, reader: PartyId, entry: Listed, message_id: str) -> int:
        if await sink.known(message_id):
            await self._close(reader, message_id)  # committed before, but the close got lost
            return 0
        inbound = self.settings.inbound
        if inbound is not None and entry.message_type in inbound.status_message_types:
            await self._take(sink, reader, entry, message_id, None)
            return 0
        offer_id = inbound.offer_for(entry.message_type) if inbound else None
        if offer_id is None:
            await self._unsupported(sink, reader, entry, message_id)
            return 0
        await self._take(sink, reader, entry, message_id, offer_id)
        return 1

    async def _unsupported(
        self, sink: InboundSink, reader: PartyId, entry: Listed, message_id: str
    ) -> None:
        if self.settings.inbound and self.settings.inbound.unsupported == "reject":
            reason = f"message type {entry.message_type or '?'} is not mapped to an offer"
            await sink.reject(
                external_id=message_id, message_type=entry.message_type, reason=reason
            )
            await self._close(reader, message_id)
        elif message_id not in self._left:
            self._left.add(message_id)
            log.warning(
                "unsupported XTA message left in mailbox",
                connector=self.name,
                message_type=entry.message_type,
            )

    async def _take(
        self,
        sink: InboundSink,
        reader: PartyId,
        entry: Listed,
        message_id: str,
        offer_id: str | None,
    ) -> None:
        """Fetch, hand over (a new case of ``offer_id``, or a status answer without one),
        then close."""
        blobs: list[Any] = []

        def new_blob() -> Any:
            blobs.append(sink.new_blob())
            return blobs[-1]

        try:
            _metadata, items = await self._calls.run(
                self.client.fetch_message, reader, message_id, new_blob
            )
            message = InboundMessage(
                external_id=message_id,
                offer_id=offer_id or "",
                channel="xta",
                message_type=entry.message_type,
                sender=entry.sender,
                files=tuple(
                    InboundFile(i.name, i.content_type, i.sink, primary=not i.attachment)
                    for i in items
                ),
            )
            if offer_id is None:
                await sink.answer(message)
            else:
                await sink.accept(message)
        except BaseException:
            for blob in blobs:
                blob.discard()
            raise
        # Only now, after our commit: a crash before this line means a refetch, de-duplicated.
        await self._close(reader, message_id)

    async def _close(self, reader: PartyId, message_id: str) -> None:
        # 9070 here: another gateway instance took the same message and closed it first.
        with contextlib.suppress(InvalidMessageId):
            await self._calls.run(self.client.close_message, reader, message_id)

    async def track(self, *, reference: str, progress: Mapping[str, Any]) -> TrackResult:
        """The transport report: open until the server has a final traffic light."""
        report = await self._calls.run(self.client.get_transport_report, reference)
        return TrackResult(report.label, "; ".join(report.reasons) or None)

    async def check(self, *, timeout: float) -> None:
        """checkAccountActive for our Author identity."""
        await asyncio.wait_for(self._calls.run(self.client.check_account_active), timeout)

    async def aclose(self) -> None:
        """Close connections and threads."""
        self._calls.close()
        self.client.close()
