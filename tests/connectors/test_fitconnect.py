"""``fitconnect`` connector against the Submission API simulator over HTTP: JWE on the wire,
bodies checked against the OpenAPI schemas, metadata against schema 1.0.0, event log tracking."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from ozg_gateway.cases.receiving import ReceivePoller
from ozg_gateway.config import default_specs_dir
from ozg_gateway.connectors.fitconnect import jose, transfer
from ozg_gateway.connectors.fitconnect.connector import FitConnectConnector
from ozg_gateway.connectors.fitconnect.mapping import build_announcement
from ozg_gateway.connectors.fitconnect.simulator import (
    Destination,
    FitConnectState,
    create_fitconnect_simulator,
    simulator_key,
)
from ozg_gateway.connectors.threads import blocking_chunks
from ozg_gateway.errors import ConnectorAuthError, ConnectorConfigError, PermanentError
from ozg_gateway.mappings.fitconnect import build_data
from ozg_gateway.specs import FIT_CONNECT_SUBMISSION_API, openapi_validator
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.models import Case, Delivery, DeliveryAttempt
from tests.factories import PDF_BYTES
from tests.gateway import Gateway, start_gateway
from tests.live import LiveServer

SPECS = default_specs_dir()
DESTINATION = "879ee109-a690-4db8-ab32-424284184d7d"
CLIENT, SECRET = "maintal-sender", "fit-secret"


@dataclass
class Env:
    gw: Gateway
    state: FitConnectState
    server: LiveServer

    @property
    def connector(self) -> FitConnectConnector:
        connector = self.gw.ctx.connectors.instances["kita-fachverfahren"]
        assert isinstance(connector, FitConnectConnector)
        return connector

    def submit(self) -> str:
        return self.gw.submit_kita()

    def work(self) -> None:
        self.gw.work()

    def delivery(self, case_id: str) -> Delivery:
        return self.gw.delivery(case_id, "kita-fachverfahren")

    def close(self) -> None:
        self.gw.close()
        self.server.stop()


def _start(
    tmp_path: Path,
    database_url: str,
    state: FitConnectState,
    *,
    secret: str = SECRET,
    routing_ars: str | None = None,
    catalog_file: Path | None = None,
    **connector: Any,
) -> Env:
    server = LiveServer(create_fitconnect_simulator(SPECS, state)).start()
    settings = {
        "type": "fitconnect",
        "submission_api_url": server.url,
        "auth": {"token_url": f"{server.url}/token", "client_id": CLIENT, "client_secret": secret},
        **connector,
    }
    if routing_ars:
        settings["routing"] = {
            "routing_api_url": server.url,
            "ars": routing_ars,
            "signing_keys_url": f"{server.url}/.well-known/jwks.json",
        }
    extra = {"catalog_file": catalog_file} if catalog_file else {}
    # civento (XTA) and sportamt are the example's other routes: pull stand-ins here.
    gateway = start_gateway(
        tmp_path,
        database_url,
        {
            "kita-fachverfahren": settings,
            "civento": {"type": "pull"},
            "sportamt": {"type": "pull"},
        },
        **extra,
    )
    return Env(gateway, state, server)


def _env(tmp_path: Path, database_url: str, secret: str = SECRET) -> Env:
    state = FitConnectState(clients={CLIENT: SECRET}, storage=tmp_path / "simulator")
    state.destinations[DESTINATION] = Destination(DESTINATION, simulator_key("destination"))
    return _start(
        tmp_path, database_url, state, secret=secret, destinations={"kita-anmeldung": DESTINATION}
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    e = _env(tmp_path, database_url)
    yield e
    e.close()


def _track(env: Env) -> int:
    return env.gw.track()


def test_case_arrives_encrypted_and_the_destination_accepts_it(env: Env) -> None:
    case_id = env.submit()
    env.work()
    delivery = env.delivery(case_id)
    assert (delivery.status, delivery.tracking) == ("delivered", "open")
    [sub] = env.state.submissions.values()
    assert delivery.remote_reference == sub.submission_id
    with env.gw.ctx.db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None
        document = subs.open_case(env.gw.ctx.keyring, case)
    assert sub.data == build_data(document)  # decrypted by the destination
    assert [p.read_bytes() for p in sub.files.values()] == [PDF_BYTES]
    assert sub.metadata is not None
    assert sub.metadata["publicServiceType"]["name"] == document["service"]["title"]
    assert all(p.read_bytes().count(b".") == 4 for p in sub.attachments.values())  # JWE compact
    assert _track(env) == 1
    assert env.delivery(case_id).tracking == "green"
    with env.gw.ctx.db.reading() as session:  # accept-submission: the office received it
        assert session.get(Case, case_id).processing == "received"  # type: ignore[union-attr]


@pytest.fixture
def wrong_data_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender announces a data hash that does not match what it encrypts."""
    from ozg_gateway.connectors.fitconnect import connector as module

    real = module.build_metadata

    def wrong_hash(document: Any, **kwargs: Any) -> dict[str, Any]:
        metadata = real(document, **kwargs)
        metadata["contentStructure"]["data"]["hash"]["content"] = "0" * 128
        return metadata

    monkeypatch.setattr(module, "build_metadata", wrong_hash)


