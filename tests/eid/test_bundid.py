"""BundID end to end: portal → gateway (SAML SP) → BundID simulator (IdP) → assertion consumer
service → one-time code → redeem. Requests and metadata valid against the SAML schemas, the
request's signature checked by an independent library (xmlsec; the gateway signs with signxml),
and every way an assertion must be refused."""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import xmlsec
from fastapi.testclient import TestClient
from lxml import etree

from ozg_gateway.api.app import create_app
from ozg_gateway.config import default_specs_dir
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.eid.bundid import mapping, saml
from ozg_gateway.eid.bundid.client import LoginFailed
from ozg_gateway.eid.bundid.saml import KeyPair
from ozg_gateway.eid.bundid.simulator import (
    PERSONS,
    IdpState,
    Pending,
    build_response,
    create_bundid_simulator,
)
from ozg_gateway.eid.bundid_flow import bundid_client
from ozg_gateway.runtime import uuid_ids
from ozg_gateway.specs import xml_errors
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from ozg_gateway.store.models import Identification
from tests.conftest import PORTAL_KEY, FrozenClock, _truncate, make_settings
from tests.live import LiveServer

PORTAL = {"Authorization": f"Bearer {PORTAL_KEY}"}
RETURN = "https://portal.example/bundid/zurueck"
IDP_ENTITY = "https://int.id.bund.de/idp"
SP_ENTITY = "https://maintal.example/ozg-gateway"
ACS = "http://gateway.test/v1/identifications/bundid/acs"
SPECS = default_specs_dir()


IDP, SP_SIGNING, SP_ENCRYPTION, STRANGER = (
    saml.new_pair(n) for n in ("bundid-idp", "sp-signing", "sp-encryption", "stranger")
)


