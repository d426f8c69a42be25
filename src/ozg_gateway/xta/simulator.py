"""An XTA 2 V3 server for tests (management and send ports so far), strict about its input.

Each request must carry the WS-Addressing headers with the port's action, an Author (management)
or MessageMetaData (send) header valid against the OSCI XSD, and a body valid against the XTA
XSD (MTOM parts are resolved first). Violations answer with SOAP 1.2 faults carrying the XTA
exception and error code, as a standard-conformant server would.
"""

from __future__ import annotations

import base64
import email
import email.policy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from lxml import etree

from ozg_gateway.specs import xml_schema
from ozg_gateway.xta.container import XOP
from ozg_gateway.xta.messages import ACTIONS, OSCI, SOAP12, WSA, XTA
from ozg_gateway.xta.messages import OSCI_TRANSPORT as BOX

META_XSD = "xta/OSCI_MessageMetaData_V2.02.xsd"
XTA_XSD = "xta/XTA-Webservice-Globale-Elemente.xsd"
BOX_XSD = "xta/OSCI2_02.xsd"


@dataclass
class Stored:
    """A message in a reader's mailbox."""

    message_id: str
    metadata: bytes
    parts: dict[str, bytes]
    content_types: dict[str, str] = field(default_factory=dict)
    closed: bool = False


@dataclass
class XtaState:
    """Mailboxes by reader identifier, issued message ids."""

    mailboxes: dict[str, list[Stored]] = field(default_factory=dict)
    issued: set[str] = field(default_factory=set)


def _fault(exception: str, code: int, text: str) -> Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:xta="{XTA}"><soap:Body><soap:Fault>'
        "<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="de">{text}</soap:Text></soap:Reason>'
        f"<soap:Detail><xta:{exception}><xta:errorCode><code>{code}</code><name>{text}</name>"
        f"</xta:errorCode></xta:{exception}></soap:Detail></soap:Fault></soap:Body></soap:Envelope>"
    )
    return Response(body.encode(), status_code=500, media_type="application/soap+xml")


def _box_header(pending: int) -> etree._Element:
    response = etree.Element(f"{{{BOX}}}MsgBoxResponse", nsmap={"osci": BOX}, MsgBoxRequestID="1")
    if pending > 0:
        etree.SubElement(response, f"{{{BOX}}}ItemsPending").text = str(pending)
    else:
        etree.SubElement(
            response, f"{{{BOX}}}NoMessageAvailable", reason=f"{BOX}/MsgBox/reasons/NoMatch"
        )
    return response


def _answer(
    operation: str, relates_to: str, body: etree._Element | None, *headers: etree._Element
) -> Response:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12, "wsa": WSA})
    header = etree.SubElement(env, f"{{{SOAP12}}}Header")
    etree.SubElement(header, f"{{{WSA}}}Action").text = ACTIONS[operation] + "Response"
    etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    for extra in headers:
        header.append(extra)
    soap_body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    if body is not None:
        soap_body.append(body)
    return Response(etree.tostring(env), media_type="application/soap+xml")


