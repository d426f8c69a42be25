"""XTA message parts against the official XSDs; fault codes to the taxonomy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from ozg_gateway.config import default_specs_dir
from ozg_gateway.errors import ConnectorConfigError, PermanentError, TransientError
from ozg_gateway.specs import xml_errors
from ozg_gateway.xta.faults import InvalidMessageId, class_for, parse_fault
from ozg_gateway.xta.messages import (
    ACTIONS,
    SOAP12,
    WSA,
    XTA,
    Code,
    PartyId,
    author,
    envelope,
    message_metadata,
)

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
META_XSD = "xta/OSCI_MessageMetaData_V2.02.xsd"
GATEWAY = PartyId("gad:010200100000", category="Stadt Maintal", name="ozg-gateway")
CIVENTO = PartyId("gad:010200200000", category="ekom21")


def _metadata() -> etree._Element:
    return message_metadata(
        author_party=GATEWAY,
        reader=CIVENTO,
        message_id="urn:de:xta:messageid:dataport_xta_210:81e40808-91c6-4765-aaf4-1aa62fec8be9",
        service="urn:xoev-de:xfall:standard:fim-s00000000",
        business_scenario=Code("XFALL_DATA", "urn:de:xta:codeliste:business.scenario", "3.6"),
        message_type=Code("MainApplication", "urn:de:payloadSchema:elementName", "1.0"),
        payload_schema="http://www.eu-dlr.org/x-eu-dlr.org/V2",
        origin=datetime(2026, 11, 25, 10, tzinfo=UTC),
        size=48213,
        subject="Fall MTL-2026-7K3M9Q2X",
    )


def test_headers_are_schema_valid() -> None:
    assert xml_errors(SPECS, META_XSD, etree.tostring(_metadata())) == []
    assert xml_errors(SPECS, META_XSD, etree.tostring(author(GATEWAY))) == []


def test_party_identifiers_must_have_a_prefix() -> None:
    with pytest.raises(ValueError, match="prefix:id"):
        PartyId("010200100000")


def test_envelope_has_the_ws_addressing_headers() -> None:
    xml = envelope(
        operation="sendMessage",
        to="https://xta.example.org/MB_XTA-WS/XTA210sendPort.svc",
        call_id="6f1c2d3e-0000-4bbb-8ccc-0123456789ab",
        headers=[_metadata()],
        body=None,
    )
    root = etree.fromstring(xml)
    header = root.find(f"{{{SOAP12}}}Header")
    assert header is not None
    assert header.findtext(f"{{{WSA}}}Action") == ACTIONS["sendMessage"]
    assert header.findtext(f"{{{WSA}}}MessageID") == "urn:uuid:6f1c2d3e-0000-4bbb-8ccc-0123456789ab"
    assert header.findtext(f"{{{WSA}}}ReplyTo/{{{WSA}}}Address") == f"{WSA}/anonymous"
    for name in ("Action", "MessageID", "To", "ReplyTo"):
        element = header.find(f"{{{WSA}}}{name}")
        assert element is not None
        assert xml_errors(SPECS, "xta/ws-addr.xsd", etree.tostring(element)) == []


def _fault(exception: str, code: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:xta="{XTA}"><soap:Body><soap:Fault>'
        "<soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code>"
        "<soap:Reason><soap:Text xml:lang='de'>x</soap:Text></soap:Reason>"
        f"<soap:Detail><xta:{exception}><xta:errorCode><code>{code}</code><name>n</name></xta:errorCode>"
        f"</xta:{exception}></soap:Detail></soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    ("exception", "code", "expected"),
    [
        ("PermissionDeniedException", "9011", ConnectorConfigError),
        ("ParameterIsNotValidException", "9023", PermanentError),
        ("XTAWSTechnicalProblemException", "9031", TransientError),
        ("MessageSchemaViolationException", "9050", PermanentError),
        ("MessageVirusDetectionException", "9060", PermanentError),
        ("InvalidMessageIDException", "9070", InvalidMessageId),
    ],
)
def test_faults_map_by_code(exception: str, code: str, expected: type) -> None:
    error = parse_fault(_fault(exception, code))
    assert type(error) is expected
    assert error is not None
    assert error.code == code
    # Only technical problems are retried.
    assert error.retryable is (expected is TransientError)


def test_every_documented_code_is_classified() -> None:
    for code in [
        *range(9010, 9015),
        *range(9020, 9025),
        *range(9030, 9033),
        *range(9050, 9053),
        9060,
        9070,
        9080,
        9081,
        9100,
        9101,
    ]:
        assert class_for(None, code) is not PermanentError or code not in range(9010, 9015)
    assert class_for("XTAWSTechnicalProblemException", None) is TransientError
    assert (
        parse_fault(
            b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>'
        )
        is None
    )


def test_fault_subclasses_have_their_parents_kind() -> None:
    from ozg_gateway.xta.faults import InvalidMessageId

    assert InvalidMessageId("x").kind == "permanent"
