"""An XTA 2 V3 server for tests and the demo: all three ports, strict about its input.

Each request must carry the WS-Addressing headers with the port's action, an Author header
(management, mailbox) or MessageMetaData (send) valid against the OSCI XSD, and a body valid
against the XTA / OSCI XSDs (MTOM parts are resolved first). Violations answer with SOAP 1.2
faults carrying the XTA exception and error code, as a standard-conformant server would.

MTOM bodies are parsed as a stream into part files; messages with content are answered as
streamed MTOM. With an accounts file only listed identities are served (others:
PermissionDenied 9010), and an identity bound to a certificate must come with it (9014).
"""

from __future__ import annotations

import base64
import copy
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from lxml import etree

from ozg_gateway.peercert import client_cert_sha256
from ozg_gateway.specs import xml_schema
from ozg_gateway.xta.container import XOP, mtom_content_type
from ozg_gateway.xta.messages import ACTIONS, OSCI, OUTPUT_ACTIONS, SOAP12, WSA, XTA
from ozg_gateway.xta.messages import OSCI_TRANSPORT as BOX
from ozg_gateway.xta.mtom import MtomError, MtomReader, is_mtom
from ozg_gateway.xta.simstore import Stored, StoredPart, XtaState

META_XSD = "xta/OSCI_MessageMetaData_V2.02.xsd"
XTA_XSD = "xta/XTA-Webservice-Globale-Elemente.xsd"
BOX_XSD = "xta/OSCI2_02.xsd"
WSA_XSD = "xta/ws-addr.xsd"
SERVER_ID = "ozg-gateway XTA simulator"
INLINE_LIMIT = 64 * 1024 * 1024
# Inline base64 parts exceed libxml2's 10 MB text-node default; entities stay unresolved.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
CHUNK = 1024 * 1024

__all__ = ["XtaState", "create_xta_simulator"]


class _Fault(Exception):
    def __init__(self, exception: str, code: int, text: str) -> None:
        super().__init__(text)
        self.exception, self.code, self.text = exception, code, text

    def response(self) -> Response:
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:xta="{XTA}"><soap:Body><soap:Fault>'
            "<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="de">{self.text}</soap:Text></soap:Reason>'
            f"<soap:Detail><xta:{self.exception}><xta:errorCode><code>{self.code}</code>"
            f"<name>{self.text}</name></xta:errorCode></xta:{self.exception}></soap:Detail>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
        return Response(body.encode(), status_code=500, media_type="application/soap+xml")


class _FileSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self.handle: BinaryIO = path.open("wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.handle.write(data)


def _box_header(pending: int, request_id: str = "1", reason: str = "NoMatch") -> etree._Element:
    response = etree.Element(
        f"{{{BOX}}}MsgBoxResponse", nsmap={"osci": BOX}, MsgBoxRequestID=request_id
    )
    if pending > 0:
        etree.SubElement(response, f"{{{BOX}}}ItemsPending").text = str(pending)
    else:
        etree.SubElement(
            response, f"{{{BOX}}}NoMessageAvailable", reason=f"{BOX}/MsgBox/reasons/{reason}"
        )
    return response


def _envelope(
    operation: str, relates_to: str, body: etree._Element | None, headers: list[etree._Element]
) -> bytes:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12, "wsa": WSA})
    header = etree.SubElement(env, f"{{{SOAP12}}}Header")
    etree.SubElement(header, f"{{{WSA}}}Action").text = OUTPUT_ACTIONS[operation]
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = f"urn:uuid:{uuid.uuid4()}"
    etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    for extra in headers:
        header.append(extra)
    soap_body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    if body is not None:
        soap_body.append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _answer(
    operation: str, relates_to: str, body: etree._Element | None, *headers: etree._Element
) -> Response:
    return Response(
        _envelope(operation, relates_to, body, list(headers)), media_type="application/soap+xml"
    )


