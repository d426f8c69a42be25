"""The ``xta`` connector end to end: portal → case → worker → XTA simulator → transport report,
and XTA mailbox → case → pull inbox; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import func, select

from ozg_gateway.cases.receiving import ReceivePoller
from ozg_gateway.config import default_specs_dir
from ozg_gateway.context import build_context
from ozg_gateway.errors import ConnectorConfigError
from ozg_gateway.mappings.xfall import NS as XFALL_NS
from ozg_gateway.specs import XFALL_XSD, xml_schema
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.models import Case, Delivery, InboundMessage
from ozg_gateway.xta.client import XtaClient
from ozg_gateway.xta.connector import XtaConnector
from ozg_gateway.xta.container import Part
from ozg_gateway.xta.mapping import Outgoing
from ozg_gateway.xta.messages import Code, PartyId
from ozg_gateway.xta.settings import XtaSettings
from ozg_gateway.xta.simstore import Account, XtaState
from ozg_gateway.xta.simulator import create_xta_simulator
from tests.conftest import (
    ADMIN_KEY,
    BACKOFFICE_KEY,
    make_settings,
)
from tests.factories import PDF_BYTES
from tests.gateway import Gateway, start_gateway
from tests.live import LiveServer

SPECS = default_specs_dir()
pytestmark = pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
GATEWAY = "gad:064350190000"  # Maintal's identity at the XTA server
CIVENTO = "gad:064350190099"  # the Kita back office behind the XTA server
PLATFORM = "gad:010000000001"  # another platform sending cases to Maintal


@dataclass
class XtaEnv(Gateway):
    sim: XtaState
    server: LiveServer

    @property
    def connector(self) -> XtaConnector:
        connector = self.ctx.connectors.instances["civento"]
        assert isinstance(connector, XtaConnector)
        return connector

    def delivery(self, case_id: str, connector: str = "civento") -> Delivery:
        return super().delivery(case_id, connector)


def _connectors(server_url: str, **xta: Any) -> dict[str, Any]:
    connector = {
        "type": "xta",
        "management_url": f"{server_url}/management",
        "send_url": f"{server_url}/send",
        "msgbox_url": f"{server_url}/msgbox",
        "author": GATEWAY,
        "route": {"reader": CIVENTO, "service": "urn:xoev-de:xfall:standard:kita"},
        "inbound": {
            "readers": [GATEWAY],
            "offers": {"MainApplication": "hallenbelegung"},
            "status_message_types": ["Statusmeldung"],
            "poll_interval_seconds": 5,
        },
        **xta,
    }
    return {
        "civento": connector,
        "kita-fachverfahren": {"type": "pull"},  # the other Kita route: not under test
        "sportamt": {"type": "pull"},
    }


@pytest.fixture
def xenv(tmp_path: Path, database_url: str) -> Iterator[XtaEnv]:
    assert SPECS is not None
    sim = XtaState(tmp_path / "sim")
    server = LiveServer(create_xta_simulator(SPECS, sim)).start()
    gateway = start_gateway(tmp_path, database_url, _connectors(server.url))
    env = XtaEnv(gateway.ctx, gateway.http, gateway.loop, sim=sim, server=server)
    yield env
    env.close()
    server.stop()


def test_case_goes_out_as_xfall_with_its_files_and_the_report_turns_green(xenv: XtaEnv) -> None:
    assert SPECS is not None
    xenv.sim.open_reports = 1
    case_id = xenv.submit_kita()
    assert xenv.work() == 1
    delivery = xenv.delivery(case_id)
    assert delivery.status == "delivered"
    assert delivery.tracking == "open"
    message_id = delivery.remote_reference
    assert delivery.progress == {"xta_message_id": message_id}

    [stored] = xenv.sim.mailbox(CIVENTO)
    assert stored.message_id == message_id
    files = {p.name: xenv.sim.read(p) for p in stored.parts}
    assert files["impfnachweis.pdf"] == PDF_BYTES
    container = etree.fromstring(files["xfall.xml"])
    assert container.tag == f"{{{XFALL_NS}}}MainApplication"
    assert xml_schema(SPECS, XFALL_XSD).validate(container)
    metadata = etree.fromstring(stored.metadata.encode())
    assert metadata.findtext(".//{*}Service") == "urn:xoev-de:xfall:standard:kita"

    assert xenv.track() == 0  # first answer: still open
    assert xenv.track() == 1
    assert xenv.delivery(case_id).tracking == "green"
    with xenv.ctx.db.reading() as session:  # the back office has it: the case is received
        assert session.get(Case, case_id).processing == "received"  # type: ignore[union-attr]
    metrics = xenv.http.get("/metrics").text
    assert 'ozg_delivery_reports{connector="civento",report="green"} 1.0' in metrics


def test_red_report_makes_a_dead_letter_and_replay_sends_a_new_message(xenv: XtaEnv) -> None:
    xenv.sim.red_readers.add(CIVENTO)
    case_id = xenv.submit_kita()
    xenv.work()
    first = xenv.delivery(case_id).remote_reference
    xenv.track()
    dead = xenv.delivery(case_id)
    assert (dead.status, dead.tracking) == ("dead", "red")
    assert dead.last_error == "Leser hat die Annahme verweigert"
    assert dead.progress is None

    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    shown = xenv.http.get(f"/v1/admin/deliveries/{dead.id}", headers=admin).json()
    assert (shown["status"], shown["tracking"]) == ("dead", "red")
    replay = xenv.http.post("/v1/admin/deliveries/replay", json={"ids": [dead.id]}, headers=admin)
    assert replay.status_code == 200, replay.text
    xenv.sim.red_readers.clear()
    xenv.work()
    again = xenv.delivery(case_id)
    assert again.status == "delivered"
    assert again.remote_reference not in (None, first)


class _FailingSend(httpx.HTTPTransport):
    """Passes calls through; the first sendMessage dies before (or after) the server got it."""

    def __init__(self, *, after: bool) -> None:
        super().__init__()
        self.after = after
        self.failed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/send" and not self.failed:
            self.failed = True
            if self.after:
                super().handle_request(request).read()  # the server has the message ...
            raise httpx.ReadError("connection reset")  # ... but we never learn it
        return super().handle_request(request)


@pytest.mark.parametrize("after", [False, True], ids=["before-send", "answer-lost"])
def test_crash_between_create_and_send_never_makes_two_messages(xenv: XtaEnv, after: bool) -> None:
    transport = _FailingSend(after=after)
    connector = xenv.connector
    connector.client._http = httpx.Client(transport=transport)
    case_id = xenv.submit_kita()
    xenv.work()
    failed = xenv.delivery(case_id)
    assert failed.status == "pending"  # transient: retried later
    remembered = (failed.progress or {})["xta_message_id"]
    issued_before = len(xenv.sim.issued)

    with xenv.ctx.db.writing() as session:  # due now
        row = session.get(Delivery, failed.id)
        assert row is not None
        row.next_attempt_at = xenv.ctx.clock()
    xenv.work()
    done = xenv.delivery(case_id)
    assert done.status == "delivered"
    assert done.remote_reference == remembered
    assert len(xenv.sim.issued) == issued_before  # no second message id
    assert [m.message_id for m in xenv.sim.mailbox(CIVENTO)] == [remembered]


def _platform_sends(xenv: XtaEnv, *, message_type: str, xml: bytes) -> str:
    settings = XtaSettings(
        management_url=f"{xenv.server.url}/management",
        send_url=f"{xenv.server.url}/send",
        msgbox_url=f"{xenv.server.url}/msgbox",
        author=PLATFORM,
    )
    assert SPECS is not None
    from ozg_gateway.connectors.contract import ConnectorEnv

    platform = XtaClient("platform", settings, ConnectorEnv("http://p", Path("."), SPECS))
    try:
        message_id = platform.create_message_id()
        platform.send_message(
            Outgoing(
                message_id=message_id,
                reader=PartyId(GATEWAY),
                service="urn:xoev-de:xfall:standard:halle",
                business_scenario=Code(
                    "XFALL_DATA", "urn:de:xta:codeliste:business.scenario", "3.6"
                ),
                message_type=Code(message_type, "urn:de:payloadSchema:elementName", "1.0"),
                payload_schema=XFALL_NS,
                message=Part("m@p", "application/xml", [xml], filename="antrag.xml", size=len(xml)),
                attachments=(
                    Part(
                        "a@p",
                        "application/pdf",
                        [PDF_BYTES],
                        filename="plan.pdf",
                        size=len(PDF_BYTES),
                    ),
                ),
                now=datetime.now(UTC),
            )
        )
        return message_id
    finally:
        platform.close()


def _xfall_from_platform() -> bytes:
    import base64
    import json

    form_json = base64.b64encode(json.dumps({"verein": "TV Maintal"}).encode()).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<fall:MainApplication xmlns:fall="{XFALL_NS}" Id="x1">
  <fall:Data><fall:Name>CIV-2026-77</fall:Name><fall:MainReference>CIV-2026-77</fall:MainReference></fall:Data>
  <fall:Partner Id="applicant"><fall:Data><fall:PartnerType>PERSON</fall:PartnerType>
    <fall:FirstName>Erika</fall:FirstName><fall:LastName>Musterfrau</fall:LastName></fall:Data></fall:Partner>
  <fall:Document Id="form"><fall:Data><fall:Content>{form_json}</fall:Content></fall:Data></fall:Document>
</fall:MainApplication>""".encode()


