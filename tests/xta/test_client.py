"""XTA client against the strict simulator over real HTTP(S): every operation, MTOM both ways."""

from __future__ import annotations

import io
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from ozg_gateway.config import default_specs_dir
from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.errors import ConnectorConfigError, PermanentError
from ozg_gateway.http import TlsSettings
from ozg_gateway.peercert import PeerCertProtocol, cert_sha256
from ozg_gateway.xta.client import XtaClient
from ozg_gateway.xta.container import Part
from ozg_gateway.xta.faults import InvalidMessageId
from ozg_gateway.xta.mapping import Outgoing
from ozg_gateway.xta.messages import Code, PartyId
from ozg_gateway.xta.settings import XtaSettings
from ozg_gateway.xta.simstore import Account, XtaState
from ozg_gateway.xta.simulator import create_xta_simulator
from tests.live import LiveServer
from tests.tls import make_pki

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
AUTHOR = "gad:010200100000"
READER = PartyId("gad:010200200000", category="ekom21 civento")


@dataclass
class Xta:
    state: XtaState
    server: LiveServer
    urls: dict[str, str]
    env: ConnectorEnv
    tls: TlsSettings | None
    clients: list[XtaClient] = field(default_factory=list)

    def client(self, *, mtom: bool = True, author: str = AUTHOR) -> XtaClient:
        settings = XtaSettings(**self.urls, author=author, mtom=mtom, tls=self.tls)
        self.clients.append(XtaClient("xta", settings, self.env))
        return self.clients[-1]

    def stop(self) -> None:
        for client in self.clients:  # open TLS connections would hold up the server's exit
            client.close()
        self.server.stop()