def _container(parts: list[StoredPart], *, mtom: bool, read: Path) -> etree._Element:
    container = etree.Element(f"{{{XTA}}}GenericContentContainer", nsmap={"xta": XTA})
    content = etree.SubElement(container, f"{{{XTA}}}ContentContainer")
    for i, part in enumerate(parts):
        item = etree.SubElement(
            content,
            f"{{{XTA}}}{'Attachment' if part.attachment else 'Message'}",
            contentType=part.content_type,
            filename=part.name,
            size=str(part.size),
        )
        if mtom:
            include = etree.SubElement(item, f"{{{XOP}}}Include", nsmap={"xop": XOP})
            include.set("href", f"cid:part{i}@xta-simulator")
        else:
            item.text = base64.b64encode((read / part.file).read_bytes()).decode()
    return container


def _mtom_answer(
    operation: str,
    relates_to: str,
    body: etree._Element,
    headers: list[etree._Element],
    files: list[tuple[str, str, Path]],
) -> Response:
    boundary = f"xta-sim-{uuid.uuid4().hex}"
    action = OUTPUT_ACTIONS[operation]
    xml = _envelope(operation, relates_to, body, headers)

    def stream() -> Iterator[bytes]:
        dash = f"--{boundary}".encode()
        yield dash + b"\r\n"
        yield (
            b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"'
            b"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root@xta-simulator>\r\n\r\n"
        )
        yield xml
        for cid, ctype, path in files:
            yield b"\r\n" + dash + b"\r\n"
            yield (
                f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{cid}>\r\n\r\n"
            ).encode()
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
        yield b"\r\n" + dash + b"--\r\n"

    return StreamingResponse(
        stream(), media_type=mtom_content_type(boundary, action, "root@xta-simulator")
    )