def test_mailbox_message_becomes_a_case_once_and_is_closed_after_commit(xenv: XtaEnv) -> None:
    message_id = _platform_sends(xenv, message_type="MainApplication", xml=_xfall_from_platform())
    poller = ReceivePoller(xenv.ctx, xenv.ctx.connectors)
    assert xenv.run(poller.receive_once("civento")) == 1
    assert xenv.sim.mailbox(GATEWAY) == []  # closed after our commit
    with xenv.ctx.db.reading() as session:
        case = session.scalar(select(Case).where(Case.source == "xta"))
        assert case is not None
        doc = subs.open_case(xenv.ctx.keyring, case)
        routed = session.scalars(select(Delivery.connector).where(Delivery.case_id == case.id))
        assert list(routed) == ["sportamt"]
    assert doc["service"]["id"] == "hallenbelegung"
    assert doc["origin"]["message_id"] == message_id
    assert doc["origin"]["format"] == "xfall"
    assert doc["origin"]["reference"] == "CIV-2026-77"
    assert doc["applicant"]["family_name"] == "Musterfrau"
    assert doc["form"] == {"verein": "TV Maintal"}
    assert [a["filename"] for a in doc["attachments"]] == ["antrag.xml", "plan.pdf"]
    metrics = xenv.http.get("/metrics").text
    assert 'ozg_inbound_messages{connector="civento",status="accepted"} 1.0' in metrics

    # The back office fetches the file of an inbound case like any other.
    backoffice = {"Authorization": f"Bearer {BACKOFFICE_KEY}"}
    att = doc["attachments"][1]
    r = xenv.http.get(f"/v1/cases/{case.id}/attachments/{att['id']}", headers=backoffice)
    assert r.status_code == 200, r.text
    assert r.content == PDF_BYTES