@dataclass
class Env:
    http: TestClient
    sim: LiveServer
    ctx: GatewayContext
    idp: IdpState

    def start(self) -> dict[str, Any]:
        r = self.http.post(
            "/v1/identifications",
            json={"service_id": "personenstandsurkunde", "return_url": RETURN, "method": "bundid"},
            headers=PORTAL,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def login_form(self, started: dict[str, Any]) -> dict[str, str]:
        page = self.http.get(urlsplit(started["login_url"]).path)
        assert page.status_code == 200, page.text
        return _form(page.text)

    def at_idp(self, form: dict[str, str], **choice: str) -> dict[str, str]:
        """The citizen at BundID: the choice page, then the auto-posting answer."""
        shown = httpx.post(form["action"], data={k: v for k, v in form.items() if k != "action"})
        assert shown.status_code == 200, shown.text
        nonce = _form(shown.text)["nonce"]
        choice = {"person": "erika", "method": "eID", "outcome": "success", **choice}
        answer = httpx.post(f"{self.sim.url}/sso/answer", data={"nonce": nonce, **choice})
        return _form(answer.text)

    def post_back(self, answer: dict[str, str]) -> dict[str, list[str]]:
        r = self.http.post(
            urlsplit(answer["action"]).path,
            data={"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        target = urlsplit(r.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN
        return parse_qs(target.query)


def _form(html: str) -> dict[str, str]:
    action = re.search(r'<form[^>]*action="([^"]*)"', html)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    return {
        "action": unescape(action.group(1)) if action else "",
        **{k: unescape(v) for k, v in fields.items()},
    }


def _pem(tmp: Path, name: str, pair: KeyPair) -> tuple[str, str]:
    key, cert = tmp / f"{name}.key", tmp / f"{name}.pem"
    key.write_bytes(pair.key_pem())
    cert.write_bytes(pair.cert_pem())
    return str(key), str(cert)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    state = IdpState()
    sim = LiveServer(
        create_bundid_simulator(
            idp=IDP,
            entity_id=IDP_ENTITY,
            sp_signing=SP_SIGNING.certificate,
            sp_encryption=SP_ENCRYPTION.certificate,
            sp_entity_id=SP_ENTITY,
            state=state,
            specs_dir=SPECS,  # every AuthnRequest of these tests is validated by the IdP too
        )
    ).start()
    sign_key, sign_cert = _pem(tmp_path, "sign", SP_SIGNING)
    enc_key, enc_cert = _pem(tmp_path, "enc", SP_ENCRYPTION)
    _, idp_cert = _pem(tmp_path, "idp", IDP)
    pulls = {
        n: {"type": "pull"} for n in ("standesamt", "aem-system", "kita-fachverfahren", "sportamt")
    }
    settings = make_settings(
        tmp_path,
        database_url,
        connectors={
            **pulls,
            "bundid": {
                "type": "bundid",
                "sso_url": f"{sim.url}/sso",
                "idp_entity_id": IDP_ENTITY,
                "idp_certificates": [idp_cert],
                "entity_id": SP_ENTITY,
                "signing_key": sign_key,
                "signing_certificate": sign_cert,
                "encryption_key": enc_key,
                "encryption_certificate": enc_cert,
                "organization_display_name": "Stadt Maintal",
                "online_service_id": "BMI-A-06435019-0001",
            },
        },
        bundid="bundid",
        public_base_url="http://gateway.test",
    )
    # Real time: the simulator signs with the real clock.
    ctx = build_context(settings, clock=FrozenClock(datetime.now(UTC)), ids=uuid_ids)
    migrate.upgrade(ctx.db)
    _truncate(ctx)
    with ctx.db.writing() as s:
        clients.add_client(
            s,
            client_id="portal-1",
            name="portal-1",
            role=Role.portal,
            now=ctx.clock(),
            key=PORTAL_KEY,
            return_urls=["https://portal.example/"],
        )
    yield Env(TestClient(create_app(ctx)), sim, ctx, state)
    sim.stop()
    _truncate(ctx)
    ctx.close()


def test_the_citizen_logs_in_and_the_portal_gets_only_the_offers_attributes(env: Env) -> None:
    started = env.start()
    assert started["method"] == "bundid"
    assert started["tc_token_url"] is None
    params = env.post_back(env.at_idp(env.login_form(started)))
    code = params["code"][0]
    r = env.http.post(
        f"/v1/identifications/{started['id']}/redeem", json={"code": code}, headers=PORTAL
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["method"] == "bundid"
    assert result["level"] == "high"  # eID at BundID: STORK-QAA-Level-4
    assert result["proved_by"] == "eID"
    assert result["restricted_id"] == PERSONS["erika"][mapping.OID["RestrictedID"]]  # bPK2
    assert result["age_ok"] is True
    assert set(result["attributes"]) == {
        "GivenNames",
        "FamilyNames",
        "DateOfBirth",
        "PlaceOfBirth",
        "RestrictedID",
        "BirthName",
    }  # no address, no nationality, no community id: the offer does not read them
    assert result["attributes"]["DateOfBirth"] == {"date": "1964-08-12", "partial": None}
    assert result["trust_levels"]["GivenNames"] == 4
    again = env.http.post(
        f"/v1/identifications/{started['id']}/redeem", json={"code": code}, headers=PORTAL
    )
    assert again.status_code == 409  # one-time; the result is gone
    with env.ctx.db.reading() as session:
        row = session.get(Identification, started["id"])
        assert row is not None
        assert (row.identity_sealed, row.session_sealed) == (None, None)


@pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
def test_request_and_metadata_are_schema_valid_and_the_signature_verifies_independently(
    env: Env,
) -> None:
    assert SPECS is not None
    form = env.login_form(env.start())
    request = base64.b64decode(form["SAMLRequest"])
    assert xml_errors(SPECS, "bundid/saml-schema-protocol-2.0.xsd", request) == []
    root = etree.fromstring(request)
    assert (root.get("ForceAuthn"), root.get("IsPassive")) == ("true", "false")
    assert root.get("AssertionConsumerServiceURL") == ACS
    context = root.find(f"{{{mapping.SAMLP}}}RequestedAuthnContext")
    assert context is not None
    assert context.get("Comparison") == "minimum"
    assert context.findtext(f"{{{mapping.SAML}}}AuthnContextClassRef") == "STORK-QAA-Level-3"
    extension = root.find(f"{{{mapping.SAMLP}}}Extensions/{{{mapping.AKDB}}}AuthenticationRequest")
    assert extension is not None
    assert extension.get("Version") == "2"
    asked = {
        r.get("Name"): r.get("RequiredAttribute")
        for r in extension.iter(f"{{{mapping.AKDB}}}RequestedAttribute")
    }
    oid = mapping.OID
    assert asked == {  # exactly the policy: data minimisation
        oid["GivenNames"]: "true",
        oid["FamilyNames"]: "true",
        oid["DateOfBirth"]: "true",
        oid["PlaceOfBirth"]: "true",
        oid["RestrictedID"]: "true",
        oid["BirthName"]: "false",
    }
    # The oracle: python-xmlsec (libxmlsec1), not signxml, verifies the gateway's signature.
    xmlsec.tree.add_ids(root, ["ID"])
    signature = xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature)
    context_ = xmlsec.SignatureContext()
    context_.key = xmlsec.Key.from_memory(
        SP_SIGNING.cert_pem(), xmlsec.constants.KeyDataFormatCertPem
    )
    context_.verify(signature)
    tampered = copy.deepcopy(root)
    tampered.set("AssertionConsumerServiceURL", "https://evil.example/acs")
    xmlsec.tree.add_ids(tampered, ["ID"])
    with pytest.raises(xmlsec.Error):
        context_.verify(xmlsec.tree.find_node(tampered, xmlsec.constants.NodeSignature))

    metadata = env.http.get("/v1/identifications/bundid/metadata")
    assert metadata.headers["content-type"].startswith("application/samlmetadata+xml")
    assert xml_errors(SPECS, "bundid/saml-schema-metadata-2.0.xsd", metadata.content) == []
    described = etree.fromstring(metadata.content)
    assert described.get("entityID") == SP_ENTITY
    assert described.get("ID") is None
    assert described.get("validUntil") is None
    uses = [k.get("use") for k in described.iter(f"{{{mapping.MD}}}KeyDescriptor")]
    assert uses == ["signing", "encryption"]


def _pending(env: Env, started: dict[str, Any]) -> tuple[Pending, str]:
    """The request id the gateway sent, read the way the IdP reads it."""
    form = env.login_form(started)
    request = etree.fromstring(base64.b64decode(form["SAMLRequest"]))
    wanted = [
        (str(r.get("Name")), r.get("RequiredAttribute") == "true")
        for r in request.iter(f"{{{mapping.AKDB}}}RequestedAttribute")
    ]
    return Pending(str(request.get("ID")), ACS, started["id"], wanted, 3), form["RelayState"]


def _post(env: Env, response: etree._Element, relay: str) -> dict[str, list[str]]:
    encoded = base64.b64encode(etree.tostring(response)).decode()
    return env.post_back({"action": ACS, "SAMLResponse": encoded, "RelayState": relay})


def _failed(env: Env, identification_id: str) -> str:
    with env.ctx.db.reading() as session:
        row = session.get(Identification, identification_id)
        assert row is not None
        assert row.status == "failed"
        return str(row.error)


def _answer(pending: Pending, **changes: Any) -> etree._Element:
    args: dict[str, Any] = {
        "idp": IDP,
        "entity_id": IDP_ENTITY,
        "pending": pending,
        "person": PERSONS["erika"],
        "method": "eID",
        "outcome": "success",
        "sp_encryption": SP_ENCRYPTION.certificate,
        "sp_entity_id": SP_ENTITY,
        "now": datetime.now(UTC),
        **changes,
    }
    return build_response(**args)


def _refusal(env: Env, pending: Pending, response: etree._Element) -> str:
    """Why the SP refuses a response (what the log gets; the citizen reads plain German)."""
    encoded = base64.b64encode(etree.tostring(response)).decode()
    with pytest.raises(LoginFailed) as refused:
        bundid_client(env.ctx).consume(encoded, request_id=pending.request_id, now=env.ctx.clock())
    return str(refused.value)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"idp": STRANGER}, "does not verify"),  # signed by another key
        ({"audience": "https://other.example/sp"}, "another audience"),
        ({"now": datetime.now(UTC) - timedelta(minutes=15)}, "expired"),
    ],
    ids=["other-key", "other-audience", "expired"],
)
def test_assertions_that_must_not_count_are_refused(
    env: Env, changes: dict[str, Any], reason: str
) -> None:
    started = env.start()
    pending, relay = _pending(env, started)
    response = _answer(pending, **changes)
    assert reason in _refusal(env, pending, response)
    params = _post(env, response, relay)
    assert params["error"] == ["failed"]
    assert "BundID" in _failed(env, started["id"])