def create_xta_simulator(
    specs_dir: Path, state: XtaState | None = None, *, mtom_responses: bool = True
) -> FastAPI:
    """ASGI app with ``/management``, ``/send`` and ``/msgbox``."""
    app = FastAPI(title="XTA simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.xta = state = state or XtaState()

    async def parse(request: Request) -> tuple[etree._Element, dict[str, _FileSink]]:
        ctype = request.headers.get("content-type", "")
        sinks: dict[str, _FileSink] = {}
        try:
            if is_mtom(ctype):

                def open_part(cid: str, _type: str) -> _FileSink:
                    sinks[cid] = _FileSink(state.new_part_file())
                    return sinks[cid]

                reader = MtomReader(ctype, open_part)
                async for chunk in request.stream():
                    reader.feed(chunk)
                raw = reader.finish()
            else:
                buffer = bytearray()
                async for chunk in request.stream():
                    buffer += chunk
                    if len(buffer) > INLINE_LIMIT:
                        raise _Fault("ParameterIsNotValidException", 9023, "message too large")
                raw = bytes(buffer)
            root = etree.fromstring(raw, _PARSER)
        except (MtomError, etree.XMLSyntaxError) as exc:
            _discard(sinks)
            raise _Fault("ParameterIsNotValidException", 9020, "malformed request") from exc
        finally:
            for sink in sinks.values():
                sink.handle.close()
        return root, sinks

    def valid(relative: str, element: etree._Element | None) -> bool:
        return element is not None and bool(xml_schema(specs_dir, relative).validate(element))

    def operation_of(root: etree._Element, allowed: tuple[str, ...]) -> tuple[str, str]:
        """Operation and the caller's WS-A MessageID, or a fault."""
        header = root.find(f"{{{SOAP12}}}Header")
        if root.tag != f"{{{SOAP12}}}Envelope" or header is None:
            raise _Fault("ParameterIsNotValidException", 9020, "no SOAP 1.2 envelope with header")
        action = header.findtext(f"{{{WSA}}}Action")
        operation = next((op for op, uri in ACTIONS.items() if uri == action), None)
        if operation not in allowed:
            raise _Fault("ParameterIsNotValidException", 9020, "unknown action for this port")
        message_id = (header.findtext(f"{{{WSA}}}MessageID") or "").strip()
        if ":" not in message_id:  # an absolute URI; ours are urn:uuid:…, others may differ
            raise _Fault("ParameterIsNotValidException", 9020, "WS-Addressing MessageID missing")
        # To and ReplyTo may be left out (WS-Addressing 1.0 defaults: anonymous); every
        # WS-Addressing header given must be valid, and answers go back on the same connection.
        for element in header.iterchildren(f"{{{WSA}}}*"):
            if not valid(WSA_XSD, element):
                name = etree.QName(element).localname
                raise _Fault("ParameterIsNotValidException", 9020, f"wsa:{name} invalid")
        reply_to = header.findtext(f"{{{WSA}}}ReplyTo/{{{WSA}}}Address")
        if reply_to is not None and reply_to.strip() != f"{WSA}/anonymous":
            raise _Fault("ParameterIsNotValidException", 9020, "only anonymous ReplyTo is served")
        return operation, message_id

    def permit(request: Request, identifier: str) -> None:
        """Accounts file and certificate binding (no accounts file: everyone is welcome)."""
        if state.accounts is None:
            return
        account = state.accounts.get(identifier)
        if account is None:
            raise _Fault("PermissionDeniedException", 9010, "identity not known to this server")
        bound = account.certificate_sha256
        if bound is not None and client_cert_sha256(request) != bound:
            raise _Fault("PermissionDeniedException", 9014, "certificate not bound to identity")

    def authored(request: Request, root: etree._Element) -> str:
        author_el = root.find(f"{{{SOAP12}}}Header/{{{OSCI}}}Author")
        if author_el is None or not valid(META_XSD, author_el):
            raise _Fault("PermissionDeniedException", 9010, "Author missing or invalid")
        identifier = author_el.findtext(f"{{{OSCI}}}Identifier") or ""
        permit(request, identifier)
        return identifier

    def body_child(root: etree._Element) -> etree._Element | None:
        body = root.find(f"{{{SOAP12}}}Body")
        return next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None

    def report(stored: Stored) -> etree._Element:
        stored.report_polls += 1
        state.save()
        if stored.report_polls <= state.open_reports:
            status = 0
        else:
            status = 3 if stored.reader in state.red_readers else 1
        element = etree.Element(f"{{{XTA}}}TransportReport", nsmap={"xta": XTA})
        element.append(etree.fromstring(stored.metadata))
        now = datetime.now(UTC).isoformat()
        etree.SubElement(element, f"{{{XTA}}}ReportTime").text = now
        etree.SubElement(element, f"{{{XTA}}}XTAServerIdentity").text = SERVER_ID
        message_status = etree.SubElement(element, f"{{{XTA}}}MessageStatus")
        etree.SubElement(message_status, f"{{{XTA}}}Status").text = str(status)
        if status == 3:
            errors = etree.SubElement(message_status, f"{{{XTA}}}ErrorList")
            record = etree.SubElement(errors, f"{{{XTA}}}Error")
            etree.SubElement(record, f"{{{XTA}}}Timestamp").text = now
            code = etree.SubElement(
                record,
                f"{{{XTA}}}Code",
                listURI="urn:de:xta:codeliste:record.type",
                listVersionID="1.0",
            )
            etree.SubElement(code, "code").text = "9999"
            etree.SubElement(record, f"{{{XTA}}}Reason").text = "Leser hat die Annahme verweigert"
        return element

    def lookup(request_el: etree._Element) -> etree._Element:
        response = etree.Element(f"{{{XTA}}}LookupServiceResponse", nsmap={"xta": XTA})
        results = etree.SubElement(response, f"{{{XTA}}}LookupServiceResultList")
        for asked in request_el.iter(f"{{{XTA}}}LookupService"):
            reader = asked.findtext(f"{{{OSCI}}}Reader/{{{OSCI}}}Identifier") or ""
            result = etree.SubElement(results, f"{{{XTA}}}LookupServiceResult")
            result.extend(copy.deepcopy(child) for child in asked)
            available = state.accounts is None or reader in state.accounts
            value = etree.SubElement(result, f"{{{XTA}}}IsServiceAvailableValue")
            etree.SubElement(value, f"{{{XTA}}}ServiceIsAvailable").text = str(available).lower()
        return response

    @app.get("/")
    async def overview() -> dict[str, object]:
        """Not part of XTA: what the mailboxes hold (for people watching a demo)."""
        return {
            "ports": ["management", "send", "msgbox"],
            "messages": [
                {
                    "message_id": m.message_id,
                    "author": m.author,
                    "reader": m.reader,
                    "state": "cancelled" if m.cancelled else "fetched" if m.closed else "waiting",
                    "files": [{"name": p.name, "size": p.size} for p in m.parts],
                }
                for m in state.messages.values()
            ],
        }

    @app.exception_handler(_Fault)
    async def fault_handler(_request: Request, fault: _Fault) -> Response:
        return fault.response()

    @app.post("/management")
    async def management(request: Request) -> Response:
        root, _parts = await parse(request)
        operation, relates = operation_of(
            root,
            (
                "checkAccountActive",
                "createMessageId",
                "lookupService",
                "getTransportReport",
                "cancelMessage",
            ),
        )
        authored(request, root)
        if operation == "checkAccountActive":
            return _answer(operation, relates, None)
        if operation == "createMessageId":
            message_id = f"urn:de:xta:messageid:simulator:{uuid.uuid4()}"
            state.issued.add(message_id)
            state.save()
            element = etree.Element(f"{{{WSA}}}MessageID", nsmap={"wsa": WSA})
            element.text = message_id
            return _answer(operation, relates, element)
        request_el = body_child(root)
        if operation == "lookupService":
            if not valid(XTA_XSD, request_el):
                raise _Fault("ParameterIsNotValidException", 9021, "LookupServiceRequest invalid")
            assert request_el is not None
            return _answer(operation, relates, lookup(request_el))
        asked = request_el.text if request_el is not None else None
        if (
            request_el is None
            or request_el.tag != f"{{{WSA}}}MessageID"
            or not asked
            or not valid(WSA_XSD, request_el)
        ):
            raise _Fault("ParameterIsNotValidException", 9021, "wsa:MessageID expected")
        stored = state.messages.get(asked)
        if stored is None:
            raise _Fault("InvalidMessageIDException", 9070, "unknown message id")
        if operation == "cancelMessage":
            if stored.closed or stored.cancelled:
                raise _Fault("CancelDeniedException", 9100, "message already delivered")
            stored.cancelled = True
            state.save()
            return _answer(operation, relates, None)
        return _answer(operation, relates, report(stored))

    def store_message(
        request: Request, root: etree._Element, sinks: dict[str, _FileSink]
    ) -> Stored:
        metadata = root.find(f"{{{SOAP12}}}Header/{{{OSCI}}}MessageMetaData")
        if not valid(META_XSD, metadata):
            raise _Fault("MessageSchemaViolationException", 9050, "MessageMetaData invalid")
        assert metadata is not None
        author = metadata.findtext(f"{{{OSCI}}}Originators/{{{OSCI}}}Author/{{{OSCI}}}Identifier")
        permit(request, author or "")
        container = root.find(f"{{{SOAP12}}}Body/{{{XTA}}}GenericContentContainer")
        if container is None:
            raise _Fault("MessageSchemaViolationException", 9050, "container missing")
        parts: list[StoredPart] = []
        try:
            return _keep(request, metadata, container, sinks, parts)
        except _Fault:
            for part in parts:
                state.part_path(part).unlink(missing_ok=True)
            raise

    def _keep(
        request: Request,
        metadata: etree._Element,
        container: etree._Element,
        sinks: dict[str, _FileSink],
        parts: list[StoredPart],
    ) -> Stored:
        for item in container.iter(f"{{{XTA}}}Message", f"{{{XTA}}}Attachment"):
            name = item.get("filename") or f"part{len(parts)}"
            include = item.find(f"{{{XOP}}}Include")
            if include is not None:
                cid = include.get("href", "").removeprefix("cid:")
                sink = sinks.pop(cid, None)
                if sink is None:
                    raise _Fault("ParameterIsNotValidException", 9020, "MTOM part missing")
                # Validate the XOP infoset: the part stands in for the element's base64 content.
                item.remove(include)
                path, size = sink.path, sink.size
            else:
                data = base64.b64decode(item.text or "")
                path, size = state.new_part_file(), len(data)
                path.write_bytes(data)
            parts.append(
                StoredPart(
                    name,
                    item.get("contentType") or "application/octet-stream",
                    path.name,
                    size,
                    attachment=item.tag == f"{{{XTA}}}Attachment",
                )
            )
        if not valid(XTA_XSD, container):
            raise _Fault("MessageSchemaViolationException", 9051, "container invalid")
        message_id = metadata.findtext(f"{{{OSCI}}}MsgIdentification/{{{WSA}}}MessageID") or ""
        if message_id not in state.issued:
            raise _Fault("InvalidMessageIDException", 9070, "message id not issued by this server")
        if message_id in state.messages:
            raise _Fault("ParameterIsNotValidException", 9022, "message id already used")
        reader = (
            metadata.findtext(f"{{{OSCI}}}Destinations/{{{OSCI}}}Reader/{{{OSCI}}}Identifier") or ""
        )
        if state.accounts is not None and reader not in state.accounts:
            raise _Fault("PermissionDeniedException", 9012, "reader not known to this server")
        author = metadata.findtext(f"{{{OSCI}}}Originators/{{{OSCI}}}Author/{{{OSCI}}}Identifier")
        stored = Stored(message_id, reader, author or "", etree.tostring(metadata).decode(), parts)
        state.messages[message_id] = stored
        state.save()
        return stored

    def sync_answer(stored: Stored) -> tuple[etree._Element, Stored]:
        """sendMessageSync: the reader's immediate answer, a receipt message (simulated)."""
        metadata = etree.fromstring(stored.metadata)
        author = metadata.find(f"{{{OSCI}}}Originators/{{{OSCI}}}Author")
        reader = metadata.find(f"{{{OSCI}}}Destinations/{{{OSCI}}}Reader")
        msg_id = metadata.find(f"{{{OSCI}}}MsgIdentification/{{{WSA}}}MessageID")
        assert author is not None
        assert reader is not None
        assert msg_id is not None
        author[:], reader[:] = list(reader), list(author)  # the reader answers the author
        msg_id.text = f"urn:de:xta:messageid:simulator:{uuid.uuid4()}"
        receipt = state.new_part_file()
        receipt.write_bytes(
            f'<Quittung xmlns="urn:ozg-gateway:xta-simulator"><Nachricht>{stored.message_id}'
            "</Nachricht><Ergebnis>angenommen</Ergebnis></Quittung>".encode()
        )
        part = StoredPart(
            "quittung.xml", "application/xml", receipt.name, receipt.stat().st_size, False
        )
        meta = etree.tostring(metadata).decode()
        return metadata, Stored(msg_id.text, stored.author, stored.reader, meta, [part])

    def content_answer(
        operation: str, relates: str, stored: Stored, headers: list[etree._Element]
    ) -> Response:
        container = _container(stored.parts, mtom=mtom_responses, read=state.root / "parts")
        if not mtom_responses:
            return _answer(operation, relates, container, *headers)
        files = [
            (f"part{i}@xta-simulator", p.content_type, state.part_path(p))
            for i, p in enumerate(stored.parts)
        ]
        return _mtom_answer(operation, relates, container, headers, files)

    @app.post("/send")
    async def send(request: Request) -> Response:
        root, sinks = await parse(request)
        try:
            operation, relates = operation_of(root, ("sendMessage", "sendMessageSync"))
            stored = store_message(request, root, sinks)
        finally:
            _discard(sinks)  # parts not referenced by the container
        if operation == "sendMessage":
            return _answer(operation, relates, None)
        metadata, answer = sync_answer(stored)
        return content_answer(operation, relates, answer, [metadata])

    # MsgBoxRequestID -> (reader, message ids already handed out, page size): what a
    # getNextStatusList / getNextMessage continues.
    requests: dict[str, tuple[str, list[str], int]] = {}

    def status_list(reader: str, seen: list[str], limit: int) -> tuple[etree._Element, str]:
        box = [m for m in state.mailbox(reader) if m.message_id not in seen]
        page = box[:limit]
        request_id = f"urn:uuid:{uuid.uuid4()}"
        requests[request_id] = (reader, [*seen, *(m.message_id for m in page)], limit)
        listing = etree.Element(f"{{{BOX}}}MsgStatusList", nsmap={"osci": BOX})
        for stored in page:
            listing.append(etree.fromstring(stored.metadata))
        return listing, request_id

    def continued(request_el: etree._Element, reader: str) -> tuple[str, list[str], int] | None:
        known = requests.get(request_el.get("MsgBoxRequestID") or "")
        return known if known is not None and known[0] == reader else None

    @app.post("/msgbox")
    async def msgbox(request: Request) -> Response:
        root, _parts = await parse(request)
        operation, relates = operation_of(
            root, ("getStatusList", "getNextStatusList", "getMessage", "getNextMessage", "close")
        )
        # On mailbox calls the Author header names the reader mailbox being read.
        reader = authored(request, root)
        request_el = body_child(root)
        if not valid(BOX_XSD, request_el):
            raise _Fault("ParameterIsNotValidException", 9021, "mailbox request invalid")
        assert request_el is not None
        box = state.mailbox(reader)
        if operation == "getStatusList":
            limit = int(request_el.get("maxListItems") or 0) or len(box) or 1
            listing, request_id = status_list(reader, [], limit)
            return _answer(operation, relates, listing, _box_header(len(box), request_id))
        if operation == "getNextStatusList":
            known = continued(request_el, reader)
            if known is None:
                header = _box_header(0, request_el.get("MsgBoxRequestID") or "", "RequestIdInvalid")
                return _answer(operation, relates, None, header)
            listing, request_id = status_list(reader, known[1], known[2])
            return _answer(operation, relates, listing, _box_header(len(box), request_id))
        if operation == "getNextMessage":
            known = continued(request_el, reader)
            received = {e.text for e in request_el.iterfind(f"{{{BOX}}}LastMsgReceived")}
            seen = [*(known[1] if known else ()), *(r for r in received if r)]
            following = [m for m in box if m.message_id not in seen]
            if not following:
                header = _box_header(0, request_el.get("MsgBoxRequestID") or "1")
                return _answer(operation, relates, None, header)
            first = following[0]
            request_id = f"urn:uuid:{uuid.uuid4()}"
            requests[request_id] = (reader, [*seen, first.message_id], 1)
            headers = [_box_header(len(box) - 1, request_id), etree.fromstring(first.metadata)]
            return content_answer(operation, relates, first, headers)
        wanted = (
            request_el.findtext(f".//{{{WSA}}}MessageID")
            or request_el.findtext(f"{{{BOX}}}LastMsgReceived")
            or ""
        )
        match = next((m for m in box if m.message_id == wanted), None)
        if match is None:
            raise _Fault("InvalidMessageIDException", 9070, "no such message in this mailbox")
        if operation == "close":
            match.closed = True
            state.save()
            return _answer(operation, relates, None)
        headers = [_box_header(len(box) - 1), etree.fromstring(match.metadata)]
        return content_answer(operation, relates, match, headers)

    return app


def _discard(sinks: dict[str, _FileSink]) -> None:
    for sink in sinks.values():
        sink.handle.close()
        if sink.path.exists():
            os.unlink(sink.path)
    sinks.clear()