def test_refetch_after_a_lost_close_is_not_a_second_case(xenv: XtaEnv) -> None:
    _platform_sends(xenv, message_type="MainApplication", xml=_xfall_from_platform())
    client = xenv.connector.client
    real_close = client.close_message
    client.close_message = lambda *a: (_ for _ in ()).throw(httpx.ReadError("gone"))  # type: ignore[method-assign]
    poller = ReceivePoller(xenv.ctx, xenv.ctx.connectors)
    xenv.run(poller.receive_once("civento"))  # committed, close failed
    assert len(xenv.sim.mailbox(GATEWAY)) == 1
    client.close_message = real_close  # type: ignore[method-assign]
    assert xenv.run(poller.receive_once("civento")) == 0
    assert xenv.sim.mailbox(GATEWAY) == []
    with xenv.ctx.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_other_payloads_become_raw_cases(xenv: XtaEnv) -> None:
    _platform_sends(xenv, message_type="MainApplication", xml=b"<andere-nachricht/>")
    xenv.run(ReceivePoller(xenv.ctx, xenv.ctx.connectors).receive_once("civento"))
    with xenv.ctx.db.reading() as session:
        case = session.scalar(select(Case))
        assert case is not None
        doc = subs.open_case(xenv.ctx.keyring, case)
    assert doc["origin"]["format"] == "raw"
    assert doc["form"] == {}
    assert doc["applicant"] is None
    assert len(doc["attachments"]) == 2


@pytest.mark.parametrize("policy", ["leave", "reject"])
def test_unsupported_message_types_follow_the_policy(
    tmp_path: Path, database_url: str, policy: str, xenv: XtaEnv
) -> None:
    connector = xenv.connector
    assert connector.settings.inbound is not None
    connector.settings.inbound.unsupported = policy  # type: ignore[assignment]
    message_id = _platform_sends(xenv, message_type="XMeld0100", xml=b"<xmeld/>")
    assert xenv.run(ReceivePoller(xenv.ctx, xenv.ctx.connectors).receive_once("civento")) == 0
    with xenv.ctx.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        rows = list(session.scalars(select(InboundMessage)))
    if policy == "leave":
        assert [m.message_id for m in xenv.sim.mailbox(GATEWAY)] == [message_id]
        assert rows == []
    else:
        assert xenv.sim.mailbox(GATEWAY) == []
        assert [(r.external_id, r.status) for r in rows] == [(message_id, "rejected")]
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        [listed] = xenv.http.get("/v1/admin/inbound?status=rejected", headers=admin).json()
        assert listed["message_type"] == "XMeld0100"


