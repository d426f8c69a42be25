"""XTA 2 V3 message parts: identifiers, Author, MessageMetaData, SOAP 1.2 + WS-Addressing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from lxml.builder import ElementMaker

XTA = "http://xoev.de/transport/xta/211"
OSCI = "http://www.osci.eu/ws/2014/10/transport"
WSA = "http://www.w3.org/2005/08/addressing"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ANONYMOUS = f"{WSA}/anonymous"
OSCI_TRANSPORT = "http://www.osci.eu/ws/2008/05/transport"

META = ElementMaker(namespace=OSCI, nsmap={"oscimeta": OSCI, "wsa": WSA})
WS = ElementMaker(namespace=WSA, nsmap={"wsa": WSA})
ENV = ElementMaker(namespace=SOAP12, nsmap={"soap": SOAP12, "wsa": WSA})
PLAIN = ElementMaker()  # XÖV code children are unqualified

_MSGBOX = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes"
ACTIONS: dict[str, str] = {
    "checkAccountActive": "http://www.xta.de/XTA/CheckAccountActive",
    "createMessageId": "http://www.xta.de/XTA/CreateMessageID",
    "lookupService": "http://www.xta.de/XTA/IsServiceAvailable",
    "getTransportReport": "http://www.xta.de/XTA/GetTransportReport",
    "cancelMessage": "http://www.xta.de/XTA/CancelMessage",
    "sendMessage": "http://www.xta.de/XTA/SendMessage",
    "sendMessageSync": "http://www.xta.de/XTA/SendMessageSync",
    "getStatusList": f"{_MSGBOX}/MsgBoxStatusListRequest",
    "getMessage": f"{_MSGBOX}/MsgBoxFetchRequest",
    "getNextMessage": f"{_MSGBOX}/MsgBoxGetNextMsgRequest",
    "getNextStatusList": f"{_MSGBOX}/MsgBoxGetNextListRequest",
    "close": f"{_MSGBOX}/MsgBoxCloseRequest",
}
# XTA.wsdl declares each output with the same wsam:Action as its input.
OUTPUT_ACTIONS = ACTIONS
_PARTY_VALUE = re.compile(r"^[A-Za-z0-9]+:\S+$")


@dataclass(frozen=True)
class PartyId:
    """An Author or Reader: type plus ``prefix:id`` (e.g. ``gad:010200100000``)."""

    value: str
    type: str = "xoev"
    category: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not _PARTY_VALUE.match(self.value):
            raise ValueError(f"party identifier must look like prefix:id, got {self.value!r}")

    def element(self) -> etree._Element:
        """oscimeta:Identifier."""
        attrs = {"type": self.type}
        if self.category:
            attrs["category"] = self.category
        if self.name:
            attrs["name"] = self.name
        identifier: etree._Element = META.Identifier(self.value, **attrs)
        return identifier


@dataclass(frozen=True)
class Code:
    """An XÖV code with its list (business scenario, message type)."""

    code: str
    list_uri: str
    list_version: str
    name: str | None = None

    def children(self) -> list[etree._Element]:
        """Unqualified code/name children."""
        items = [PLAIN.code(self.code)]
        if self.name:
            items.append(PLAIN.name(self.name))
        return items


def author(party: PartyId) -> etree._Element:
    """Author header (management and mailbox calls)."""
    element: etree._Element = META.Author(party.element())
    return element


def message_metadata(
    *,
    author_party: PartyId,
    reader: PartyId,
    message_id: str,
    service: str,
    business_scenario: Code,
    message_type: Code,
    payload_schema: str,
    origin: datetime,
    size: int | None = None,
    subject: str | None = None,
) -> etree._Element:
    """MessageMetaData for sendMessage (order as the OSCI schema requires)."""
    qualifier = META.Qualifier()
    if subject:
        qualifier.append(META.Subject(subject[:255]))
    qualifier.append(META.Service(service))
    qualifier.append(
        META.BusinessScenario(
            META.Defined(
                *business_scenario.children(),
                listURI=business_scenario.list_uri,
                listVersionID=business_scenario.list_version,
            )
        )
    )
    qualifier.append(
        META.MessageType(
            *message_type.children(),
            listURI=message_type.list_uri,
            listVersionID=message_type.list_version,
            payloadSchema=payload_schema,
        )
    )
    metadata = META.MessageMetaData(
        META.DeliveryAttributes(META.Origin(origin.isoformat())),
        META.Originators(META.Author(author_party.element())),
        META.Destinations(META.Reader(reader.element())),
        META.MsgIdentification(WS.MessageID(message_id)),
        qualifier,
    )
    if size is not None:
        metadata.append(META.MsgSize(str(size)))
    return metadata


def envelope(
    *,
    operation: str,
    to: str,
    call_id: str,
    headers: list[etree._Element],
    body: etree._Element | None,
) -> bytes:
    """SOAP 1.2 envelope with WS-Addressing: Action, a fresh urn:uuid MessageID, To, ReplyTo."""
    header = ENV.Header(
        WS.Action(ACTIONS[operation]),
        WS.MessageID(f"urn:uuid:{call_id}"),
        WS.To(to),
        WS.ReplyTo(WS.Address(ANONYMOUS)),
        *headers,
    )
    soap_body = ENV.Body(*([body] if body is not None else []))
    return etree.tostring(ENV.Envelope(header, soap_body), xml_declaration=True, encoding="UTF-8")


_BOX = ElementMaker(namespace=OSCI_TRANSPORT, nsmap={"osci": OSCI_TRANSPORT, "wsa": WSA})


def status_list_request(max_items: int = 100) -> etree._Element:
    """MsgBoxStatusListRequest asking for MessageMetaData entries."""
    element: etree._Element = _BOX.MsgBoxStatusListRequest(
        maxListItems=str(max_items), ListForm="MessageMetaData"
    )
    return element


def fetch_request(message_id: str) -> etree._Element:
    """MsgBoxFetchRequest for one message."""
    element: etree._Element = _BOX.MsgBoxFetchRequest(_BOX.MsgSelector(WS.MessageID(message_id)))
    return element


def close_request(message_id: str, request_id: str = "1") -> etree._Element:
    """MsgBoxCloseRequest: the message has been taken over (send only after your commit)."""
    element: etree._Element = _BOX.MsgBoxCloseRequest(
        _BOX.LastMsgReceived(message_id), MsgBoxRequestID=request_id
    )
    return element


def lookup_service_request(reader: PartyId, service: str) -> etree._Element:
    """LookupServiceRequest for one reader and service URI."""
    xta = ElementMaker(namespace=XTA, nsmap={"xta": XTA})
    element: etree._Element = xta.LookupServiceRequest(
        xta.LookupServiceRequestList(
            xta.LookupService(META.Reader(reader.element()), xta.ServiceType(service))
        )
    )
    return element