@pytest.mark.usefixtures("wrong_data_hash")
def test_rejected_submission_turns_red(env: Env) -> None:
    case_id = env.submit()
    env.work()
    _track(env)
    delivery = env.delivery(case_id)
    assert (delivery.status, delivery.tracking) == ("dead", "red")
    assert delivery.last_error == "Hashwert stimmt nicht überein (data)"


class _FailOnce(httpx.HTTPTransport):
    """Fails the first PUT of one kind (attachment or submit), before or after the server got it."""

    def __init__(self, *, attachment: bool, after: bool) -> None:
        super().__init__()
        self.attachment, self.after, self.done = attachment, after, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_attachment = "/attachments/" in request.url.path
        if request.method == "PUT" and is_attachment == self.attachment and not self.done:
            self.done = True
            if self.after:
                super().handle_request(request).read()  # the server has it ...
            raise httpx.ReadError("connection reset")  # ... but we never learn it
        return super().handle_request(request)


@pytest.mark.parametrize(
    ("attachment", "after"),
    [(True, False), (False, True)],
    ids=["crash-before-upload", "submit-answer-lost"],
)
def test_retries_continue_the_same_submission(env: Env, attachment: bool, after: bool) -> None:
    client = env.connector.client
    client._http = httpx.Client(transport=_FailOnce(attachment=attachment, after=after))
    client._tokens._http = client._http
    case_id = env.submit()
    env.work()
    assert env.delivery(case_id).status == "pending"
    env.gw.due(env.delivery(case_id).id)
    env.work()
    delivery = env.delivery(case_id)
    assert delivery.status == "delivered"
    [sub] = env.state.submissions.values()  # announced once
    assert sub.submitted
    assert delivery.remote_reference == sub.submission_id
    assert _track(env) == 1
    assert env.delivery(case_id).tracking == "green"


def test_wrong_client_secret_is_an_authentication_error(tmp_path: Path, database_url: str) -> None:
    e = _env(tmp_path, database_url, secret="wrong")
    try:
        case_id = e.submit()
        e.work()
        delivery = e.delivery(case_id)
        assert delivery.status == "pending"
        with e.gw.ctx.db.reading() as session:
            [attempt] = session.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
            )
        assert attempt.error_type == "ConnectorAuthError"
        assert e.state.submissions == {}
    finally:
        e.close()


def test_health_check_uses_a_token(env: Env) -> None:
    assert env.state.tokens == set()
    assert env.gw.run(env.connector.check(timeout=5)) is None
    assert len(env.state.tokens) == 1  # it authenticated, so it checks the credentials too
    # credentials revoked at the platform: the check fails as an authentication problem
    env.state.clients[CLIENT] = "rotated-elsewhere"
    env.state.tokens.clear()
    with pytest.raises(ConnectorAuthError):
        env.gw.run(env.connector.check(timeout=5))