def test_health_is_check_account_active(xenv: XtaEnv) -> None:
    assert xenv.run(xenv.connector.check(timeout=5)) is None
    # once the server knows only other accounts, the check fails: our identity is misconfigured
    xenv.sim.accounts = {CIVENTO: Account(CIVENTO)}
    with pytest.raises(ConnectorConfigError, match="9010"):
        xenv.run(xenv.connector.check(timeout=5))


def test_fetch_streams_into_sinks(xenv: XtaEnv) -> None:
    _platform_sends(xenv, message_type="MainApplication", xml=b"<x/>")
    client = xenv.connector.client
    [entry] = client.get_status_list(PartyId(GATEWAY))
    message_id = entry.findtext(".//{http://www.w3.org/2005/08/addressing}MessageID")
    assert message_id is not None
    _meta, items = client.fetch_message(PartyId(GATEWAY), message_id, io.BytesIO)
    assert [i.sink.getvalue() for i in items] == [b"<x/>", PDF_BYTES]


def test_two_instances_committing_the_same_message_make_one_case(xenv: XtaEnv) -> None:
    """Two gateways may fetch the same message before either closes it: one case, not two."""
    from ozg_gateway.cases.received import StoreInboundSink
    from ozg_gateway.connectors.contract import InboundFile, InboundMessage

    def take(sink: StoreInboundSink) -> str:
        blob = sink.new_blob()
        blob.write(b"<x/>")
        message = InboundMessage(
            external_id="urn:de:xta:messageid:same",
            offer_id="hallenbelegung",
            channel="xta",
            message_type="MainApplication",
            sender=PLATFORM,
            files=(InboundFile("x.xml", "application/xml", blob, primary=True),),
        )
        return str(xenv.run(sink.accept(message)))

    first = take(StoreInboundSink(xenv.ctx, "civento"))
    second = take(StoreInboundSink(xenv.ctx, "civento"))  # its known() check came too early
    assert first == second
    with xenv.ctx.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    root = xenv.ctx.settings.data_dir / "blobs"
    placed = [b for b in root.rglob("*") if b.is_file() and b.relative_to(root).parts[0] != "tmp"]
    assert len(placed) == 1  # the second instance's copy was discarded


def test_no_personal_data_in_logs(xenv: XtaEnv) -> None:
    from ozg_gateway.logging import configure_logging

    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    try:
        case_id = xenv.submit_kita()
        xenv.work()
        xenv.track()
        _platform_sends(xenv, message_type="MainApplication", xml=_xfall_from_platform())
        _platform_sends(xenv, message_type="XMeld0100", xml=b"<x/>")
        xenv.run(ReceivePoller(xenv.ctx, xenv.ctx.connectors).receive_once("civento"))
    finally:
        configure_logging(level="INFO", fmt="console")
    text = stream.getvalue()
    assert case_id in text or "inbound case created" in text
    for personal in ("Musterfrau", "Erika", "m@example.org", "impfnachweis", "TV Maintal"):
        assert personal not in text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"send_url": "ftp://xta"}, "connectors.x.send_url: Value error, must be an http(s) URL"),
        ({"author": "010200100000"}, "party identifier must look like prefix:id"),
        ({"route": {"reader": "gad:1"}}, "connectors.x.route.service: Field required"),
        ({"inbound": {"readers": []}}, "connectors.x.inbound.readers"),
    ],
)
def test_broken_xta_settings_are_located(override: dict[str, Any], message: str) -> None:
    from ozg_gateway.connectors.registry import validate_config

    raw = {
        "type": "xta",
        "management_url": "https://xta/m",
        "send_url": "https://xta/s",
        "msgbox_url": "https://xta/b",
        "author": GATEWAY,
        **override,
    }
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_config("x", raw)


def test_inbound_offer_missing_from_the_catalogue_stops_the_start(
    tmp_path: Path, database_url: str
) -> None:
    from ozg_gateway.errors import ConfigurationError

    inbound = {"readers": [GATEWAY], "offers": {"MainApplication": "no-such-offer"}}
    connectors = _connectors("http://127.0.0.1:9", inbound=inbound)
    settings = make_settings(tmp_path, database_url, connectors=connectors)
    with pytest.raises(ConfigurationError, match="offer 'no-such-offer' is not in the catalogue"):
        build_context(settings)


