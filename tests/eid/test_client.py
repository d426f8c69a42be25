"""eID client against the simulator over HTTP: signed both ways, outcomes, minimisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.eid.client import EidClient
from ozg_gateway.eid.mapping import (
    EidPolicy,
    NoResultYet,
    build_get_server_info,
    community_id,
    user_message,
)
from ozg_gateway.eid.settings import EidSettings
from ozg_gateway.eid.simulator import create_eid_simulator
from ozg_gateway.eid.wssec import SignatureRejected, SigningKey
from ozg_gateway.errors import PermanentError
from tests.eid.test_wssec import OTHER, SERVER, _key
from tests.live import LiveServer

GATEWAY = _key("gateway.test")
POLICY = EidPolicy(
    required=frozenset({"GivenNames", "FamilyNames", "DateOfBirth", "RestrictedID"}),
    min_age=16,
    community_id=community_id("06435019"),
)


def _write(folder: Path, name: str, key: SigningKey) -> tuple[Path, Path]:
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.pem"
    key_path.write_bytes(
        key.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(key.certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[LiveServer, EidClient]]:
    app = create_eid_simulator(server=SERVER, client_certificate=GATEWAY.certificate)
    server = LiveServer(app).start()
    key, cert = _write(tmp_path, "gateway", GATEWAY)
    _, server_cert = _write(tmp_path, "server", SERVER)
    settings = EidSettings(
        url=f"{server.url}/eid",
        signing_key=key,
        signing_certificate=cert,
        server_certificate=server_cert,
    )
    client = EidClient("eid", settings, ConnectorEnv("http://g", tmp_path, None))
    yield server, client
    client.close()
    server.stop()


def _complete(server: LiveServer, psk_id: str, outcome: str) -> None:
    r = httpx.post(f"{server.url}/simulate/complete", json={"psk_id": psk_id, "outcome": outcome})
    assert r.status_code == 200


def test_identification_returns_only_requested_attributes(
    sim: tuple[LiveServer, EidClient],
) -> None:
    server, client = sim
    answer = client.use_id(POLICY)
    with pytest.raises(NoResultYet):
        client.get_result(answer.session_id, 1)
    _complete(server, answer.psk_id, "success")
    identity = client.get_result(answer.session_id, 2)
    assert set(identity.attributes) == {"GivenNames", "FamilyNames", "DateOfBirth", "RestrictedID"}
    assert identity.age_ok is True
    assert identity.level == "http://bsi.bund.de/eID/LoA/hoch"
    assert identity.attributes["DateOfBirth"] == {"date": "1964-08-12", "partial": None}
    # One-shot: the session is over.
    with pytest.raises(PermanentError):
        client.get_result(answer.session_id, 3)


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ("cancelled", "Sie haben den Vorgang abgebrochen."),
        ("expired", "Der Ausweis ist ungültig oder gesperrt."),
        ("wrong_pin", "Die Identifizierung ist fehlgeschlagen."),
    ],
)
def test_failed_outcomes(sim: tuple[LiveServer, EidClient], outcome: str, message: str) -> None:
    server, client = sim
    answer = client.use_id(POLICY)
    _complete(server, answer.psk_id, outcome)
    with pytest.raises(PermanentError) as info:
        client.get_result(answer.session_id, 1)
    assert user_message(info.value.code) == message  # type: ignore[attr-defined]


def test_age_check_false_and_counter(sim: tuple[LiveServer, EidClient]) -> None:
    server, client = sim
    answer = client.use_id(POLICY)
    _complete(server, answer.psk_id, "age_false")
    assert client.get_result(answer.session_id, 1).age_ok is False
    other = client.use_id(POLICY)
    with pytest.raises(PermanentError):  # counter must start at 1 and rise by one
        client.get_result(other.session_id, 5)


def test_server_info_is_the_health_check(sim: tuple[LiveServer, EidClient]) -> None:
    _, client = sim
    assert client.server_info()["major"] == "2"


def test_responses_signed_by_another_key_are_refused(tmp_path: Path) -> None:
    app = create_eid_simulator(server=OTHER, client_certificate=GATEWAY.certificate)
    server = LiveServer(app).start()
    key, cert = _write(tmp_path, "gateway", GATEWAY)
    _, expected = _write(tmp_path, "server", SERVER)  # we trust SERVER, the answers come from OTHER
    client = EidClient(
        "eid",
        EidSettings(
            url=f"{server.url}/eid",
            signing_key=key,
            signing_certificate=cert,
            server_certificate=expected,
        ),
        ConnectorEnv("http://g", tmp_path, None),
    )
    try:
        with pytest.raises(SignatureRejected):
            client.use_id(POLICY)
    finally:
        client.close()
        server.stop()


def test_unsigned_requests_get_internal_error(sim: tuple[LiveServer, EidClient]) -> None:
    server, _ = sim
    r = httpx.post(f"{server.url}/eid", content=b"<x/>", headers={"Content-Type": "text/xml"})
    assert b"common#internalError" in r.content


def test_mutual_tls_with_pem_client_certificate(tmp_path: Path) -> None:
    import ssl

    from ozg_gateway.errors import ConnectorError
    from tests.tls import make_pki

    pki = make_pki(tmp_path / "pki")
    app = create_eid_simulator(server=SERVER, client_certificate=GATEWAY.certificate)
    server = LiveServer(
        app,
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    ).start()
    key, cert = _write(tmp_path, "gateway", GATEWAY)
    _, server_cert = _write(tmp_path, "server", SERVER)
    env = ConnectorEnv("http://g", tmp_path, None)
    common = {
        "url": f"{server.url}/eid",
        "signing_key": key,
        "signing_certificate": cert,
        "server_certificate": server_cert,
    }
    try:
        ok = EidClient(
            "eid",
            EidSettings(
                **common,
                tls={
                    "ca_bundle": pki.ca,
                    "client_cert": pki.client_cert,
                    "client_key": pki.client_key,
                },
            ),
            env,
        )
        assert ok.server_info()["major"] == "2"
        ok.close()
        no_cert = EidClient("eid", EidSettings(**common, tls={"ca_bundle": pki.ca}), env)
        with pytest.raises(ConnectorError):
            no_cert.server_info()
        no_cert.close()
    finally:
        server.stop()


def test_simulator_answers_validate_and_rejections_fit_the_operation(
    sim: tuple[LiveServer, EidClient],
) -> None:
    from ozg_gateway.config import default_specs_dir
    from ozg_gateway.eid.simulator import rejection
    from ozg_gateway.specs import xml_errors

    specs = default_specs_dir()
    assert specs is not None
    server, client = sim
    info = client._call("getServerInfo", build_get_server_info())
    assert xml_errors(specs, "eid/TR-03130eID-Server20.xsd", etree.tostring(info)) == []
    for operation, expected in (
        ("useIDRequest", "useIDResponse"),
        ("getResultRequest", "getResultResponse"),
    ):
        answer = rejection(operation, "x#internalError")
        assert etree.QName(answer).localname == expected
        assert xml_errors(specs, "eid/TR-03130eID-Server20.xsd", etree.tostring(answer)) == []
    # a useID request with a bad signature is answered as useIDResponse, not getResultResponse
    envelope = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<eid:useIDRequest xmlns:eid="http://bsi.bund.de/eID/"/></soap:Body></soap:Envelope>'
    )
    r = httpx.post(f"{server.url}/eid", content=envelope, headers={"Content-Type": "text/xml"})
    assert b"useIDResponse" in r.content
    assert b"common#internalError" in r.content
    info_request = envelope.replace(b"useIDRequest", b"getServerInfoRequest")
    r = httpx.post(f"{server.url}/eid", content=info_request, headers={"Content-Type": "text/xml"})
    assert b"Fault" in r.content