def _start(state: XtaState, tmp_path: Path, *, https: bool) -> Xta:
    assert SPECS is not None
    tls = None
    ssl_options = {}
    if https:
        pki = make_pki(tmp_path / "pki")
        ssl_options = {
            "ssl_certfile": str(pki.server_cert),
            "ssl_keyfile": str(pki.server_key),
            "ssl_ca_certs": str(pki.ca),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }
        tls = TlsSettings(ca_bundle=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
        fingerprint = cert_sha256(pki.client_cert.read_bytes())
        state.accounts = {
            AUTHOR: Account(AUTHOR, fingerprint),
            READER.value: Account(READER.value, fingerprint),
        }
    server = LiveServer(
        create_xta_simulator(SPECS, state), http=PeerCertProtocol, **ssl_options
    ).start()
    urls = {
        "management_url": f"{server.url}/management",
        "send_url": f"{server.url}/send",
        "msgbox_url": f"{server.url}/msgbox",
    }
    return Xta(state, server, urls, ConnectorEnv("http://g", tmp_path, SPECS), tls)


@pytest.fixture(params=["http", "https-mtls"])
def xta(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Xta]:
    setup = _start(XtaState(tmp_path / "sim"), tmp_path, https=request.param == "https-mtls")
    yield setup
    setup.stop()


def _message(message_id: str, attachment: Part) -> Outgoing:
    return Outgoing(
        message_id=message_id,
        reader=READER,
        service="urn:xoev-de:xfall:standard:fim-s00000000",
        business_scenario=Code("XFALL_DATA", "urn:de:xta:codeliste:business.scenario", "3.6"),
        message_type=Code("MainApplication", "urn:de:payloadSchema:elementName", "1.0"),
        payload_schema="http://www.eu-dlr.org/x-eu-dlr.org/V2",
        message=Part(
            "msg@gw", "application/xml", [b"<MainApplication/>"], filename="xfall.xml", size=18
        ),
        attachments=(attachment,),
        now=datetime(2026, 11, 25, 10, tzinfo=UTC),
    )


def _pdf(data: bytes = b"%PDF-1.7 mailbox") -> Part:
    return Part("att@gw", "application/pdf", [data], filename="scan.pdf", size=len(data))


def test_management_calls(xta: Xta) -> None:
    client = xta.client()
    client.check_account_active()
    message_id = client.create_message_id()
    assert message_id.startswith("urn:de:xta:messageid:")
    with pytest.raises(InvalidMessageId):  # issued but never sent: the server has no report
        client.get_transport_report(message_id)
    assert client.lookup_service(READER, "urn:xoev-de:xfall:standard:fim-s00000000") is True


@pytest.mark.parametrize("use_mtom", [False, True], ids=["inline", "mtom"])
def test_send_reaches_the_readers_mailbox(xta: Xta, use_mtom: bool) -> None:
    client = xta.client(mtom=use_mtom)
    message_id = client.create_message_id()
    data = b"%PDF-1.7 " + bytes(range(256)) * 100
    attachment = Part(
        "att@gw", "application/pdf", [data[:1000], data[1000:]], filename="scan.pdf", size=len(data)
    )
    client.send_message(_message(message_id, attachment))
    [stored] = xta.state.mailbox(READER.value)
    assert stored.message_id == message_id
    assert {p.name: xta.state.read(p) for p in stored.parts} == {
        "xfall.xml": b"<MainApplication/>",
        "scan.pdf": data,
    }
    report = client.get_transport_report(message_id)
    assert (report.status, report.label) == (1, "green")


def test_unissued_message_id_is_refused(xta: Xta) -> None:
    with pytest.raises(InvalidMessageId):
        xta.client().send_message(_message("urn:de:xta:messageid:made-up", _pdf()))


def test_same_message_id_is_not_accepted_twice(xta: Xta) -> None:
    client = xta.client()
    message_id = client.create_message_id()
    client.send_message(_message(message_id, _pdf()))
    with pytest.raises(PermanentError):
        client.send_message(_message(message_id, _pdf()))
    assert len(xta.state.mailbox(READER.value)) == 1


def test_invalid_author_is_a_permission_fault(xta: Xta) -> None:
    client = xta.client()
    client.party = PartyId(AUTHOR, type="")  # empty type violates the OSCI schema
    with pytest.raises(ConnectorConfigError):
        client.check_account_active()


@pytest.mark.parametrize("mtom_answers", [True, False], ids=["mtom-answer", "inline-answer"])
def test_mailbox_list_fetch_close(tmp_path: Path, mtom_answers: bool) -> None:
    assert SPECS is not None
    state = XtaState(tmp_path / "sim")
    server = LiveServer(create_xta_simulator(SPECS, state, mtom_responses=mtom_answers)).start()
    try:
        xta = Xta(
            state,
            server,
            {
                "management_url": f"{server.url}/management",
                "send_url": f"{server.url}/send",
                "msgbox_url": f"{server.url}/msgbox",
            },
            ConnectorEnv("http://g", tmp_path, SPECS),
            None,
        )
        client = xta.client()
        message_id = client.create_message_id()
        data = b"%PDF-1.7 " + bytes(range(256)) * 50
        client.send_message(_message(message_id, _pdf(data)))
        listed = client.get_status_list(READER)
        assert len(listed) == 1
        assert (
            listed[0].findtext(".//{http://www.w3.org/2005/08/addressing}MessageID") == message_id
        )
        metadata, items = client.fetch_message(READER, message_id, io.BytesIO)
        assert metadata.findtext(".//{http://www.w3.org/2005/08/addressing}MessageID") == message_id
        assert [(i.name, i.attachment, i.sink.getvalue()) for i in items] == [
            ("xfall.xml", False, b"<MainApplication/>"),
            ("scan.pdf", True, data),
        ]
        assert len(client.get_status_list(READER)) == 1  # fetching changes nothing
        client.close_message(READER, message_id)
        assert client.get_status_list(READER) == []
        with pytest.raises(InvalidMessageId):
            client.get_message(READER, message_id)
    finally:
        xta.stop()


def test_mailboxes_survive_a_restart(xta: Xta) -> None:
    client = xta.client()
    message_id = client.create_message_id()
    client.send_message(_message(message_id, _pdf()))
    reloaded = XtaState(xta.state.root)
    assert [m.message_id for m in reloaded.mailbox(READER.value)] == [message_id]
    assert message_id in reloaded.issued


def test_cancel_before_fetch_and_denied_after_close(xta: Xta) -> None:
    client = xta.client()
    first, second = client.create_message_id(), client.create_message_id()
    client.send_message(_message(first, _pdf()))
    client.send_message(_message(second, _pdf()))
    client.cancel_message(first)
    assert [m.message_id for m in xta.state.mailbox(READER.value)] == [second]
    client.close_message(READER, second)
    with pytest.raises(PermanentError, match="CancelDenied"):
        client.cancel_message(second)


def test_send_message_sync_returns_the_readers_answer(xta: Xta) -> None:
    client = xta.client()
    message_id = client.create_message_id()
    metadata, items = client.send_message_sync(_message(message_id, _pdf()), io.BytesIO)
    reader = metadata.findtext(".//{http://www.osci.eu/ws/2014/10/transport}Reader/*")
    assert reader == AUTHOR  # the answer goes back to us
    [receipt] = items
    assert message_id.encode() in receipt.sink.getvalue()


def test_transport_report_stays_open_then_turns_red(xta: Xta) -> None:
    xta.state.open_reports = 1
    xta.state.red_readers.add(READER.value)
    client = xta.client()
    message_id = client.create_message_id()
    client.send_message(_message(message_id, _pdf()))
    assert client.get_transport_report(message_id).label == "open"
    report = client.get_transport_report(message_id)
    assert report.label == "red"
    assert report.reasons == ("Leser hat die Annahme verweigert",)


def test_accounts_file_refuses_unknown_identities(tmp_path: Path) -> None:
    state = XtaState(tmp_path / "sim", accounts={AUTHOR: Account(AUTHOR)})
    setup = _start(state, tmp_path, https=False)
    try:
        setup.client().check_account_active()
        with pytest.raises(ConnectorConfigError, match="9010"):
            setup.client(author="gad:999999999999").check_account_active()
        client = setup.client()
        assert client.lookup_service(READER, "urn:x") is False
        with pytest.raises(ConnectorConfigError, match="9012"):  # reader has no account
            client.send_message(_message(client.create_message_id(), _pdf()))
    finally:
        setup.stop()


def test_identity_bound_to_another_certificate_is_refused(tmp_path: Path) -> None:
    setup = _start(XtaState(tmp_path / "sim"), tmp_path, https=True)
    try:
        assert setup.state.accounts is not None
        setup.state.accounts[AUTHOR] = Account(AUTHOR, "00" * 32)  # bound to someone else
        with pytest.raises(ConnectorConfigError, match="9014"):
            setup.client().check_account_active()
    finally:
        setup.stop()


def test_pkcs12_client_certificate_round_trip(tmp_path: Path) -> None:
    setup = _start(XtaState(tmp_path / "sim"), tmp_path, https=True)
    try:
        pki = tmp_path / "pki"
        setup.tls = TlsSettings(
            ca_bundle=pki / "ca.pem",
            pkcs12=pki / "client.p12",
            pkcs12_password=SecretStr("p12-secret"),
        )
        client = setup.client()
        message_id = client.create_message_id()
        client.send_message(_message(message_id, _pdf()))
        assert client.get_message(READER, message_id)["scan.pdf"] == b"%PDF-1.7 mailbox"
    finally:
        setup.stop()


def test_inline_fallback_carries_more_than_libxml2s_default_text_limit(tmp_path: Path) -> None:
    xta = _start(XtaState(tmp_path / "sim"), tmp_path, https=False)
    try:
        client = xta.client(mtom=False)
        data = bytes(range(256)) * (11 * 4096)  # 11 MiB: base64 beyond libxml2's 10 MB default
        message_id = client.create_message_id()
        client.send_message(
            _message(
                message_id,
                Part("big@gw", "application/pdf", [data], filename="big.pdf", size=len(data)),
            )
        )
        [stored] = xta.state.mailbox(READER.value)
        assert xta.state.read(stored.parts[1]) == data
        assert client.get_message(READER, message_id)["big.pdf"] == data
    finally:
        xta.stop()
