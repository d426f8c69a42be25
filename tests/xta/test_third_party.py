"""A third-party client written against the XTA WSDL (zeep) works with the simulator unchanged.

zeep builds its own envelopes from XTA.wsdl (WS-Addressing without ReplyTo, inline base64,
MTOM answers parsed in memory); only the Author/MessageMetaData headers come from our builders.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import zeep
import zeep.plugins
from lxml import etree

from ozg_gateway.config import default_specs_dir
from ozg_gateway.xta.messages import Code, PartyId, author, message_metadata
from ozg_gateway.xta.simstore import XtaState
from ozg_gateway.xta.simulator import create_xta_simulator
from tests.live import LiveServer

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
NS = "http://xoev.de/transport/xta/211"
ME, READER = PartyId("gad:010200100000"), PartyId("gad:010200200000")


HISTORY = zeep.plugins.HistoryPlugin()


@pytest.fixture
def services() -> Iterator[tuple[XtaState, dict[str, Any]]]:
    assert SPECS is not None
    state = XtaState()
    server = LiveServer(create_xta_simulator(SPECS, state)).start()
    client = zeep.Client(str(SPECS / "xta" / "XTA.wsdl"), plugins=[HISTORY])
    ports = {
        "management": ("managementHttpsBinding", "management"),
        "send": ("sendXTAHttpsBinding", "send"),
        "msgbox": ("msgBoxHttpsBinding", "msgbox"),
    }
    yield (
        state,
        {
            key: client.create_service(f"{{{NS}}}{binding}", f"{server.url}/{path}")
            for key, (binding, path) in ports.items()
        },
    )
    server.stop()


def test_zeep_client_round_trip(services: tuple[XtaState, dict[str, Any]]) -> None:
    state, svc = services
    svc["management"].checkAccountActive(_soapheaders=[author(ME)])
    message_id = _send(svc, b"<hello/>")
    assert [m.message_id for m in state.mailbox(READER.value)] == [message_id]

    listing = svc["msgbox"].getStatusList(
        maxListItems=10, ListForm="MessageMetaData", _soapheaders=[author(READER)]
    )
    assert listing["header"]["FetchResponseHeader"]["ItemsPending"] == 1
    fetched = svc["msgbox"].getMessage(
        MsgSelector={"MessageID": message_id}, _soapheaders=[author(READER)]
    )
    assert fetched["body"]["ContentContainer"]["Message"]["_value_1"] == b"<hello/>"
    svc["msgbox"].close(
        MsgBoxRequestID="1", LastMsgReceived=[message_id], _soapheaders=[author(READER)]
    )
    assert state.mailbox(READER.value) == []


def _wsdl_output_actions() -> dict[str, str]:
    """operation name -> wsam:Action of its output, read from XTA.wsdl (the oracle)."""
    assert SPECS is not None
    wsdl = etree.parse(str(SPECS / "xta" / "XTA.wsdl"))
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/"}
    wsam = "{http://www.w3.org/2007/05/addressing/metadata}Action"
    return {
        op.get("name"): op.find("w:output", ns).get(wsam)
        for op in wsdl.iterfind("w:portType/w:operation", ns)
        if op.find("w:output", ns) is not None
    }


def _answered_action() -> str:
    received = HISTORY.last_received["envelope"]
    return str(received.findtext(".//{http://www.w3.org/2005/08/addressing}Action"))


def _send(svc: dict[str, Any], body: bytes) -> str:
    message_id = svc["management"].createMessageId(_soapheaders=[author(ME)])["_value_1"]
    metadata = message_metadata(
        author_party=ME,
        reader=READER,
        message_id=message_id,
        service="urn:xoev-de:xfall:standard:test",
        business_scenario=Code("XFALL_DATA", "urn:de:xta:codeliste:business.scenario", "3.6"),
        message_type=Code("MainApplication", "urn:de:payloadSchema:elementName", "1.0"),
        payload_schema="http://www.eu-dlr.org/x-eu-dlr.org/V2",
        origin=datetime.now(UTC),
    )
    svc["send"].sendMessage(
        ContentContainer={"Message": {"_value_1": body, "contentType": "application/xml"}},
        _soapheaders=[metadata],
    )
    return str(message_id)


def test_answers_carry_the_wsdl_actions_and_get_next_continues(
    services: tuple[XtaState, dict[str, Any]],
) -> None:
    _state, svc = services
    actions = _wsdl_output_actions()
    svc["management"].checkAccountActive(_soapheaders=[author(ME)])
    assert _answered_action() == actions["checkAccountActive"]
    first, second = _send(svc, b"<eins/>"), _send(svc, b"<zwei/>")
    assert _answered_action() == actions["sendMessage"]

    listing = svc["msgbox"].getStatusList(
        maxListItems=1, ListForm="MessageMetaData", _soapheaders=[author(READER)]
    )
    assert _answered_action() == actions["getStatusList"]
    request_id = listing["header"]["FetchResponseHeader"]["MsgBoxRequestID"]
    svc["msgbox"].getNextStatusList(
        MsgBoxRequestID=request_id, LastMsgReceived=[first], _soapheaders=[author(READER)]
    )
    assert _answered_action() == actions["getNextStatusList"]
    page = etree.tostring(HISTORY.last_received["envelope"]).decode()
    assert second in page  # the next page holds the message the first page left out
    assert first not in page

    fetched = svc["msgbox"].getNextMessage(
        MsgBoxRequestID="1", LastMsgReceived=[first], _soapheaders=[author(READER)]
    )
    assert _answered_action() == actions["getNextMessage"]
    assert fetched["body"]["ContentContainer"]["Message"]["_value_1"] == b"<zwei/>"
