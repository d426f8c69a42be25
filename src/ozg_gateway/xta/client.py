"""XTA 2 V3 client: management and send port calls over SOAP 1.2 (+ MTOM), mutual TLS.

Uses lxml and httpx directly (zeep cannot send MTOM). Requests are streamed when MTOM is on."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx
from lxml import etree

from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.connectors.translate import error_for_response, streaming
from ozg_gateway.errors import PermanentError
from ozg_gateway.http import sync_client
from ozg_gateway.xta.container import (
    XOP,
    generic_container,
    mtom_content_type,
    mtom_stream,
)
from ozg_gateway.xta.faults import parse_fault
from ozg_gateway.xta.mapping import Outgoing, TransportReport, parse_transport_report
from ozg_gateway.xta.messages import (
    ACTIONS,
    OSCI,
    SOAP12,
    WSA,
    XTA,
    PartyId,
    author,
    close_request,
    envelope,
    fetch_request,
    lookup_service_request,
    message_metadata,
    status_list_request,
)
from ozg_gateway.xta.mtom import MtomReader, PartSink, is_mtom
from ozg_gateway.xta.settings import XtaSettings

S = TypeVar("S", bound=PartSink)


class XtaClient:
    """I/O only."""

    def __init__(
        self,
        name: str,
        settings: XtaSettings,
        env: ConnectorEnv,
        *,
        call_ids: Callable[[], str] = lambda: str(uuid.uuid4()),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.urls = {
            "management": env.expand(settings.management_url),
            "send": env.expand(settings.send_url),
            "msgbox": env.expand(settings.msgbox_url),
        }
        self.party = PartyId(settings.author, settings.author_type, settings.author_category)
        self._ids = call_ids
        self._http = sync_client(timeouts=settings.timeouts, tls=settings.tls, transport=transport)

    def _exchange(
        self,
        port: str,
        operation: str,
        content: bytes | Iterator[bytes],
        content_type: str,
        open_part: Callable[[str, str], PartSink] | None = None,
    ) -> etree._Element:
        """POST one call and read the answer as a stream; MTOM parts go to ``open_part``."""
        with streaming(
            self._http,
            "POST",
            self.urls[port],
            content=content,
            headers={"Content-Type": content_type},
        ) as response:
            answer_type = response.headers.get("content-type", "")
            if is_mtom(answer_type):
                reader = MtomReader(answer_type, open_part or _discarding)
                for chunk in response.iter_bytes():
                    reader.feed(chunk)
                raw = reader.finish()
            else:
                raw = response.read()
        fault = parse_fault(raw) if raw.lstrip().startswith(b"<") else None
        if fault is not None:
            raise fault
        error = error_for_response(response, what=f"XTA {operation}")
        if error is not None:
            raise error
        body = etree.fromstring(raw, _PARSER).find(f"{{{SOAP12}}}Body")
        if body is None:
            raise PermanentError(f"XTA {operation}: answer without SOAP body")
        return body

    def _call(
        self,
        port: str,
        operation: str,
        body: etree._Element | None,
        headers: list[etree._Element],
        open_part: Callable[[str, str], PartSink] | None = None,
    ) -> etree._Element:
        xml = envelope(
            operation=operation, to=self.urls[port], call_id=self._ids(), headers=headers, body=body
        )
        action = ACTIONS[operation]
        content_type = f'application/soap+xml; charset=utf-8; action="{action}"'
        return self._exchange(port, operation, xml, content_type, open_part)

    def check_account_active(self) -> None:
        """Health: is our Author account usable?"""
        self._call("management", "checkAccountActive", None, [author(self.party)])

    def create_message_id(self) -> str:
        """A fresh XTA message id (persist it before sending)."""
        body = self._call("management", "createMessageId", None, [author(self.party)])
        message_id = body.findtext(f"{{{WSA}}}MessageID")
        if not message_id:
            raise PermanentError("createMessageId answered without MessageID")
        return message_id

    def get_transport_report(self, message_id: str) -> TransportReport:
        """The transport report of a sent message (InvalidMessageId if it was never sent)."""
        request = etree.Element(f"{{{WSA}}}MessageID", nsmap={"wsa": WSA})
        request.text = message_id
        body = self._call("management", "getTransportReport", request, [author(self.party)])
        return parse_transport_report(body)

    def lookup_service(self, reader: PartyId, service: str) -> bool | None:
        """Does ``reader`` offer ``service``? None when the server does not know."""
        body = self._call(
            "management",
            "lookupService",
            lookup_service_request(reader, service),
            [author(self.party)],
        )
        value = body.find(f".//{{{XTA}}}IsServiceAvailableValue")
        if value is None or value.findtext(f"{{{XTA}}}ServiceIsAvailable") is None:
            return None
        return value.findtext(f"{{{XTA}}}ServiceIsAvailable", "").strip() in ("true", "1")

    def cancel_message(self, message_id: str) -> None:
        """Withdraw a sent message the reader has not fetched yet (CancelDenied otherwise)."""
        request = etree.Element(f"{{{WSA}}}MessageID", nsmap={"wsa": WSA})
        request.text = message_id
        self._call("management", "cancelMessage", request, [author(self.party)])

    def send_message(self, message: Outgoing) -> None:
        """sendMessage; MTOM streams the parts, otherwise they go inline as base64."""
        self._send("sendMessage", message)

    def send_message_sync(
        self, message: Outgoing, new_sink: Callable[[], S]
    ) -> tuple[etree._Element, list[Received[S]]]:
        """sendMessageSync: the reader's answer (MessageMetaData and its content, streamed)."""
        opened: dict[str, S] = {}
        body = self._send("sendMessageSync", message, _opener(opened, new_sink))
        return _received(body, opened, new_sink)

    def _send(
        self,
        operation: str,
        message: Outgoing,
        open_part: Callable[[str, str], PartSink] | None = None,
    ) -> etree._Element:
        parts = [message.message, *message.attachments]
        size = sum(p.size or 0 for p in parts) or None
        metadata = message_metadata(
            author_party=self.party,
            reader=message.reader,
            message_id=message.message_id,
            service=message.service,
            business_scenario=message.business_scenario,
            message_type=message.message_type,
            payload_schema=message.payload_schema,
            origin=message.now,
            size=size,
            subject=message.subject,
        )
        mtom = self.settings.mtom
        body = generic_container(message.message, list(message.attachments), mtom=mtom)
        xml = envelope(
            operation=operation,
            to=self.urls["send"],
            call_id=self._ids(),
            headers=[metadata],
            body=body,
        )
        action = ACTIONS[operation]
        if not mtom:
            content_type = f'application/soap+xml; charset=utf-8; action="{action}"'
            return self._exchange("send", operation, xml, content_type, open_part)
        boundary = f"xta-{uuid.uuid4().hex}"
        stream = mtom_stream(xml, parts, boundary=boundary, action=action)
        return self._exchange(
            "send", operation, stream, mtom_content_type(boundary, action), open_part
        )

    def _box(
        self,
        operation: str,
        reader: PartyId,
        body: etree._Element,
        open_part: Callable[[str, str], PartSink] | None = None,
    ) -> etree._Element:
        # On mailbox calls the Author header names the reader mailbox being read.
        return self._call("msgbox", operation, body, [author(reader)], open_part)

    def get_status_list(self, reader: PartyId, max_items: int = 100) -> list[etree._Element]:
        """MessageMetaData of the messages waiting for ``reader`` (unclosed ones included)."""
        body = self._box("getStatusList", reader, status_list_request(max_items))
        return list(body.iter(f"{{{OSCI}}}MessageMetaData"))

    def fetch_message(
        self, reader: PartyId, message_id: str, new_sink: Callable[[], S]
    ) -> tuple[etree._Element, list[Received[S]]]:
        """getMessage, streamed: MessageMetaData and each content item written to a new sink.

        Does not change the mailbox; call ``close_message`` after your own commit.
        """
        opened: dict[str, S] = {}
        body = self._box("getMessage", reader, fetch_request(message_id), _opener(opened, new_sink))
        return _received(body, opened, new_sink)

    def get_message(self, reader: PartyId, message_id: str) -> dict[str, bytes]:
        """The message's parts by file name, in memory (small messages, tests)."""
        _meta, items = self.fetch_message(reader, message_id, io.BytesIO)
        return {item.name: item.sink.getvalue() for item in items}

    def close_message(self, reader: PartyId, message_id: str) -> None:
        """Mark a message as fetched — only after it was committed on our side."""
        self._box("close", reader, close_request(message_id))

    def close(self) -> None:
        """Close connections."""
        self._http.close()


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class Received(Generic[S]):
    """One content item of a received message; its bytes went into ``sink``."""

    name: str
    content_type: str
    attachment: bool
    sink: S


