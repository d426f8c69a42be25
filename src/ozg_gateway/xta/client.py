"""XTA 2 V3 client: management and send port calls over SOAP 1.2 (+ MTOM), mutual TLS.

Uses lxml and httpx directly (zeep cannot send MTOM). Requests are streamed when MTOM is on.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.errors import PermanentError
from ozg_gateway.http import Timeouts, TlsSettings, sync_client
from ozg_gateway.xta.container import Part, generic_container, mtom_content_type, mtom_stream
from ozg_gateway.xta.faults import parse_fault
from ozg_gateway.xta.messages import (
    ACTIONS,
    OSCI,
    SOAP12,
    WSA,
    XTA,
    Code,
    PartyId,
    author,
    close_request,
    envelope,
    fetch_request,
    message_metadata,
    status_list_request,
)


class XtaSettings(BaseModel):
    """The three port URLs, our identity, transport options."""

    model_config = ConfigDict(extra="forbid")

    management_url: str
    send_url: str
    msgbox_url: str
    author: str = Field(description="Our identifier, prefix:id (e.g. gad:010200100000).")
    author_type: str = "xoev"
    author_category: str | None = None
    mtom: bool = True
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=10, read=120, write=300)


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

    def _post(
        self, port: str, operation: str, content: bytes | Iterator[bytes], content_type: str
    ) -> etree._Element:
        response = send(
            self._http,
            "POST",
            self.urls[port],
            content=content,
            headers={"Content-Type": content_type},
        )
        fault = (
            parse_fault(response.content) if response.content.lstrip().startswith(b"<") else None
        )
        if fault is not None:
            raise fault
        error = error_for_response(response, what=f"XTA {operation}")
        if error is not None:
            raise error
        body = etree.fromstring(response.content).find(f"{{{SOAP12}}}Body")
        if body is None:
            raise PermanentError(f"XTA {operation}: answer without SOAP body")
        return body

    def _call(
        self, port: str, operation: str, body: etree._Element | None, headers: list[etree._Element]
    ) -> etree._Element:
        xml = envelope(
            operation=operation, to=self.urls[port], call_id=self._ids(), headers=headers, body=body
        )
        action = ACTIONS[operation]
        return self._post(
            port, operation, xml, f'application/soap+xml; charset=utf-8; action="{action}"'
        )

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

    def get_transport_report(self, message_id: str) -> int:
        """MessageStatus/Status: 0 open, 1 green, 2 yellow, 3 red."""
        body = self._report(message_id)
        status = body.findtext(f".//{{{XTA}}}MessageStatus/{{{XTA}}}Status")
        return int(status) if status and status.isdigit() else 0

    def _report(self, message_id: str) -> etree._Element:
        request = etree.Element(f"{{{WSA}}}MessageID", nsmap={"wsa": WSA})
        request.text = message_id
        return self._call("management", "getTransportReport", request, [author(self.party)])

    def send_message(
        self,
        *,
        message_id: str,
        reader: PartyId,
        service: str,
        business_scenario: Code,
        message_type: Code,
        payload_schema: str,
        message: Part,
        attachments: list[Part],
        now: datetime,
    ) -> None:
        """sendMessage; MTOM streams the parts, otherwise they go inline as base64."""
        size = sum(p.size or 0 for p in [message, *attachments]) or None
        metadata = message_metadata(
            author_party=self.party,
            reader=reader,
            message_id=message_id,
            service=service,
            business_scenario=business_scenario,
            message_type=message_type,
            payload_schema=payload_schema,
            origin=now,
            size=size,
        )
        mtom = self.settings.mtom
        body = generic_container(message, attachments, mtom=mtom)
        xml = envelope(
            operation="sendMessage",
            to=self.urls["send"],
            call_id=self._ids(),
            headers=[metadata],
            body=body,
        )
        action = ACTIONS["sendMessage"]
        if not mtom:
            self._post(
                "send",
                "sendMessage",
                xml,
                f'application/soap+xml; charset=utf-8; action="{action}"',
            )
            return
        boundary = f"xta-{uuid.uuid4().hex}"
        stream = mtom_stream(xml, [message, *attachments], boundary=boundary, action=action)
        self._post("send", "sendMessage", stream, mtom_content_type(boundary, action))

    def _box(self, operation: str, reader: PartyId, body: etree._Element) -> etree._Element:
        # On mailbox calls the Author header names the reader mailbox being read.
        return self._call("msgbox", operation, body, [author(reader)])

    def get_status_list(self, reader: PartyId, max_items: int = 100) -> list[etree._Element]:
        """MessageMetaData of the messages waiting for ``reader`` (unclosed ones included)."""
        body = self._box("getStatusList", reader, status_list_request(max_items))
        return list(body.iter(f"{{{OSCI}}}MessageMetaData"))

    def get_message(self, reader: PartyId, message_id: str) -> dict[str, bytes]:
        """The message's parts by file name (does not change the mailbox)."""
        body = self._box("getMessage", reader, fetch_request(message_id))
        parts: dict[str, bytes] = {}
        for item in body.iter(f"{{{XTA}}}Message", f"{{{XTA}}}Attachment"):
            parts[item.get("filename") or item.get("id") or f"part{len(parts)}"] = base64.b64decode(
                item.text or ""
            )
        return parts

    def close_message(self, reader: PartyId, message_id: str) -> None:
        """Mark a message as fetched — only after it was committed on our side."""
        self._box("close", reader, close_request(message_id))

    def close(self) -> None:
        """Close connections."""
        self._http.close()
