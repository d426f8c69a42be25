"""The simulator is strict: envelopes that violate WS-Addressing or the XSDs get XTA faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from lxml import etree

from ozg_gateway.config import default_specs_dir
from ozg_gateway.xta.container import Part, generic_container
from ozg_gateway.xta.messages import (
    OSCI,
    SOAP12,
    WSA,
    XTA,
    Code,
    PartyId,
    author,
    envelope,
    message_metadata,
    status_list_request,
)
from ozg_gateway.xta.simstore import XtaState
from ozg_gateway.xta.simulator import create_xta_simulator
from tests.live import LiveServer

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
ME = PartyId("gad:010200100000")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    assert SPECS is not None
    server = LiveServer(create_xta_simulator(SPECS, XtaState())).start()
    yield server.url
    server.stop()


def _post(url: str, port: str, xml: bytes) -> tuple[str, str]:
    response = httpx.post(
        f"{url}/{port}", content=xml, headers={"Content-Type": "application/soap+xml"}
    )
    assert response.status_code == 500, response.text
    detail = etree.fromstring(response.content).find(f".//{{{SOAP12}}}Detail")
    assert detail is not None
    exception = next(iter(detail))
    return etree.QName(exception).localname, exception.findtext(f"{{{XTA}}}errorCode/code") or ""


def _mutated(
    operation: str, body: etree._Element | None, change: Callable[[etree._Element], None]
) -> bytes:
    root = etree.fromstring(
        envelope(operation=operation, to="http://x", call_id="1-2", headers=[author(ME)], body=body)
    )
    change(root)
    return etree.tostring(root)


def _drop(path: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        element = root.find(path)
        assert element is not None
        element.getparent().remove(element)  # type: ignore[union-attr]

    return change


def _set(path: str, text: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        element = root.find(path)
        assert element is not None
        element.text = text

    return change


HEADER = f"{{{SOAP12}}}Header"
CASES = [
    ("management", "checkAccountActive", None, _drop(f"{HEADER}/{{{WSA}}}Action"), "9020"),
    ("management", "checkAccountActive", None, _set(f"{HEADER}/{{{WSA}}}MessageID", "42"), "9020"),
    ("management", "checkAccountActive", None, _drop(f"{HEADER}/{{{OSCI}}}Author"), "9010"),
    ("msgbox", "checkAccountActive", None, lambda root: None, "9020"),  # action of another port
    (
        "msgbox",
        "getStatusList",
        status_list_request(5),
        lambda root: root.find(".//{*}MsgBoxStatusListRequest").set("ListForm", "Bogus"),  # type: ignore[union-attr]
        "9021",
    ),
]


@pytest.mark.parametrize(("port", "operation", "body", "change", "code"), CASES)
def test_violations_get_xta_faults(
    url: str,
    port: str,
    operation: str,
    body: etree._Element | None,
    change: Callable[[etree._Element], None],
    code: str,
) -> None:
    assert _post(url, port, _mutated(operation, body, change))[1] == code


def test_container_that_violates_the_xsd_is_refused(url: str) -> None:
    part = Part("m@x", "application/xml", [b"<a/>"], filename="a.xml")
    container = generic_container(part, [], mtom=False)
    container.find(f".//{{{XTA}}}Message").attrib.pop("contentType")  # type: ignore[union-attr]
    metadata = message_metadata(
        author_party=ME,
        reader=PartyId("gad:010200200000"),
        message_id="urn:de:xta:messageid:x",
        service="urn:s",
        business_scenario=Code("X", "urn:l", "1"),
        message_type=Code("M", "urn:l", "1"),
        payload_schema="urn:p",
        origin=datetime.now(UTC),
    )
    xml = envelope(
        operation="sendMessage", to="http://x", call_id="1-2", headers=[metadata], body=container
    )
    assert _post(url, "send", xml) == ("MessageSchemaViolationException", "9051")
    no_metadata = envelope(
        operation="sendMessage", to="http://x", call_id="1-2", headers=[], body=container
    )
    assert _post(url, "send", no_metadata) == ("MessageSchemaViolationException", "9050")


def test_not_xml_is_a_parameter_fault(url: str) -> None:
    assert _post(url, "management", b"not xml") == ("ParameterIsNotValidException", "9020")