def test_one_process_polls_a_mailbox_at_a_time(xenv: XtaEnv) -> None:
    from ozg_gateway.cases.receiving import try_lease_receiving

    _platform_sends(xenv, message_type="MainApplication", xml=_xfall_from_platform())
    with xenv.ctx.db.writing() as session:  # another worker is in the middle of a round
        assert try_lease_receiving(
            session, name="civento", owner="other:1", now=xenv.ctx.clock(), seconds=300
        )
    ours = ReceivePoller(xenv.ctx, xenv.ctx.connectors, owner="me:2")
    assert xenv.run(ours.receive_once("civento")) == 0
    assert len(xenv.sim.mailbox(GATEWAY)) == 1  # not even fetched
    xenv.ctx.clock.advance(seconds=301)  # type: ignore[attr-defined]  # the other one died
    assert xenv.run(ours.receive_once("civento")) == 1
    assert xenv.run(ours.receive_once("civento")) == 0  # released after the round, retaken


def test_an_unreadable_message_does_not_hold_up_the_others(xenv: XtaEnv) -> None:
    from ozg_gateway.errors import PermanentError

    broken = _platform_sends(xenv, message_type="MainApplication", xml=b"<kaputt/>")
    good = _platform_sends(xenv, message_type="MainApplication", xml=_xfall_from_platform())
    client = xenv.connector.client
    real_fetch = client.fetch_message

    def fetch(reader: PartyId, message_id: str, new_sink: Any) -> Any:
        if message_id == broken:
            raise PermanentError("XTA fault MessageSchemaViolationException 9051")
        return real_fetch(reader, message_id, new_sink)

    client.fetch_message = fetch  # type: ignore[method-assign]
    poller = ReceivePoller(xenv.ctx, xenv.ctx.connectors)
    assert xenv.run(poller.receive_once("civento")) == 1
    assert [m.message_id for m in xenv.sim.mailbox(GATEWAY)] == [broken]  # tried next round
    with xenv.ctx.db.reading() as session:
        assert [r.external_id for r in session.scalars(select(InboundMessage))] == [good]


def test_container_fields_that_do_not_fit_leave_a_raw_case(
    xenv: XtaEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ozg_gateway.cases import received as inbound
    from ozg_gateway.mappings.received import CaseFields

    odd = CaseFields(reference="X", service_key=None, applicant=None, persons=[{"role": "x"}])
    monkeypatch.setattr(inbound, "parse_xfall", lambda _data: odd)
    _platform_sends(xenv, message_type="MainApplication", xml=_xfall_from_platform())
    assert xenv.run(ReceivePoller(xenv.ctx, xenv.ctx.connectors).receive_once("civento")) == 1
    with xenv.ctx.db.reading() as session:
        case = session.scalar(select(Case))
        assert case is not None
        doc = subs.open_case(xenv.ctx.keyring, case)
    assert doc["origin"]["format"] == "raw"
    assert len(doc["attachments"]) == 2


def test_reports_that_never_finish_do_not_delay_a_new_one(xenv: XtaEnv) -> None:
    from tests.delivery.seed import seed_cases

    now = xenv.ctx.clock()
    seed_cases(xenv.ctx, 60, route="civento")
    with xenv.ctx.db.writing() as session:
        for i, stuck in enumerate(session.scalars(select(Delivery))):
            stuck.status, stuck.tracking = "delivered", "open"
            stuck.delivered_at = now - timedelta(hours=1, minutes=i)
            stuck.remote_reference = f"urn:de:xta:messageid:lost-{i}"  # the server never tells
    case_id = xenv.submit_kita()
    assert xenv.work() == 1
    assert xenv.delivery(case_id).tracking == "open"
    rounds = 0
    while xenv.delivery(case_id).tracking == "open":
        xenv.track()
        rounds += 1
        assert rounds <= 2, "the new report waited behind reports that never finish"
    assert xenv.delivery(case_id).tracking == "green"
    with xenv.ctx.db.reading() as session:
        still_open = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.tracking == "open")
        )
    assert still_open == 60


def test_a_report_open_past_its_maximum_age_is_shown_as_unknown(xenv: XtaEnv) -> None:
    xenv.sim.open_reports = 10**6  # the reader's server never finishes
    case_id = xenv.submit_kita()
    xenv.work()
    max_age = xenv.ctx.settings.delivery.report_max_age_hours
    for _ in range(int(max_age * 3600 / 300) + 20):
        xenv.track()
        if xenv.delivery(case_id).tracking != "open":
            break
    delivery = xenv.delivery(case_id)
    assert (delivery.status, delivery.tracking) == ("delivered", "unknown")
