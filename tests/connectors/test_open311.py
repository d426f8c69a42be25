"""``open311`` connector against the GeoReport v2 simulator over HTTP; answers checked against
the schema-validation repository's JSON Schemas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from ozg_gateway.config import default_specs_dir
from ozg_gateway.connectors.open311.mapping import build_post_body, parse_created
from ozg_gateway.connectors.open311.simulator import Open311State, create_open311_simulator
from ozg_gateway.errors import PermanentError, TransientError
from ozg_gateway.specs import json_validator
from ozg_gateway.store.models import Case, Delivery, DeliveryAttempt
from tests.conftest import BACKOFFICE_KEY, PORTAL_KEY
from tests.factories import form
from tests.gateway import Gateway, start_gateway
from tests.live import LiveServer

SPECS = default_specs_dir()
API_KEY = "open311-test-key"


@dataclass
class Env:
    gw: Gateway
    state: Open311State
    server: LiveServer

    def submit(self, **changes: Any) -> str:
        data = form("aem-meldung") | changes
        r = self.gw.http.post(
            "/v1/submissions",
            json={
                "service_id": "aem-meldung",
                "form_data": data,
                "applicant": {"given_name": "Erika", "family_name": "M", "email": "e@example.org"},
                "submit": True,
            },
            headers={"Authorization": f"Bearer {PORTAL_KEY}"},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["case"]["id"])

    def delivery(self, case_id: str) -> Delivery:
        return self.gw.delivery(case_id, "aem-system")

    def close(self) -> None:
        self.gw.close()
        self.server.stop()


def _env(tmp_path: Path, database_url: str, api_key: str, fmt: str = "json") -> Env:
    state = Open311State()
    formats = ("json", "xml") if fmt == "json" else ("xml",)  # some servers speak XML only
    app = create_open311_simulator(api_key=API_KEY, state=state, formats=formats)
    server = LiveServer(app).start()
    # The example routes AEM reports to "aem-system": here that is the Open311 system.
    connector = {"type": "open311", "endpoint": server.url, "api_key": api_key, "format": fmt}
    return Env(start_gateway(tmp_path, database_url, {"aem-system": connector}), state, server)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    e = _env(tmp_path, database_url, API_KEY)
    yield e
    e.close()


def test_report_becomes_a_service_request(env: Env) -> None:
    case_id = env.submit()
    env.gw.work()
    delivery = env.delivery(case_id)
    assert (delivery.status, delivery.remote_reference) == ("delivered", "MTL-AEM-000001")
    stored = env.state.requests["MTL-AEM-000001"]
    assert stored["service_code"] == "002"  # beleuchtung → the catalogue's service code
    assert (stored["lat"], stored["long"]) == (50.1466, 8.8363)
    assert stored["_contact"] == {"email": "e@example.org", "first_name": "Erika", "last_name": "M"}


@pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
def test_simulator_answers_match_the_georeport_schemas(env: Env) -> None:
    assert SPECS is not None
    env.submit()
    env.gw.work()
    base = env.server.url
    schema_dir = "open311/schema-validation/georeport-v2"
    one = httpx.get(f"{base}/requests/MTL-AEM-000001.json").json()[0]
    assert not list(json_validator(SPECS, f"{schema_dir}/request.json").iter_errors(one))
    services = httpx.get(f"{base}/services.json").json()
    for service in services:
        assert not list(json_validator(SPECS, f"{schema_dir}/service.json").iter_errors(service))


def test_address_instead_of_coordinates(env: Env) -> None:
    changes = {
        "position": None,
        "adresse": {"strasse": "Klosterhofstraße", "hausnummer": "4", "plz": "63477"},
    }
    case_id = env.submit(**changes)
    env.gw.work()
    assert env.delivery(case_id).status == "delivered"
    [stored] = env.state.requests.values()
    assert stored["address"] == "Klosterhofstraße 4, 63477"


def test_redelivery_with_the_same_key_is_the_same_request(env: Env) -> None:
    case_id = env.submit()
    env.gw.work()
    with env.gw.ctx.db.writing() as session:  # as if the answer had been lost
        row = session.get(Delivery, env.delivery(case_id).id)
        assert row is not None
        row.status, row.next_attempt_at = "pending", env.gw.ctx.clock()
    env.gw.work()
    assert len(env.state.requests) == 1


def test_wrong_api_key_is_an_authentication_error(tmp_path: Path, database_url: str) -> None:
    e = _env(tmp_path, database_url, "wrong-key")
    try:
        case_id = e.submit()
        e.gw.work()
        delivery = e.delivery(case_id)
        assert delivery.status == "pending"  # credentials get rotated: retried later
        with e.gw.ctx.db.reading() as session:
            [attempt] = session.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
            )
        assert (attempt.error_type, attempt.http_status) == ("ConnectorAuthError", 403)
        assert e.state.requests == {}
    finally:
        e.close()


def test_health_check(env: Env) -> None:
    connector = env.gw.ctx.connectors.instances["aem-system"]
    assert env.gw.run(connector.check(timeout=5)) is None  # the service list answers
    env.server.stop()
    with pytest.raises(TransientError):  # down: the check says so instead of passing
        env.gw.run(connector.check(timeout=5))


def test_pure_parts() -> None:
    body = build_post_body(b"service_code=002", api_key="k&1", jurisdiction_id="maintal")
    assert body == b"service_code=002&api_key=k%261&jurisdiction_id=maintal"
    assert parse_created(b'[{"service_request_id": "7"}]') == "7"
    assert parse_created(b'[{"token": "abc"}]') == "token:abc"
    with pytest.raises(PermanentError):
        parse_created(b'[{"code": 400}]')


def test_the_back_offices_status_is_followed_into_the_case(env: Env) -> None:
    from ozg_gateway.cases.following import StatusFollower

    case_id = env.submit()
    env.gw.work()
    follower = StatusFollower(env.gw.ctx, env.gw.ctx.connectors)
    assert env.gw.run(follower.follow_once()) == 1  # open, no notes: received
    assert env.gw.run(follower.follow_once()) == 0  # asked again: nothing new
    closed = httpx.post(
        f"{env.server.url}/simulate/status/MTL-AEM-000001",
        json={"status": "closed", "status_notes": "Leuchtmittel getauscht."},
    )
    assert closed.status_code == 200
    assert env.gw.run(follower.follow_once()) == 1
    document = env.gw.http.get(
        f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {BACKOFFICE_KEY}"}
    ).json()["document"]
    assert [u["status"] for u in document["status_updates"]] == ["received", "completed"]
    assert document["status_updates"][-1]["note"] == "Leuchtmittel getauscht."
    assert env.gw.run(follower.follow_once()) == 0  # a finished case is not asked again


def test_a_server_that_speaks_only_xml(tmp_path: Path, database_url: str) -> None:
    from ozg_gateway.cases.following import StatusFollower

    e = _env(tmp_path, database_url, API_KEY, fmt="xml")
    try:
        assert httpx.get(f"{e.server.url}/services.json").status_code == 404
        case_id = e.submit()
        e.gw.work()
        assert e.delivery(case_id).remote_reference == "MTL-AEM-000001"
        connector = e.gw.ctx.connectors.instances["aem-system"]
        assert e.gw.run(connector.check(timeout=5)) is None
        httpx.post(
            f"{e.server.url}/simulate/status/MTL-AEM-000001",
            json={"status": "closed", "status_notes": "Erledigt."},
        )
        assert e.gw.run(StatusFollower(e.gw.ctx, e.gw.ctx.connectors).follow_once()) == 1
        with e.gw.ctx.db.reading() as session:
            assert session.get(Case, case_id).processing == "completed"  # type: ignore[union-attr]
    finally:
        e.close()


def test_simulator_speaks_the_spec_in_both_formats(env: Env) -> None:
    base = env.server.url
    fields = {"service_code": "001", "lat": "50.14", "long": "8.83", "description": "Loch"}
    by_query = httpx.post(f"{base}/requests.xml?api_key={API_KEY}", data=fields)
    assert by_query.status_code == 200  # api_key in the query string, as the swagger declares
    created = etree.fromstring(by_query.content)
    assert created.tag == "service_requests"
    assert created.findtext("request/service_request_id") == "MTL-AEM-000001"
    httpx.post(f"{base}/requests.json", data={**fields, "service_code": "002", "api_key": API_KEY})
    httpx.post(f"{base}/simulate/status/MTL-AEM-000002", json={"status": "closed"})
    ids = lambda r: [x["service_request_id"] for x in r.json()]  # noqa: E731
    assert ids(httpx.get(f"{base}/requests.json", params={"status": "closed"})) == [
        "MTL-AEM-000002"
    ]
    assert ids(httpx.get(f"{base}/requests.json", params={"service_code": "001"})) == [
        "MTL-AEM-000001"
    ]
    overrides = {"service_request_id": "MTL-AEM-000002", "service_code": "001"}
    assert ids(httpx.get(f"{base}/requests.json", params=overrides)) == ["MTL-AEM-000002"]
    later = {"start_date": "2999-01-01T00:00:00Z"}
    assert ids(httpx.get(f"{base}/requests.json", params=later)) == []
    listed = etree.fromstring(httpx.get(f"{base}/requests.xml").content)
    assert [r.findtext("status") for r in listed.findall("request")] == ["open", "closed"]
    refused = httpx.post(f"{base}/requests.xml", data={**fields, "api_key": "nope"})
    error = etree.fromstring(refused.content)
    assert (refused.status_code, error.tag, error.findtext("error/code")) == (403, "errors", "403")
    definition = etree.fromstring(httpx.get(f"{base}/services/001.xml").content)
    assert definition.findtext("attributes/attribute/code") == "typ"
    assert [v.findtext("key") for v in definition.findall("attributes/attribute/values/value")] == [
        "problem",
        "idee",
    ]
