"""Identification end to end: portal → gateway → eID-Server simulator → scripted eID-Client."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from ozg_gateway.api.app import create_app
from ozg_gateway.config import default_specs_dir
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.eid.simulator import create_eid_simulator
from ozg_gateway.runtime import uuid_ids
from ozg_gateway.specs import xml_errors
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from tests.conftest import OTHER_PORTAL_KEY, PORTAL_KEY, FrozenClock, _truncate, make_settings
from tests.eid.test_client import GATEWAY, _write
from tests.eid.test_wssec import SERVER
from tests.factories import aem_submission
from tests.live import LiveServer

PORTAL = {"Authorization": f"Bearer {PORTAL_KEY}"}
RETURN = "https://portal.example/eid/zurueck"


@dataclass
class Env:
    http: TestClient
    sim: LiveServer
    ctx: GatewayContext
    clock: FrozenClock

    def start(self, service_id: str = "personenstandsurkunde") -> dict[str, object]:
        r = self.http.post(
            "/v1/identifications",
            json={"service_id": service_id, "return_url": RETURN},
            headers=PORTAL,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def scripted_client(self, tc_token_url: str, outcome: str = "success") -> dict[str, list[str]]:
        """What the AusweisApp does: fetch the TC Token, run EAC (simulated), open the refresh."""
        path = urlsplit(tc_token_url).path
        token = etree.fromstring(self.http.get(path).content)
        psk_id = token.findtext("SessionIdentifier")
        httpx.post(f"{self.sim.url}/simulate/complete", json={"psk_id": psk_id, "outcome": outcome})
        refresh = urlsplit(token.findtext("RefreshAddress") or "").path
        r = self.http.get(refresh, follow_redirects=False)
        assert r.status_code == 303
        target = urlsplit(r.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN
        return parse_qs(target.query)


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[Env]:
    sim = LiveServer(
        create_eid_simulator(server=SERVER, client_certificate=GATEWAY.certificate)
    ).start()
    key, cert = _write(tmp_path, "gateway", GATEWAY)
    _, server_cert = _write(tmp_path, "server", SERVER)
    pulls = {
        n: {"type": "pull"} for n in ("standesamt", "aem-system", "kita-fachverfahren", "sportamt")
    }
    settings = make_settings(
        tmp_path,
        database_url,
        connectors={
            **pulls,
            "eid-server": {
                "type": "eid",
                "url": f"{sim.url}/eid",
                "signing_key": str(key),
                "signing_certificate": str(cert),
                "server_certificate": str(server_cert),
            },
        },
        eid_server="eid-server",
        public_base_url="http://gateway.test",
        eid_result_wait_seconds=0.5,
    )
    ctx = build_context(settings, clock=clock, ids=uuid_ids)
    migrate.upgrade(ctx.db)
    _truncate(ctx)
    with ctx.db.writing() as s:
        for cid, key_ in (("portal-1", PORTAL_KEY), ("portal-2", OTHER_PORTAL_KEY)):
            clients.add_client(
                s,
                client_id=cid,
                name=cid,
                role=Role.portal,
                now=clock(),
                key=key_,
                return_urls=["https://portal.example/"],
            )
    yield Env(TestClient(create_app(ctx)), sim, ctx, clock)
    sim.stop()
    _truncate(ctx)
    ctx.close()


def test_identification_end_to_end_with_minimal_attributes(env: Env) -> None:
    started = env.start()
    assert str(started["activation"]["desktop"]).startswith(
        "http://127.0.0.1:24727/eID-Client?tcTokenURL="
    )  # type: ignore[index]
    tc = env.http.get(urlsplit(str(started["tc_token_url"])).path)
    assert tc.headers["content-type"].startswith("text/xml")
    specs = default_specs_dir()
    if specs is not None:
        assert xml_errors(specs, "eid/TcToken.xsd", tc.content) == []
    params = env.scripted_client(str(started["tc_token_url"]))
    assert params["identification"] == [started["id"]]
    code = params["code"][0]
    other = env.http.post(
        f"/v1/identifications/{started['id']}/redeem",
        json={"code": code},
        headers={"Authorization": f"Bearer {OTHER_PORTAL_KEY}"},
    )
    assert other.status_code == 409  # a code from another portal client is rejected
    r = env.http.post(
        f"/v1/identifications/{started['id']}/redeem", json={"code": code}, headers=PORTAL
    )
    assert r.status_code == 200, r.text
    identity = r.json()
    # Exactly what the catalogue allows for certificate orders (BirthName: the user kept it).
    assert set(identity["attributes"]) == {
        "GivenNames",
        "FamilyNames",
        "DateOfBirth",
        "PlaceOfBirth",
        "RestrictedID",
        "BirthName",
    }
    assert "PlaceOfResidence" not in identity["attributes"]
    assert identity["age_ok"] is True
    assert identity["level"] == "http://bsi.bund.de/eID/LoA/hoch"
    replay = env.http.post(
        f"/v1/identifications/{started['id']}/redeem", json={"code": code}, headers=PORTAL
    )
    assert replay.status_code == 409  # single use


def test_attached_identity_travels_with_the_case(env: Env) -> None:
    body = aem_submission(service_id="personenstandsurkunde")
    sid = env.http.post("/v1/submissions", json=body, headers=PORTAL).json()["id"]
    started = env.start()
    code = env.scripted_client(str(started["tc_token_url"]))["code"][0]
    r = env.http.post(
        f"/v1/identifications/{started['id']}/redeem",
        json={"code": code, "submission_id": sid},
        headers=PORTAL,
    )
    assert r.status_code == 200
    case_id = env.http.post(f"/v1/submissions/{sid}/submit", headers=PORTAL).json()["case"]["id"]
    from ozg_gateway.store import submissions as subs
    from ozg_gateway.store.models import Case

    with env.ctx.db.reading() as s:
        case = s.get(Case, case_id)
        assert case is not None
        doc = subs.open_case(env.ctx.keyring, case)
    assert doc["identity"]["restricted_id"] == "3b6e8c2f0d4a1e97"
    assert doc["identity"]["level"].endswith("hoch")


def test_failed_and_expired_codes(env: Env) -> None:
    started = env.start()
    params = env.scripted_client(str(started["tc_token_url"]), outcome="cancelled")
    assert params == {"identification": [started["id"]], "error": ["failed"]}
    ok = env.start()
    code = env.scripted_client(str(ok["tc_token_url"]))["code"][0]
    env.clock.advance(seconds=121)
    r = env.http.post(f"/v1/identifications/{ok['id']}/redeem", json={"code": code}, headers=PORTAL)
    assert r.status_code == 409


def test_offer_without_eid_and_foreign_return_url(env: Env) -> None:
    r = env.http.post(
        "/v1/identifications",
        json={"service_id": "aem-meldung", "return_url": RETURN},
        headers=PORTAL,
    )
    assert r.status_code == 422
    r = env.http.post(
        "/v1/identifications",
        json={"service_id": "personenstandsurkunde", "return_url": "https://evil.example/"},
        headers=PORTAL,
    )
    assert r.status_code == 422


def test_no_personal_data_or_secrets_in_logs(env: Env) -> None:
    from ozg_gateway.logging import configure_logging

    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    try:
        started = env.start()
        tc = env.http.get(urlsplit(str(started["tc_token_url"])).path).content
        params = env.scripted_client(str(started["tc_token_url"]))
        env.http.post(
            f"/v1/identifications/{started['id']}/redeem",
            json={"code": params["code"][0]},
            headers=PORTAL,
        )
    finally:
        configure_logging(level="INFO", fmt="console")
    text = stream.getvalue()
    psk = etree.fromstring(tc).findtext("PathSecurity-Parameters/PSK") or "x"
    for secret in ("ERIKA", "MUSTERMANN", "3b6e8c2f0d4a1e97", psk, params["code"][0]):
        assert secret not in text
    assert all(json.loads(line) for line in text.splitlines() if line.strip())  # JSON lines


def test_expired_identifications_are_purged(env: Env) -> None:
    from ozg_gateway.eid.service import purge_expired

    started = env.start()
    env.clock.advance(minutes=16)
    assert purge_expired(env.ctx) == 1
    assert env.http.get(urlsplit(str(started["tc_token_url"])).path).status_code == 404


def test_attached_identity_reaches_fit_connect_as_signed_report(env: Env) -> None:
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from ozg_gateway.mappings import fitconnect
    from ozg_gateway.specs import FIT_CONNECT_METADATA, json_errors
    from ozg_gateway.store import submissions as subs
    from ozg_gateway.store.models import Case

    sid = env.http.post(
        "/v1/submissions", json=aem_submission(service_id="personenstandsurkunde"), headers=PORTAL
    ).json()["id"]
    started = env.start()
    code = env.scripted_client(str(started["tc_token_url"]))["code"][0]
    env.http.post(
        f"/v1/identifications/{started['id']}/redeem",
        json={"code": code, "submission_id": sid},
        headers=PORTAL,
    )
    case_id = env.http.post(f"/v1/submissions/{sid}/submit", headers=PORTAL).json()["case"]["id"]
    with env.ctx.db.reading() as s:
        case = s.get(Case, case_id)
        assert case is not None
        doc = subs.open_case(env.ctx.keyring, case)
    metadata = fitconnect.build_metadata(doc, data=fitconnect.build_data(doc), attachment_sha512={})
    specs = default_specs_dir()
    if specs is not None:
        assert json_errors(specs, FIT_CONNECT_METADATA, metadata) == []
    [auth] = metadata["authenticationInformation"]
    header, claims, signature = auth["content"].split(".")
    pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    GATEWAY.certificate.public_key().verify(  # type: ignore[call-arg, union-attr]
        pad(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert json.loads(pad(claims))["restricted_id"] == "3b6e8c2f0d4a1e97"


def test_required_identification_is_enforced_on_submit(env: Env) -> None:
    sid = env.http.post(
        "/v1/submissions", json=aem_submission(service_id="personenstandsurkunde"), headers=PORTAL
    ).json()["id"]
    refused = env.http.post(f"/v1/submissions/{sid}/submit", headers=PORTAL)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/identification"
    at_once = env.http.post(
        "/v1/submissions",
        json=aem_submission(service_id="personenstandsurkunde", submit=True),
        headers=PORTAL,
    )
    assert at_once.status_code == 422
    started = env.start()
    code = env.scripted_client(str(started["tc_token_url"]))["code"][0]
    env.http.post(
        f"/v1/identifications/{started['id']}/redeem",
        json={"code": code, "submission_id": sid},
        headers=PORTAL,
    )
    assert env.http.post(f"/v1/submissions/{sid}/submit", headers=PORTAL).status_code == 200


def test_age_check_of_the_policy_is_enforced_on_submit(env: Env) -> None:
    sid = env.http.post(
        "/v1/submissions", json=aem_submission(service_id="personenstandsurkunde"), headers=PORTAL
    ).json()["id"]
    started = env.start()
    code = env.scripted_client(str(started["tc_token_url"]), outcome="age_false")["code"][0]
    redeemed = env.http.post(
        f"/v1/identifications/{started['id']}/redeem",
        json={"code": code, "submission_id": sid},
        headers=PORTAL,
    )
    assert redeemed.json()["age_ok"] is False
    refused = env.http.post(f"/v1/submissions/{sid}/submit", headers=PORTAL)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "pointer": "/identification",
            "code": "age",
            "detail": "Laut Ausweis ist das Mindestalter von 16 Jahren nicht erreicht.",
        }
    ]


def test_early_refresh_without_result_keeps_the_identification(env: Env) -> None:
    started = env.start()
    tc = etree.fromstring(env.http.get(urlsplit(str(started["tc_token_url"])).path).content)
    refresh = urlsplit(tc.findtext("RefreshAddress") or "").path
    early = env.http.get(refresh, follow_redirects=False)  # no eID card was used yet
    assert early.status_code == 303
    assert parse_qs(urlsplit(early.headers["location"]).query)["error"] == ["not_finished"]
    # the citizen's eID-Client completes afterwards and gets the code as usual
    httpx.post(
        f"{env.sim.url}/simulate/complete",
        json={"psk_id": tc.findtext("SessionIdentifier"), "outcome": "success"},
    )
    done = env.http.get(refresh, follow_redirects=False)
    code = parse_qs(urlsplit(done.headers["location"]).query)["code"][0]
    r = env.http.post(
        f"/v1/identifications/{started['id']}/redeem", json={"code": code}, headers=PORTAL
    )
    assert r.status_code == 200