def test_destination_keys_are_checked() -> None:
    small = RSAKey.generate_key(2048, parameters={"kid": "k"})
    jwk = {**small.as_dict(private=False), "alg": "RSA-OAEP-256", "key_ops": ["wrapKey"]}
    with pytest.raises(ConnectorConfigError, match="4096"):
        jose.encryption_key(jwk, kid="k")
    big = simulator_key("destination")
    good = {**big.as_dict(private=False), "alg": "RSA-OAEP-256", "key_ops": ["wrapKey"]}
    with pytest.raises(ConnectorConfigError, match="key_ops"):
        jose.encryption_key({**good, "key_ops": ["verify"]}, kid=str(big.kid))
    key = jose.encryption_key(good, kid=str(big.kid))
    assert jose.decrypt(jose.encrypt(b"x", key, content_type="text/plain"), big) == b"x"


@pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
def test_announcement_matches_the_openapi_schema() -> None:
    document = {"service": {"id": "kita-anmeldung", "title": "Kita", "leika_key": None}}
    body = build_announcement(document, destination_id=DESTINATION, attachment_ids=[DESTINATION])
    validator = openapi_validator(SPECS, FIT_CONNECT_SUBMISSION_API, "CreateSubmission")
    assert not list(validator.iter_errors(body))


# -- receiving: the gateway as subscriber of its own destination ---------------------------
INBOX = "5f0e7f1c-3c1a-4f41-9c55-9a7a6a1f0a11"
SERVICE = "urn:ozg-gateway:leistung:kita-anmeldung"


def _receiving_env(tmp_path: Path, database_url: str, **inbound_extra: Any) -> Env:
    """Kita cases go out to INBOX, a destination this gateway itself picks up from."""
    decryption, signing = simulator_key("inbox"), simulator_key("subscriber-signing")
    keys = {}
    for name, key in (("decryption", decryption), ("signing", signing)):
        keys[name] = tmp_path / f"{name}.jwk.json"
        keys[name].write_text(json.dumps(key.as_dict(private=True)))
    state = FitConnectState(clients={CLIENT: SECRET}, storage=tmp_path / "simulator")
    state.destinations[INBOX] = Destination(INBOX, decryption, subscriber_key=signing)
    inbound = {
        "destination_id": INBOX,
        "decryption_key": str(keys["decryption"]),
        "signing_key": str(keys["signing"]),
        "offers": {SERVICE: "hallenbelegung"},
        **inbound_extra,
    }
    return _start(
        tmp_path, database_url, state, destinations={"kita-anmeldung": INBOX}, inbound=inbound
    )


@pytest.fixture
def receiving(tmp_path: Path, database_url: str) -> Iterator[Env]:
    e = _receiving_env(tmp_path, database_url)
    yield e
    e.close()


def _receive(env: Env) -> int:
    poller = ReceivePoller(env.gw.ctx, env.gw.ctx.connectors)
    return int(env.gw.run(poller.receive_once("kita-fachverfahren")))


def _inbound_cases(env: Env) -> list[dict[str, Any]]:
    with env.gw.ctx.db.reading() as session:
        cases = session.scalars(select(Case).where(Case.source == "fitconnect"))
        return [subs.open_case(env.gw.ctx.keyring, c) for c in cases]


def test_picked_up_submission_becomes_a_case_and_is_confirmed(receiving: Env) -> None:
    case_id = receiving.submit()
    receiving.work()  # out to INBOX
    assert _receive(receiving) == 1
    [doc] = _inbound_cases(receiving)
    assert doc["service"]["id"] == "hallenbelegung"
    assert doc["origin"]["format"] == "fitconnect-data"
    assert doc["applicant"]["family_name"] == "Muster"
    with receiving.gw.ctx.db.reading() as session:
        sent = session.get(Case, case_id)
        assert sent is not None
        assert doc["form"] == subs.open_case(receiving.gw.ctx.keyring, sent)["form"]
    assert [a["filename"] for a in doc["attachments"]] == ["fachdaten.json", "impfnachweis.pdf"]
    [sub] = receiving.state.submissions.values()
    assert sub.picked_up  # our signed accept-submission was taken by the platform
    assert _receive(receiving) == 0  # nothing waiting any more
    # The sending side sees the destination's accept (signed with the destination's key).
    assert _track(receiving) == 1
    assert receiving.delivery(case_id).tracking == "green"