def test_a_wrapped_assertion_is_refused(env: Env) -> None:
    started = env.start()
    pending, relay = _pending(env, started)
    genuine = _answer(pending)
    encrypted = genuine.find(f"{{{mapping.SAML}}}EncryptedAssertion")
    assert encrypted is not None
    signed = saml.decrypt(encrypted, [SP_ENCRYPTION])
    forged = copy.deepcopy(signed)
    forged.set("ID", "_forged")
    forged.remove(forged.find(f"{{{mapping.DS}}}Signature"))
    for value in forged.iter(f"{{{mapping.SAML}}}AttributeValue"):
        if value.text == "Erika":
            value.text = "Mallory"
    conditions = forged.find(f"{{{mapping.SAML}}}Conditions")
    assert conditions is not None
    conditions.addnext(etree.Element(f"{{{mapping.SAML}}}Advice"))
    forged.find(f"{{{mapping.SAML}}}Advice").append(signed)  # type: ignore[union-attr]
    for child in list(encrypted):
        encrypted.remove(child)
    encrypted.append(saml.encrypt(forged, SP_ENCRYPTION.certificate))
    assert "signature wrapping" in _refusal(env, pending, genuine)
    params = _post(env, genuine, relay)
    assert params["error"] == ["failed"]


def test_a_replayed_assertion_is_refused(env: Env) -> None:
    started = env.start()
    pending, relay = _pending(env, started)
    response = _answer(pending)
    assert "code" in _post(env, response, relay)
    with env.ctx.db.writing() as session:  # a second instance racing with the same POST
        row = session.get(Identification, started["id"])
        assert row is not None
        sealed = env.ctx.keyring.seal_json(
            {"method": "bundid", "request_id": pending.request_id},
            aad=f"identification:{row.id}:session",
        )
        row.status, row.session_sealed = "started", sealed
    assert _post(env, response, relay)["error"] == ["failed"]


