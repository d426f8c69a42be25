"""XTA client against the strict simulator over HTTP: management calls, send inline and MTOM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ozg_gateway.config import default_specs_dir
from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.errors import ConnectorConfigError
from ozg_gateway.xta.client import XtaClient, XtaSettings
from ozg_gateway.xta.container import Part
from ozg_gateway.xta.faults import InvalidMessageId
from ozg_gateway.xta.messages import Code, PartyId
from ozg_gateway.xta.simulator import XtaState, create_xta_simulator
from tests.live import LiveServer

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
READER = PartyId("gad:010200200000", category="ekom21 civento")


@pytest.fixture
def xta(tmp_path: Path) -> Iterator[tuple[XtaState, XtaClient, XtaClient]]:
    assert SPECS is not None
    state = XtaState()
    server = LiveServer(create_xta_simulator(SPECS, state)).start()
    urls = {
        "management_url": f"{server.url}/management",
        "send_url": f"{server.url}/send",
        "msgbox_url": f"{server.url}/msgbox",
    }
    env = ConnectorEnv("http://g", tmp_path, SPECS)
    inline = XtaClient("xta", XtaSettings(**urls, author="gad:010200100000", mtom=False), env)
    mtom = XtaClient("xta", XtaSettings(**urls, author="gad:010200100000", mtom=True), env)
    yield state, inline, mtom
    inline.close()
    mtom.close()
    server.stop()


def _send(client: XtaClient, message_id: str, attachment: Part) -> None:
    client.send_message(
        message_id=message_id,
        reader=READER,
        service="urn:xoev-de:xfall:standard:fim-s00000000",
        business_scenario=Code("XFALL_DATA", "urn:de:xta:codeliste:business.scenario", "3.6"),
        message_type=Code("MainApplication", "urn:de:payloadSchema:elementName", "1.0"),
        payload_schema="http://www.eu-dlr.org/x-eu-dlr.org/V2",
        message=Part(
            "msg@gw", "application/xml", [b"<MainApplication/>"], filename="xfall.xml", size=18
        ),
        attachments=[attachment],
        now=datetime(2026, 11, 25, 10, tzinfo=UTC),
    )


def test_management_calls(xta: tuple[XtaState, XtaClient, XtaClient]) -> None:
    _state, client, _ = xta
    client.check_account_active()
    message_id = client.create_message_id()
    assert message_id.startswith("urn:de:xta:messageid:")
    assert client.get_transport_report(message_id) == 0  # not sent yet
    with pytest.raises(InvalidMessageId):
        client.get_transport_report("urn:de:xta:messageid:unknown")


@pytest.mark.parametrize("use_mtom", [False, True], ids=["inline", "mtom"])
def test_send_reaches_the_readers_mailbox(
    xta: tuple[XtaState, XtaClient, XtaClient], use_mtom: bool
) -> None:
    state, inline, mtom = xta
    client = mtom if use_mtom else inline
    message_id = client.create_message_id()
    data = b"%PDF-1.7 " + bytes(range(256)) * 100
    _send(
        client,
        message_id,
        Part(
            "att@gw",
            "application/pdf",
            [data[:1000], data[1000:]],
            filename="scan.pdf",
            size=len(data),
        ),
    )
    [stored] = state.mailboxes["gad:010200200000"]
    assert stored.message_id == message_id
    assert stored.parts["scan.pdf"] == data
    assert stored.parts["xfall.xml"] == b"<MainApplication/>"
    assert client.get_transport_report(message_id) == 1  # green


def test_unissued_message_id_is_refused(xta: tuple[XtaState, XtaClient, XtaClient]) -> None:
    _, client, _ = xta
    with pytest.raises(InvalidMessageId):
        _send(
            client,
            "urn:de:xta:messageid:made-up",
            Part("a@gw", "image/png", [b"\x89PNG"], filename="a.png", size=4),
        )


def test_invalid_author_is_a_permission_fault(
    xta: tuple[XtaState, XtaClient, XtaClient], tmp_path: Path
) -> None:
    _, client, _ = xta
    client.party = PartyId("gad:010200100000", type="")  # empty type violates the OSCI schema
    with pytest.raises(ConnectorConfigError):
        client.check_account_active()


def test_mailbox_list_fetch_close(xta: tuple[XtaState, XtaClient, XtaClient]) -> None:
    _state, client, _ = xta
    message_id = client.create_message_id()
    data = b"%PDF-1.7 mailbox"
    _send(
        client,
        message_id,
        Part("att@gw", "application/pdf", [data], filename="scan.pdf", size=len(data)),
    )
    listed = client.get_status_list(READER)
    assert len(listed) == 1
    assert listed[0].findtext(".//{http://www.w3.org/2005/08/addressing}MessageID") == message_id
    parts = client.get_message(READER, message_id)
    assert parts == {"xfall.xml": b"<MainApplication/>", "scan.pdf": data}
    assert len(client.get_status_list(READER)) == 1  # fetching changes nothing
    client.close_message(READER, message_id)
    assert client.get_status_list(READER) == []
    with pytest.raises(InvalidMessageId):
        client.get_message(READER, message_id)