def test_lost_confirmation_is_sent_again_without_a_second_case(receiving: Env) -> None:
    receiving.submit()
    receiving.work()
    client = receiving.connector.client
    real = client.send_event
    client.send_event = lambda *a: (_ for _ in ()).throw(httpx.ReadError("gone"))  # type: ignore[method-assign]
    assert _receive(receiving) == 0  # committed, but the round ended on the lost event
    client.send_event = real  # type: ignore[method-assign]
    assert _receive(receiving) == 0
    assert len(_inbound_cases(receiving)) == 1
    [sub] = receiving.state.submissions.values()
    assert sub.picked_up


@pytest.mark.usefixtures("wrong_data_hash")
def test_tampered_submission_is_rejected_by_the_subscriber(receiving: Env) -> None:
    case_id = receiving.submit()
    receiving.work()
    assert _receive(receiving) == 0
    assert _inbound_cases(receiving) == []
    _track(receiving)
    delivery = receiving.delivery(case_id)
    assert (delivery.tracking, delivery.last_error) == (
        "red",
        "Hashwert stimmt nicht überein (data)",
    )


def test_missing_key_file_is_reported_for_that_connector_only(tmp_path: Path) -> None:
    from ozg_gateway.connectors.contract import ConnectorEnv
    from ozg_gateway.connectors.registry import build_connectors

    raw = {
        "type": "fitconnect",
        "submission_api_url": "https://fit.example.org",
        "auth": {
            "token_url": "https://fit.example.org/token",
            "client_id": "c",
            "client_secret": "s",
        },
        "inbound": {
            "destination_id": INBOX,
            "decryption_key": str(tmp_path / "missing.json"),
            "signing_key": str(tmp_path / "missing.json"),
        },
    }
    built = build_connectors(
        {"fit": raw, "inbox": {"type": "pull"}}, ConnectorEnv("http://g", tmp_path, None)
    )
    assert "missing.json: not a readable RSA JWK" in built.errors["fit"][0]
    assert list(built.instances) == ["inbox"]


def _reject_problems(env: Env, case_id: str) -> list[dict[str, str]]:
    token = env.state.events[case_id][-1]
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    event = payload["events"][jose.EVENTS + "reject-submission"]
    return list(event["problems"])


def test_submission_we_cannot_decrypt_is_rejected_not_left_waiting(receiving: Env) -> None:
    receiving.state.destinations[INBOX].key = simulator_key("someone-elses")  # sender uses it
    case_id = receiving.submit()
    receiving.work()
    assert _receive(receiving) == 0
    [sub] = receiving.state.submissions.values()
    assert sub.picked_up  # answered, so it does not come back
    _track(receiving)
    delivery = receiving.delivery(case_id)
    assert (delivery.tracking, delivery.last_error) == (
        "red",
        "Entschlüsselung fehlgeschlagen (metadata)",
    )
    [problem] = _reject_problems(receiving, sub.case_id)
    assert problem["type"].endswith("/problems/encryption-issue")


def test_payloads_over_64_kb_and_deflated_ones_decrypt_and_bombs_do_not() -> None:
    from joserfc import jwe

    key = simulator_key("destination")
    big = b"%PDF-1.7 " + b"x" * 300_000  # joserfc's default stops at 64 KB
    assert jose.decrypt(jose.encrypt(big, key, content_type="application/pdf"), key) == big
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}
    deflated = jwe.encrypt_compact(header, b"Antrag " * 50_000, key, registry=jose._JWE)
    assert jose.decrypt(deflated, key) == b"Antrag " * 50_000  # RFC 7516: zip MUST be processed
    bomb = jwe.encrypt_compact(header, bytes(100 * 1024 * 1024), key, registry=jose._JWE)
    assert len(bomb) < 200_000
    with pytest.raises(PermanentError):
        jose.decrypt(bomb, key)