def test_cancel_and_a_too_low_level_become_german_messages(env: Env) -> None:
    started = env.start()
    params = env.post_back(env.at_idp(env.login_form(started), outcome="cancel"))
    assert params["error"] == ["failed"]
    assert "abgebrochen" in _failed(env, started["id"])
    started = env.start()
    params = env.post_back(env.at_idp(env.login_form(started), method="Benutzername"))
    assert params["error"] == ["failed"]
    assert "Vertrauensniveau" in _failed(env, started["id"])


def test_the_login_page_is_shown_once(env: Env) -> None:
    started = env.start()
    env.login_form(started)
    again = env.http.get(urlsplit(started["login_url"]).path)
    assert "bereits gestartet" in again.text
    assert "SAMLRequest" not in again.text


def test_the_idp_answers_malformed_requests_with_its_codes(env: Env) -> None:
    form = env.login_form(env.start())
    request = etree.fromstring(base64.b64decode(form["SAMLRequest"]))
    unsigned = copy.deepcopy(request)
    unsigned.remove(unsigned.find(f"{{{mapping.DS}}}Signature"))
    for broken, code in (
        (unsigned, "saml-request-not-signed"),
        (_resigned(request, lambda e: e.set("Version", "1")), "akdb-extension-v1-deprecated"),
        (_resigned(request, _drop_attributes), "requested-attributes-empty"),
    ):
        r = httpx.post(
            f"{env.sim.url}/sso",
            data={"SAMLRequest": base64.b64encode(etree.tostring(broken)).decode()},
        )
        assert f"idp.code={code}" in r.headers["location"], code