def create_xta_simulator(specs_dir: Path, state: XtaState | None = None) -> FastAPI:
    """ASGI app with ``/management``, ``/send`` and ``/msgbox``."""
    app = FastAPI(title="XTA simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.xta = state = state or XtaState()

    async def parse(request: Request) -> tuple[etree._Element, dict[str, bytes]]:
        raw = await request.body()
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/related"):
            msg = email.message_from_bytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + raw, policy=email.policy.HTTP
            )
            parts = list(msg.iter_parts())
            payloads: list[bytes] = [p.get_payload(decode=True) for p in parts]  # type: ignore[misc]
            blobs = {
                str(p["Content-ID"]).strip("<>"): data
                for p, data in zip(parts[1:], payloads[1:], strict=True)
            }
            return etree.fromstring(payloads[0]), blobs
        return etree.fromstring(raw), {}

    def check_addressing(root: etree._Element, operation: str) -> str | Response:
        header = root.find(f"{{{SOAP12}}}Header")
        action = header.findtext(f"{{{WSA}}}Action") if header is not None else None
        message_id = header.findtext(f"{{{WSA}}}MessageID") if header is not None else None
        if action != ACTIONS[operation] or not (message_id or "").startswith("urn:uuid:"):
            return _fault(
                "ParameterIsNotValidException", 9020, "WS-Addressing headers missing or wrong"
            )
        if (
            header is None
            or header.find(f"{{{WSA}}}To") is None
            or header.find(f"{{{WSA}}}ReplyTo") is None
        ):
            return _fault("ParameterIsNotValidException", 9020, "WS-Addressing To/ReplyTo missing")
        return message_id or ""

    def valid(relative: str, element: etree._Element | None) -> bool:
        return element is not None and bool(xml_schema(specs_dir, relative).validate(element))

    def authored(
        root: etree._Element, operations: tuple[str, ...]
    ) -> tuple[str, str, etree._Element] | Response:
        """Operation, the caller's WS-A MessageID and its valid Author header; else a fault."""
        header = root.find(f"{{{SOAP12}}}Header")
        action = header.findtext(f"{{{WSA}}}Action") if header is not None else None
        operation = next((op for op, uri in ACTIONS.items() if uri == action), None)
        if operation not in operations:
            return _fault("ParameterIsNotValidException", 9020, "unknown action")
        relates = check_addressing(root, operation)
        if isinstance(relates, Response):
            return relates
        author_el = header.find(f"{{{OSCI}}}Author") if header is not None else None
        if author_el is None or not valid(META_XSD, author_el):
            return _fault("PermissionDeniedException", 9010, "Author missing or invalid")
        return operation, relates, author_el

    @app.post("/management")
    async def management(request: Request) -> Response:
        root, _parts = await parse(request)
        checked = authored(root, ("checkAccountActive", "createMessageId", "getTransportReport"))
        if isinstance(checked, Response):
            return checked
        operation, relates, _author = checked
        if operation == "checkAccountActive":
            return _answer(operation, relates, None)
        if operation == "createMessageId":
            message_id = f"urn:de:xta:messageid:simulator:{uuid.uuid4()}"
            state.issued.add(message_id)
            element = etree.Element(f"{{{WSA}}}MessageID", nsmap={"wsa": WSA})
            element.text = message_id
            return _answer(operation, relates, element)
        asked = root.findtext(f"{{{SOAP12}}}Body/{{{WSA}}}MessageID") or ""
        if asked not in state.issued:
            return _fault("InvalidMessageIDException", 9070, "unknown message id")
        delivered = any(m.message_id == asked for box in state.mailboxes.values() for m in box)
        report = etree.Element(f"{{{XTA}}}TransportReport", nsmap={"xta": XTA})
        etree.SubElement(report, f"{{{XTA}}}ReportTime").text = datetime.now(UTC).isoformat()
        status = etree.SubElement(report, f"{{{XTA}}}MessageStatus")
        etree.SubElement(status, f"{{{XTA}}}Status").text = "1" if delivered else "0"
        return _answer(operation, relates, report)

    @app.post("/send")
    async def send(request: Request) -> Response:
        root, blobs = await parse(request)
        relates = check_addressing(root, "sendMessage")
        if isinstance(relates, Response):
            return relates
        header = root.find(f"{{{SOAP12}}}Header")
        metadata = header.find(f"{{{OSCI}}}MessageMetaData") if header is not None else None
        if not valid(META_XSD, metadata):
            return _fault("MessageSchemaViolationException", 9050, "MessageMetaData invalid")
        assert metadata is not None
        container = root.find(f"{{{SOAP12}}}Body/{{{XTA}}}GenericContentContainer")
        if container is None:
            return _fault("MessageSchemaViolationException", 9050, "container missing")
        parts: dict[str, bytes] = {}
        types: dict[str, str] = {}
        for item in container.iter(f"{{{XTA}}}Message", f"{{{XTA}}}Attachment"):
            include = item.find(f"{{{XOP}}}Include")
            if include is not None:  # resolve XOP: the part's bytes become the element content
                cid = include.get("href", "").removeprefix("cid:")
                if cid not in blobs:
                    return _fault("ParameterIsNotValidException", 9020, "MTOM part missing")
                item.remove(include)
                item.text = base64.b64encode(blobs[cid]).decode()
                parts[item.get("filename") or cid] = blobs[cid]
            else:
                parts[item.get("filename") or "part"] = base64.b64decode(item.text or "")
            types[item.get("filename") or "part"] = (
                item.get("contentType") or "application/octet-stream"
            )
        if not valid(XTA_XSD, container):
            return _fault("MessageSchemaViolationException", 9051, "container invalid")
        message_id = metadata.findtext(f"{{{OSCI}}}MsgIdentification/{{{WSA}}}MessageID") or ""
        if message_id not in state.issued:
            return _fault("InvalidMessageIDException", 9070, "message id not issued by this server")
        reader = (
            metadata.findtext(f"{{{OSCI}}}Destinations/{{{OSCI}}}Reader/{{{OSCI}}}Identifier") or ""
        )
        state.mailboxes.setdefault(reader, []).append(
            Stored(message_id, etree.tostring(metadata), parts, types)
        )
        return _answer("sendMessage", relates, None)

    @app.post("/msgbox")
    async def msgbox(request: Request) -> Response:
        root, _parts = await parse(request)
        checked = authored(root, ("getStatusList", "getMessage", "close"))
        if isinstance(checked, Response):
            return checked
        operation, relates, reader_el = checked
        # On mailbox calls the Author header names the reader mailbox being read.
        reader = reader_el.findtext(f"{{{OSCI}}}Identifier") or ""
        body = root.find(f"{{{SOAP12}}}Body")
        request_el = (
            next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
        )
        if not valid(BOX_XSD, request_el):
            return _fault("ParameterIsNotValidException", 9021, "mailbox request invalid")
        assert request_el is not None
        box = [m for m in state.mailboxes.get(reader, []) if not m.closed]
        if operation == "getStatusList":
            listing = etree.Element(f"{{{BOX}}}MsgStatusList", nsmap={"osci": BOX})
            for stored in box:
                listing.append(etree.fromstring(stored.metadata))
            return _answer(operation, relates, listing, _box_header(len(box)))
        wanted = (
            request_el.findtext(f".//{{{WSA}}}MessageID")
            or request_el.findtext(f"{{{BOX}}}LastMsgReceived")
            or ""
        )
        match = next((m for m in box if m.message_id == wanted), None)
        if match is None:
            return _fault("InvalidMessageIDException", 9070, "no such message in this mailbox")
        if operation == "close":
            match.closed = True
            return _answer(operation, relates, None)
        container = etree.Element(f"{{{XTA}}}GenericContentContainer", nsmap={"xta": XTA})
        content = etree.SubElement(container, f"{{{XTA}}}ContentContainer")
        for i, (name, data) in enumerate(match.parts.items()):
            item = etree.SubElement(
                content,
                f"{{{XTA}}}{'Message' if i == 0 else 'Attachment'}",
                contentType=match.content_types.get(name, "application/octet-stream"),
                filename=name,
            )
            item.text = base64.b64encode(data).decode()
        metadata = etree.fromstring(match.metadata)
        return _answer(operation, relates, container, _box_header(len(box) - 1), metadata)

    return app