def test_deflated_submission_with_a_large_attachment_becomes_a_case(
    receiving: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from joserfc import jwe

    def deflating(payload: bytes, key: Any, *, content_type: str) -> str:
        # What senders in the field do (older SDKs): the JWE header says zip: DEF.
        header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": key.kid, "cty": content_type}
        return jwe.encrypt_compact({**header, "zip": "DEF"}, payload, key, registry=jose._JWE)

    def deflated_upload(
        client: Any, submission_id: str, attachment: Any, key: Any, loop: Any
    ) -> str:
        plain = b"".join(blocking_chunks(attachment.open, loop))
        token = deflating(plain, key, content_type=attachment.content_type).encode()
        client.upload_attachment(submission_id, attachment.id, [token], length=len(token))
        return hashlib.sha512(plain).hexdigest()

    monkeypatch.setattr(jose, "encrypt", deflating)
    monkeypatch.setattr(transfer, "upload", deflated_upload)
    scan = b"%PDF-1.7\n" + b"0" * 400_000  # a scanned certificate, far over 64 KB
    receiving.gw.submit_kita(attachment=scan)
    receiving.work()
    assert _receive(receiving) == 1
    [doc] = _inbound_cases(receiving)
    sizes = {a["filename"]: a["size"] for a in doc["attachments"]}
    assert sizes["impfnachweis.pdf"] == len(scan)


@pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
def test_simulator_asks_for_a_token_exactly_where_the_api_file_does(env: Env) -> None:
    import yaml

    assert SPECS is not None
    api = yaml.safe_load((SPECS / FIT_CONNECT_SUBMISSION_API).read_text())
    key = env.state.destinations[DESTINATION].key
    values = {
        "destinationId": DESTINATION,
        "keyId": str(key.kid),
        "caseId": "c-1",
        "submissionId": "s-1",
        "attachmentId": "a-1",
    }
    served = {("GET", "/v1/info"), ("GET", "/v1/destinations/{destinationId}")}
    served |= {("GET", "/v1/destinations/{destinationId}/keys/{keyId}")}
    served |= {("POST", "/v1/submissions"), ("GET", "/v1/submissions")}
    served |= {("GET", "/v1/cases/{caseId}/events"), ("GET", "/v1/submissions/{submissionId}")}
    checked = 0
    for path, operations in api["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) not in served:
                continue
            url = env.server.url + path.format(**values)
            query = {"destinationId": DESTINATION} if path == "/v1/submissions" else None
            body = {} if method == "post" else None
            r = httpx.request(method.upper(), url, params=query, json=body)
            secured = bool(operation.get("security"))
            assert (r.status_code == 401) == secured, (method, path, r.status_code)
            checked += 1
    assert checked == len(served)


def test_submission_with_metadata_and_attachments_only_becomes_a_case(
    receiving: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ozg_gateway.connectors.fitconnect import connector as module

    real_metadata = module.build_metadata

    def without_data(document: Any, **kwargs: Any) -> dict[str, Any]:
        metadata = real_metadata(document, **kwargs)
        del metadata["contentStructure"]["data"]  # optional in metadata 1.0.0
        return metadata

    client = receiving.connector.client
    real_submit = client.submit

    def submit(submission_id: str, *, metadata: str, data: str | None) -> None:
        real_submit(submission_id, metadata=metadata, data=None)  # no encryptedData

    monkeypatch.setattr(module, "build_metadata", without_data)
    monkeypatch.setattr(client, "submit", submit)
    receiving.gw.submit_kita()
    receiving.work()
    assert _receive(receiving) == 1
    [doc] = _inbound_cases(receiving)
    assert doc["origin"]["format"] == "raw"
    assert [a["filename"] for a in doc["attachments"]] == ["impfnachweis.pdf"]
    [sub] = receiving.state.submissions.values()
    assert sub.picked_up


def test_destination_and_key_are_not_fetched_for_every_delivery(env: Env) -> None:
    client = env.connector.client
    calls: list[str] = []
    for name in ("destination", "key"):
        real = getattr(client, name)

        def counting(*args: Any, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return _real(*args)

        setattr(client, name, counting)
    for _ in range(3):
        env.submit()
    env.work()
    assert sorted(calls) == ["destination", "key"]  # once for three deliveries
    # the destination rotates its key: the new key id is unknown, so it is fetched at once
    destination = env.state.destinations[DESTINATION]
    destination.key = simulator_key("rotated")
    env.connector._destinations.clear()  # the destination's status was due for a refresh
    case_id = env.submit()
    env.work()
    assert env.delivery(case_id).status == "delivered"
    assert calls.count("key") == 2


CALLBACK_SECRET = "callback-secret-of-the-destination"


@pytest.fixture
def called_back(tmp_path: Path, database_url: str) -> Iterator[tuple[Env, LiveServer]]:
    """Receiving, with the gateway served over HTTP so the destination can call it back."""
    from ozg_gateway.api.app import create_app

    env = _receiving_env(tmp_path, database_url, callback_secrets=["old-secret", CALLBACK_SECRET])
    gateway = LiveServer(create_app(env.gw.ctx)).start()
    destination = env.state.destinations[INBOX]
    destination.callback_url = f"{gateway.url}/v1/callbacks/kita-fachverfahren"
    destination.callback_secret = CALLBACK_SECRET
    yield env, gateway
    gateway.stop()
    env.close()


def test_callbacks_are_verified_and_trigger_a_pickup(called_back: tuple[Env, LiveServer]) -> None:
    import time

    from ozg_gateway.connectors.fitconnect.mapping import CALLBACKS, callback_signature

    env, gateway = called_back
    url = f"{gateway.url}/v1/callbacks/kita-fachverfahren"
    body = json.dumps({"type": CALLBACKS + "new-submissions", "submissions": []}).encode()
    now = str(int(time.time()))
    old = str(int(time.time()) - 301)
    for timestamp, signature in (
        (now, callback_signature("wrong-secret", now, body)),  # wrong HMAC
        (old, callback_signature(CALLBACK_SECRET, old, body)),  # older than 5 minutes
        (now, ""),
    ):
        r = httpx.post(
            url,
            content=body,
            headers={"callback-timestamp": timestamp, "callback-authentication": signature},
        )
        assert r.status_code == 401
    # the destination's own callback: the submission is picked up within a second, no poll
    env.submit()
    env.work()  # the Kita case goes out to INBOX; the simulator calls the gateway back
    deadline = time.monotonic() + 1.0
    while not _inbound_cases(env) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_inbound_cases(env)) == 1  # the case, within a second of the callback
    [sub] = env.state.submissions.values()
    deadline = time.monotonic() + 1.0  # the signed confirmation follows the commit
    while not sub.picked_up and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sub.picked_up


LEIKA, ARS = "99123456760610", "064350019019"
ROUTED = "6f1a1c1e-8c53-4b3c-9c43-0b8f0d1e2a77"


@pytest.fixture
def routed(tmp_path: Path, database_url: str) -> Iterator[Env]:
    """No destination configured: the Routing API names it for the offer's LeiKa and our ARS."""
    from tests.conftest import EXAMPLE_CONFIG

    catalog = (EXAMPLE_CONFIG.parent / "catalog.toml").read_text()
    catalog = catalog.replace(
        'id = "kita-anmeldung"\n', f'id = "kita-anmeldung"\nleika_key = "{LEIKA}"\n', 1
    )
    catalog_file = tmp_path / "catalog.toml"
    catalog_file.write_text(catalog)
    state = FitConnectState(clients={CLIENT: SECRET}, storage=tmp_path / "simulator")
    state.destinations[ROUTED] = Destination(ROUTED, simulator_key("destination"))
    state.routes[LEIKA] = [(ARS, ROUTED)]
    e = _start(tmp_path, database_url, state, routing_ars=ARS, catalog_file=catalog_file)
    yield e
    e.close()


def test_destination_found_through_signed_routes(routed: Env) -> None:
    case_ids = [routed.submit(), routed.submit()]
    routed.work()
    assert [routed.delivery(c).status for c in case_ids] == ["delivered", "delivered"]
    assert {s.destination_id for s in routed.state.submissions.values()} == {ROUTED}
    assert routed.state.routing_calls == 1  # the route is reused, not asked per delivery


def test_route_with_a_forged_signature_is_refused(routed: Env) -> None:
    routed.state.route_key = simulator_key("someone-else")  # not FIT-Connect's signing key
    case_id = routed.submit()
    routed.work()
    delivery = routed.delivery(case_id)
    assert delivery.status == "dead"
    assert "no route with a valid signature" in (delivery.last_error or "")
    assert routed.state.submissions == {}


def test_routing_rate_limit_waits(routed: Env) -> None:
    routed.state.route_quota = 0
    case_id = routed.submit()
    routed.work()
    delivery = routed.delivery(case_id)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    with routed.gw.ctx.db.reading() as session:
        [attempt] = session.scalars(select(DeliveryAttempt)).all()
    assert (attempt.outcome, attempt.http_status) == ("transient", 429)


def _test_ca() -> tuple[Any, Any]:
    """A CA certificate and key that issue destination key certificates (fixtures' PKI)."""
    import datetime as dt

    from cryptography import x509 as x
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x.Name([x.NameAttribute(NameOID.COMMON_NAME, "Test FIT-Connect CA")])
    now = dt.datetime.now(dt.UTC)
    usage = x.KeyUsage(False, False, False, False, False, True, True, False, False)
    cert = (
        x.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


@pytest.mark.parametrize("issued_by_anchor", [True, False])
def test_destination_key_chain_is_checked_against_the_trust_anchor(
    tmp_path: Path, database_url: str, issued_by_anchor: bool
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    anchor = _test_ca()
    pem = tmp_path / "fit-ca.pem"
    pem.write_bytes(anchor[0].public_bytes(Encoding.PEM))
    state = FitConnectState(clients={CLIENT: SECRET}, storage=tmp_path / "simulator")
    state.destinations[DESTINATION] = Destination(DESTINATION, simulator_key("destination"))
    state.key_ca = anchor if issued_by_anchor else _test_ca()  # else: a CA nobody trusts
    env = _start(
        tmp_path,
        database_url,
        state,
        destinations={"kita-anmeldung": DESTINATION},
        trust_anchors=str(pem),
    )
    try:
        case_id = env.submit()
        env.work()
        delivery = env.delivery(case_id)
        if issued_by_anchor:
            assert delivery.status == "delivered"
        else:
            assert delivery.status == "dead"  # our configuration or theirs: fix, then replay
            assert "trust anchor" in (delivery.last_error or "")
            assert state.submissions == {}
    finally:
        env.close()


@pytest.mark.parametrize(
    ("preferred", "offered", "expected"),
    [
        (["eMail"], None, {"eMail": {"address": "m@example.org"}}),
        (["deMail", "eMail"], {"eMail", "deMail"}, {"deMail": {"address": "m@muster.de-mail.de"}}),
        (["deMail", "eMail"], {"eMail"}, {"eMail": {"address": "m@example.org"}}),
        (["fink", "eMail"], {"fink"}, {"fink": {"finkPostfachRef": "he/mtl/12345"}}),
        (["elster"], {"elster", "eMail"}, {"elster": {"accountId": "1234567890"}}),
        (["eMail"], set(), None),  # the destination lists no channel: replies go by paper
    ],
)
def test_reply_channel_follows_offer_destination_and_applicant(
    preferred: list[str], offered: set[str] | None, expected: dict[str, Any] | None
) -> None:
    from ozg_gateway.mappings.fitconnect import build_data, build_metadata, reply_channel
    from ozg_gateway.specs import json_errors

    document: dict[str, Any] = {
        "service": {"reply_channels": preferred},
        "applicant": {
            "family_name": "Muster",
            "email": "m@example.org",
            "de_mail": "m@muster.de-mail.de",
            "fink_postfach": "he/mtl/12345",
            "elster_account_id": "1234567890",
        },
    }
    assert reply_channel(document, offered=offered) == expected
    if SPECS is not None and expected is not None:
        from tests.mappings.cases import case_document

        full = case_document("kita-anmeldung")
        full["service"]["reply_channels"] = preferred
        full["applicant"] = document["applicant"]
        full["attachments"] = []
        metadata = build_metadata(
            full, data=build_data(full), attachment_sha512={}, offered=offered
        )
        assert metadata["replyChannel"] == expected
        assert json_errors(SPECS, "fit-connect/metadata.schema.v1.0.0.json", metadata) == []


def test_the_destinations_reply_channel_reaches_the_metadata(
    tmp_path: Path, database_url: str
) -> None:
    from tests.conftest import EXAMPLE_CONFIG, PORTAL_KEY
    from tests.factories import form

    catalog = (EXAMPLE_CONFIG.parent / "catalog.toml").read_text()
    catalog = catalog.replace(
        'id = "kita-anmeldung"\n',
        'id = "kita-anmeldung"\nreply_channels = ["deMail", "eMail"]\n',
        1,
    )
    catalog_file = tmp_path / "catalog.toml"
    catalog_file.write_text(catalog)
    state = FitConnectState(clients={CLIENT: SECRET}, storage=tmp_path / "simulator")
    state.destinations[DESTINATION] = Destination(
        DESTINATION, simulator_key("destination"), reply_channels={"deMail": {}}
    )
    env = _start(
        tmp_path,
        database_url,
        state,
        destinations={"kita-anmeldung": DESTINATION},
        catalog_file=catalog_file,
    )
    try:
        r = env.gw.http.post(
            "/v1/submissions",
            json={
                "service_id": "kita-anmeldung",
                "form_data": form("kita-anmeldung", env.gw.ctx.today()),
                "applicant": {
                    "family_name": "Muster",
                    "email": "m@example.org",
                    "de_mail": "m.muster@muster.de-mail.de",
                },
                "submit": True,
            },
            headers={"Authorization": f"Bearer {PORTAL_KEY}"},
        )
        assert r.status_code == 201, r.text
        env.work()
        [sub] = state.submissions.values()
        assert sub.metadata is not None
        assert sub.metadata["replyChannel"] == {"deMail": {"address": "m.muster@muster.de-mail.de"}}
    finally:
        env.close()


def test_a_large_attachment_streams_in_and_an_altered_one_is_named_and_dropped(
    receiving: Env,
) -> None:
    scan = b"%PDF-1.7\n" + b"0123456789" * 600_000  # decrypted in pieces, never whole
    receiving.gw.submit_kita(attachment=scan)
    receiving.work()
    assert _receive(receiving) == 1
    [doc] = _inbound_cases(receiving)
    [pdf] = [a for a in doc["attachments"] if a["filename"] == "impfnachweis.pdf"]
    assert pdf["size"] == len(scan)
    assert pdf["sha256"] == hashlib.sha256(scan).hexdigest()

    receiving.gw.submit_kita(attachment=scan)
    receiving.work()
    second = next(s for s in receiving.state.submissions.values() if not s.picked_up)
    [(attachment_id, token)] = second.attachments.items()
    data = bytearray(token.read_bytes())
    data[len(data) // 2] = ord("A") if data[len(data) // 2] != ord("A") else ord("B")
    token.write_bytes(bytes(data))  # altered on the way
    tmp = receiving.gw.ctx.settings.data_dir / "blobs" / "tmp"
    assert _receive(receiving) == 0
    assert len(_inbound_cases(receiving)) == 1
    [problem] = _reject_problems(receiving, second.case_id)
    assert problem["type"].endswith("/problems/encryption-issue")
    assert problem["instance"] == f"attachment:{attachment_id}"
    assert list(tmp.iterdir()) == []  # the unverified plaintext is gone


@pytest.mark.skipif(SPECS is None, reason="needs the specs directory")
def test_simulator_answers_are_held_to_the_api_files() -> None:
    """Every test above runs with this check on: a stray answer would be a 500 naming it."""
    from ozg_gateway.connectors.fitconnect.conformance import AnswerCheck

    check = AnswerCheck(SPECS)
    ok = b'{"version": {"major": 1, "minor": 1, "patch": 3}}'
    assert check.problem("GET", "/v1/info", 200, "application/json", ok) is None
    wrong = check.problem("GET", "/v1/info", 200, "application/json", b'{"version": "1.1.3"}')
    assert wrong is not None
    assert "submission-api.yaml" in wrong
    assert "version" in wrong
    undeclared = check.problem(
        "PUT", f"/v1/submissions/{DESTINATION}", 409, "application/problem+json", b"{}"
    )
    assert undeclared is not None
    assert "does not declare status 409" in undeclared
    routes = check.problem("GET", "/v1/routes", 429, "application/problem+json", b"{}")
    assert routes is not None
    assert "routing-api.yaml" in routes
