"""Pure parts of the XTA connector: the outgoing message of a delivery, a status-list entry,
the transport report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from ozg_gateway.connectors.contract import (
    DeliveryRequest,
)
from ozg_gateway.runtime import Clock
from ozg_gateway.xta.container import (
    Part,
)
from ozg_gateway.xta.messages import (
    OSCI,
    WSA,
    XTA,
    Code,
    PartyId,
)
from ozg_gateway.xta.settings import XtaRoute

_STATUS_LABELS = ("open", "green", "yellow", "red")


@dataclass(frozen=True)
class Outgoing:
    """One message to send: addressing, qualifier and content parts (read lazily)."""

    message_id: str
    reader: PartyId
    service: str
    business_scenario: Code
    message_type: Code
    payload_schema: str
    message: Part
    attachments: tuple[Part, ...]
    now: datetime
    subject: str | None = None


@dataclass(frozen=True)
class TransportReport:
    """MessageStatus of a sent message and the reasons the server listed."""

    status: int
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """open / green / yellow / red."""
        return _STATUS_LABELS[self.status] if 0 <= self.status < 4 else "open"


def parse_transport_report(body: etree._Element) -> TransportReport:
    """TransportReport from a getTransportReport answer body (pure)."""
    status = body.findtext(f".//{{{XTA}}}MessageStatus/{{{XTA}}}Status")
    reasons = tuple(
        (r.text or "").strip()[:200]
        for r in body.iter(f"{{{XTA}}}Reason")
        if (r.text or "").strip()
    )
    return TransportReport(int(status) if status and status.strip().isdigit() else 0, reasons)


@dataclass(frozen=True)
class Listed:
    """What the status list says about one waiting message."""

    message_id: str | None
    message_type: str | None
    sender: str | None


def read_listing(metadata: etree._Element) -> Listed:
    """Message id, message type code and author from a MessageMetaData entry (pure)."""
    return Listed(
        metadata.findtext(f"{{{OSCI}}}MsgIdentification/{{{WSA}}}MessageID"),
        metadata.findtext(f"{{{OSCI}}}Qualifier/{{{OSCI}}}MessageType/code"),
        metadata.findtext(f"{{{OSCI}}}Originators/{{{OSCI}}}Author/{{{OSCI}}}Identifier"),
    )


def build_outgoing(
    request: DeliveryRequest,
    *,
    route: XtaRoute,
    message_id: str,
    xfall_xml: bytes,
    attachments: list[Part],
    clock: Clock,
) -> Outgoing:
    """The XTA message for one case (pure apart from the attachments' lazy chunks)."""
    return Outgoing(
        message_id=message_id,
        reader=route.party(),
        service=route.service,
        business_scenario=Code(
            route.business_scenario,
            route.business_scenario_list_uri,
            route.business_scenario_list_version,
        ),
        message_type=Code(
            route.message_type, route.message_type_list_uri, route.message_type_list_version
        ),
        payload_schema=route.payload_schema,
        message=Part(
            "xfall@ozg-gateway",
            "application/xml",
            [xfall_xml],
            filename="xfall.xml",
            size=len(xfall_xml),
        ),
        attachments=tuple(attachments),
        now=clock(),
        subject=f"Fall {request.case_number}",
    )