def _discarding(_cid: str, _type: str) -> PartSink:
    return io.BytesIO()


def _opener(opened: dict[str, S], new_sink: Callable[[], S]) -> Callable[[str, str], PartSink]:
    def open_part(cid: str, _type: str) -> PartSink:
        opened[cid] = sink = new_sink()
        return sink

    return open_part


def _received(
    body: etree._Element, opened: dict[str, S], new_sink: Callable[[], S]
) -> tuple[etree._Element, list[Received[S]]]:
    envelope_el = body.getparent()
    metadata = (
        envelope_el.find(f"{{{SOAP12}}}Header/{{{OSCI}}}MessageMetaData")
        if envelope_el is not None
        else None
    )
    if metadata is None:
        raise PermanentError("XTA answer without MessageMetaData")
    items: list[Received[S]] = []
    for item in body.iter(f"{{{XTA}}}Message", f"{{{XTA}}}Attachment"):
        include = item.find(f"{{{XOP}}}Include")
        if include is not None:
            cid = include.get("href", "").removeprefix("cid:")
            if cid not in opened:
                raise PermanentError("XTA answer refers to a missing MTOM part")
            sink = opened[cid]
        else:
            sink = new_sink()
            sink.write(base64.b64decode(item.text or ""))
        items.append(
            Received(
                name=item.get("filename") or f"part{len(items)}",
                content_type=item.get("contentType") or "application/octet-stream",
                attachment=item.tag == f"{{{XTA}}}Attachment",
                sink=sink,
            )
        )
    return metadata, items