def _drop_attributes(extension: etree._Element) -> None:
    holder = extension.find(f"{{{mapping.AKDB}}}RequestedAttributes")
    assert holder is not None
    for child in list(holder):
        holder.remove(child)


def _resigned(request: etree._Element, change: Any) -> etree._Element:
    copy_ = copy.deepcopy(request)
    copy_.remove(copy_.find(f"{{{mapping.DS}}}Signature"))
    extension = copy_.find(f"{{{mapping.SAMLP}}}Extensions/{{{mapping.AKDB}}}AuthenticationRequest")
    assert extension is not None
    change(extension)
    issuer = copy_.find(f"{{{mapping.SAML}}}Issuer")
    assert issuer is not None
    issuer.addnext(etree.Element(f"{{{mapping.DS}}}Signature", Id="placeholder"))
    return saml.sign(copy_, SP_SIGNING)


def test_key_rollover_publishes_both_and_decrypts_with_either(tmp_path: Path) -> None:
    from ozg_gateway.connectors.contract import ConnectorEnv
    from ozg_gateway.eid.bundid.client import BundIdClient
    from ozg_gateway.eid.bundid.settings import BundIdSettings

    following = saml.new_pair("sp-next")
    files = {
        name: _pem(tmp_path, name, pair)
        for name, pair in (
            ("sign", SP_SIGNING),
            ("enc", SP_ENCRYPTION),
            ("next", following),
            ("idp", IDP),
        )
    }
    settings = BundIdSettings(
        sso_url="https://int.id.bund.de/idp/profile/SAML2/POST/SSO",
        idp_entity_id=IDP_ENTITY,
        idp_certificates=[Path(files["idp"][1])],
        entity_id=SP_ENTITY,
        signing_key=Path(files["sign"][0]),
        signing_certificate=Path(files["sign"][1]),
        next_signing_certificate=Path(files["next"][1]),
        encryption_key=Path(files["enc"][0]),
        encryption_certificate=Path(files["enc"][1]),
        next_encryption_key=Path(files["next"][0]),
        next_encryption_certificate=Path(files["next"][1]),
        organization_display_name="Stadt Maintal",
        online_service_id="BMI-A-06435019-0001",
    )
    client = BundIdClient("bundid", settings, ConnectorEnv("http://gateway.test", tmp_path, None))
    described = etree.fromstring(client.metadata())
    uses = [k.get("use") for k in described.iter(f"{{{mapping.MD}}}KeyDescriptor")]
    assert uses == ["signing", "signing", "encryption", "encryption"]
    pending = Pending("_r1", ACS, "x", [(mapping.OID["GivenNames"], True)], 3)
    for recipient in (SP_ENCRYPTION, following):  # BundID may use either during the rollover
        response = _answer(pending, sp_encryption=recipient.certificate)
        encoded = base64.b64encode(etree.tostring(response)).decode()
        found = client.consume(encoded, request_id="_r1", now=datetime.now(UTC))
        assert found.attributes["GivenNames"] == "Erika"
    with pytest.raises(ValueError, match="without a port"):
        BundIdSettings.model_validate(
            {**settings.model_dump(), "entity_id": "https://maintal.example:8443/sp"}
        )
