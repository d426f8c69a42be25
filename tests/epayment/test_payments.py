"""Paying a fee end to end against the XBezahldienste simulator over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ozg_gateway.api.app import create_app
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.epayment import service
from ozg_gateway.epayment.money import dumps, to_cents, to_euros
from ozg_gateway.epayment.xbezahldienste.mapping import build_payment_request, purpose_text
from ozg_gateway.epayment.xbezahldienste.simulator import create_simulator
from ozg_gateway.runtime import uuid_ids
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from ozg_gateway.store.models import Delivery, Payment
from tests.conftest import PORTAL_KEY, FrozenClock, _truncate, make_settings
from tests.factories import aem_submission
from tests.live import LiveServer

PORTAL = {"Authorization": f"Bearer {PORTAL_KEY}"}
RETURN = "https://portal.maintal.example/antrag/fertig"


@dataclass
class Pay:
    ctx: GatewayContext
    http: TestClient
    sim: FastAPI
    clock: FrozenClock

    def order(self) -> str:
        body = aem_submission(service_id="personenstandsurkunde", submit=True)
        r = self.http.post("/v1/submissions", json=body, headers=PORTAL)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def start(self, sid: str, return_url: str = RETURN) -> httpx.Response:
        return self.http.post(
            f"/v1/submissions/{sid}/payment", json={"return_url": return_url}, headers=PORTAL
        )

    def deliveries(self) -> list[str]:
        with self.ctx.db.reading() as s:
            return list(s.scalars(select(Delivery.status)))

    def payment(self) -> Payment:
        with self.ctx.db.reading() as s:
            row = s.scalars(select(Payment)).one()
            return row


@pytest.fixture
def pay(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[Pay]:
    sim = create_simulator(username="u", password="p")
    server = LiveServer(sim).start()
    connector = {
        "type": "xbezahldienste",
        "base_url": server.url,
        "originator_id": "maintal-portal",
        "endpoint_id": "06435019",
        "auth": {"type": "basic", "username": "u", "password": "p"},
        "timeouts": {"connect": 1, "read": 1, "write": 1, "pool": 1},
    }
    settings = make_settings(
        tmp_path,
        database_url,
        connectors={
            "standesamt": {"type": "pull"},
            "aem-system": {"type": "pull"},
            "kita-fachverfahren": {"type": "pull"},
            "sportamt": {"type": "pull"},
            "epay21": connector,
        },
        payment_provider="epay21",
        public_base_url="http://gateway.test",
    )
    ctx = build_context(settings, clock=clock, ids=uuid_ids)
    migrate.upgrade(ctx.db)
    _truncate(ctx)
    with ctx.db.writing() as s:
        clients.add_client(
            s,
            client_id="portal-1",
            name="p",
            role=Role.portal,
            now=clock(),
            key=PORTAL_KEY,
            return_urls=["https://portal.maintal.example/"],
        )
    yield Pay(ctx, TestClient(create_app(ctx)), sim, clock)
    server.stop()
    _truncate(ctx)
    ctx.close()


def _click(page_url: str, action: str) -> str:
    """A person on the paypage: returns where the provider sends the browser."""
    r = httpx.post(f"{page_url}/{action}", follow_redirects=False)
    assert r.status_code == 303
    return r.headers["location"]


def test_fee_paid_end_to_end_releases_the_case(pay: Pay) -> None:
    sid = pay.order()
    assert pay.deliveries() == ["held"]
    started = pay.start(sid)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "open"
    assert body["amount_cents"] == 1200 + 2 * 600  # 3 copies
    assert pay.start(sid).json()["id"] == body["id"]  # same open attempt
    back_to_gateway = _click(body["paypage_url"], "pay")
    assert back_to_gateway.startswith("http://gateway.test/v1/payments/return/")
    r = pay.http.get(urlsplit(back_to_gateway).path, follow_redirects=False)
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN
    assert parse_qs(target.query) == {"payment": ["paid"]}
    payment = pay.payment()
    assert (payment.status, payment.method) == ("paid", "CREDITCARD")
    assert payment.reference
    assert payment.reference.startswith("KZ-")
    assert pay.deliveries() == ["pending"]
    again = pay.start(sid)
    assert again.status_code == 409
    # The payment is part of the case: document, FIT-Connect metadata, timeline.
    case_id = pay.http.get(f"/v1/submissions/{sid}", headers=PORTAL).json()["case"]["id"]
    with pay.ctx.db.reading() as s:
        from ozg_gateway.store import submissions as subs
        from ozg_gateway.store.models import Case

        case = s.get(Case, case_id)
        assert case is not None
        doc = subs.open_case(pay.ctx.keyring, case)
    assert doc["payment"]["status"] == "PAID"
    assert doc["payment"]["amount_cents"] == 2400
    from ozg_gateway.mappings import fitconnect

    meta = fitconnect.build_metadata(doc, data=fitconnect.build_data(doc), attachment_sha512={})
    assert meta["paymentInformation"]["status"] == "BOOKED"
    timeline = pay.http.get(f"/v1/submissions/{sid}", headers=PORTAL).json()["timeline"]
    assert timeline[-1]["status"] == "payment_paid"


def test_forged_or_early_return_does_not_mark_paid(pay: Pay) -> None:
    sid = pay.order()
    body = pay.start(sid).json()
    assert (
        pay.http.get("/v1/payments/return/pay_forged-token", follow_redirects=False).status_code
        == 404
    )
    # The real return link before paying: the provider still says INITIAL.
    with pay.ctx.db.reading() as s:
        token_hash = s.scalars(select(Payment.return_token_hash)).one()
    assert token_hash  # only the hash is stored
    redirect = _click(body["paypage_url"], "cancel")
    r = pay.http.get(urlsplit(redirect).path, follow_redirects=False)
    assert parse_qs(urlsplit(r.headers["location"]).query) == {"payment": ["canceled"]}
    assert pay.deliveries() == ["held"]


def test_return_url_must_be_allowed(pay: Pay) -> None:
    sid = pay.order()
    r = pay.start(sid, "https://evil.example/steal")
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/return_url"


def test_provider_down_abandons_attempt_without_blind_retry(pay: Pay) -> None:
    pay.sim.state.behaviour.create_status = 503
    sid = pay.order()
    assert pay.start(sid).status_code == 503
    assert pay.payment().status == "abandoned"
    pay.sim.state.behaviour.create_status = None
    retry = pay.start(sid)  # a new attempt, with a new requestId
    assert retry.status_code == 200
    with pay.ctx.db.reading() as s:
        ids = set(s.scalars(select(Payment.request_id)))
    assert len(ids) == 2


def test_late_payment_after_expiry_wins_and_is_flagged(pay: Pay) -> None:
    sid = pay.order()
    body = pay.start(sid).json()
    pay.clock.advance(minutes=61)
    service.poll_open(pay.ctx)
    assert pay.payment().status == "expired"
    pay.sim.state.behaviour.late_payment.add(body["transaction_id"])
    pay.clock.advance(hours=1)
    service.poll_open(pay.ctx)
    payment = pay.payment()
    assert payment.status == "paid"
    assert payment.needs_reconciliation is True
    assert pay.deliveries() == ["pending"]


def test_status_transitions_cannot_go_backwards(pay: Pay) -> None:
    from ozg_gateway.epayment.provider import Transaction

    sid = pay.order()
    body = pay.start(sid).json()
    paid = Transaction(body["transaction_id"], "PAYED", 2400, None, "KZ-1", "PAYPAL", None)
    failed = Transaction(body["transaction_id"], "FAILED", 2400, None, None, None, None)
    service.apply(pay.ctx, payment_id=body["id"], tx=paid)
    service.apply(pay.ctx, payment_id=body["id"], tx=failed)
    service.apply(pay.ctx, payment_id=body["id"], tx=paid)  # a second PAYED books nothing
    assert pay.payment().status == "paid"
    with pay.ctx.db.reading() as s:
        from ozg_gateway.store.models import TimelineEvent

        events = list(
            s.scalars(select(TimelineEvent.status).where(TimelineEvent.status.like("payment%")))
        )
    assert events == ["payment_paid"]


def test_wrong_amount_is_not_released(pay: Pay) -> None:
    from ozg_gateway.epayment.provider import Transaction

    sid = pay.order()
    body = pay.start(sid).json()
    service.apply(
        pay.ctx,
        payment_id=body["id"],
        tx=Transaction(body["transaction_id"], "PAYED", 100, None, None, None, None),
    )
    payment = pay.payment()
    assert payment.needs_reconciliation is True
    assert pay.deliveries() == ["held"]


def test_sum_check_rejects_items_before_any_call() -> None:
    from datetime import UTC, datetime

    with pytest.raises(ValueError, match="add up"):
        build_payment_request(
            request_id="r1",
            now=datetime.now(UTC),
            amount_cents=1200,
            items=[("a", "x", 1, 1000)],
            purpose="P",
            description="d",
            redirect_url="https://x",
            booking_data={},
        )


def test_money_is_exact() -> None:
    assert to_euros(1805) == to_euros(1805).quantize(to_euros(1))
    assert dumps({"grosAmount": to_euros(1805)}) == '{"grosAmount": 18.05}'
    assert to_cents("18.05") == 1805
    assert to_cents(18.05) == 1805
    assert purpose_text("MTL ", "MTL-2026-7K3M9Q2X") == "MTL MTL-2026-7K3M9Q2X"
    assert len(purpose_text("", "ä" * 40)) <= 27


def test_no_secret_or_personal_data_in_logs(pay: Pay) -> None:
    import io

    from ozg_gateway.logging import configure_logging

    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    try:
        pay.sim.state.behaviour.create_status = 503
        sid = pay.order()
        pay.start(sid)
    finally:
        configure_logging(level="INFO", fmt="console")
    text = stream.getvalue()
    assert "payment create failed" in text
    for secret in ("Quaxenbrink", "zoltan", "Basic ", ":p", PORTAL_KEY):
        assert secret not in text


def test_reconcile_and_refund(pay: Pay) -> None:
    from datetime import UTC, datetime

    from ozg_gateway.epayment.reconcile import reconcile
    from tests.conftest import ADMIN_KEY

    sid = pay.order()
    body = pay.start(sid).json()
    _click(body["paypage_url"], "pay")
    # The citizen never came back: locally still open, the provider says PAYED.
    report = reconcile(pay.ctx, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert report.checked == 1
    assert any("status here open, at the provider PAYED" in m for m in report.mismatches)
    service.refresh(pay.ctx, body["id"])
    assert reconcile(pay.ctx, since=datetime(2026, 1, 1, tzinfo=UTC)).mismatches == []
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    r = pay.http.post(
        f"/v1/admin/payments/{body['id']}/refund", json={"reason": "Doppelt bezahlt"}, headers=admin
    )
    assert r.json()["status"] == "refunded"
    assert (
        pay.http.post(
            f"/v1/admin/payments/{body['id']}/refund", json={"reason": "nochmal"}, headers=admin
        ).status_code
        == 409
    )
    listed = pay.http.get("/v1/admin/payments", params={"status": "refunded"}, headers=admin).json()
    assert [p["id"] for p in listed] == [body["id"]]


def test_oauth2_token_is_cached_and_renewed() -> None:
    from datetime import UTC, datetime

    from ozg_gateway.connectors.contract import ConnectorEnv
    from ozg_gateway.epayment.xbezahldienste.client import XBezahldiensteClient
    from ozg_gateway.epayment.xbezahldienste.settings import XBezahldiensteSettings

    sim = create_simulator(oauth_clients={"portal": "s3cret"})
    server = LiveServer(sim).start()
    calls: list[str] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            calls.append(request.url.path)
            return super().handle_request(request)

    try:
        settings = XBezahldiensteSettings(
            base_url=server.url,
            originator_id="o",
            endpoint_id="e",
            auth={
                "type": "oauth2",
                "token_url": f"{server.url}/oauth/token",
                "client_id": "portal",
                "client_secret": "s3cret",
            },
        )
        client = XBezahldiensteClient(
            "pm", settings, ConnectorEnv("http://g", Path("."), None), transport=Counting()
        )
        client.health()
        tx = client.post_payment(
            build_payment_request(
                request_id="r-oauth",
                now=datetime.now(UTC),
                amount_cents=500,
                items=[("a", "x", 1, 500)],
                purpose="P",
                description="d",
                redirect_url="https://x",
                booking_data={},
            )
        )
        assert client.get_transaction(tx.transaction_id).status == "INITIAL"
        assert calls.count("/oauth/token") == 1  # cached for the three calls
        assert client._tokens is not None
        client._tokens._token = ("expired", 0.0)  # past its lifetime
        client.health()
        assert calls.count("/oauth/token") == 2
        client.close()
    finally:
        server.stop()


def test_mutual_tls_with_pkcs12_client_certificate(tmp_path: Path) -> None:
    import ssl

    from ozg_gateway.connectors.contract import ConnectorEnv
    from ozg_gateway.epayment.xbezahldienste.client import XBezahldiensteClient
    from ozg_gateway.epayment.xbezahldienste.settings import XBezahldiensteSettings
    from ozg_gateway.errors import ConnectorError
    from tests.tls import make_pki

    pki = make_pki(tmp_path / "pki")
    server = LiveServer(
        create_simulator(),
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    ).start()
    env = ConnectorEnv("http://g", Path("."), None)
    base = {"base_url": server.url, "originator_id": "o", "endpoint_id": "e"}
    try:
        with_cert = XBezahldiensteClient(
            "epaybl-facade",
            XBezahldiensteSettings(
                **base,
                tls={
                    "ca_bundle": pki.ca,
                    "pkcs12": pki.client_p12,
                    "pkcs12_password": pki.p12_password,
                },
            ),
            env,
        )
        with_cert.health()  # handshake with our client certificate
        with_cert.close()
        without = XBezahldiensteClient(
            "no-cert", XBezahldiensteSettings(**base, tls={"ca_bundle": pki.ca}), env
        )
        with pytest.raises(ConnectorError):
            without.health()
        without.close()
        untrusted = XBezahldiensteClient("no-ca", XBezahldiensteSettings(**base), env)
        with pytest.raises(ConnectorError) as info:
            untrusted.health()  # verification is always on
        assert type(info.value).__name__ == "ConnectorConfigError"
        untrusted.close()
    finally:
        server.stop()


def test_create_timeout_is_not_retried(pay: Pay) -> None:
    pay.sim.state.behaviour.create_delay = 2.0  # the client's read timeout is 1 s
    sid = pay.order()
    assert pay.start(sid).status_code == 503
    payment = pay.payment()
    assert payment.status == "abandoned"
    assert payment.transaction_id is None
    assert len(pay.sim.state.transactions) <= 1  # one POST at most, never a blind second one


def test_concurrent_confirmations_book_once(pay: Pay) -> None:
    import threading

    from ozg_gateway.epayment.provider import Transaction
    from ozg_gateway.store.models import TimelineEvent

    sid = pay.order()
    body = pay.start(sid).json()
    paid = Transaction(body["transaction_id"], "PAYED", 2400, None, "KZ-1", "PAYPAL", None)
    barrier = threading.Barrier(4)

    def confirm() -> None:
        barrier.wait(timeout=5)
        service.apply(pay.ctx, payment_id=body["id"], tx=paid)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    with pay.ctx.db.reading() as s:
        events = s.scalars(
            select(TimelineEvent).where(TimelineEvent.status == "payment_paid")
        ).all()
        released = list(s.scalars(select(Delivery.status)))
    assert len(events) == 1
    assert released == ["pending"]


def test_simulator_answers_like_the_standard() -> None:
    from tests.live import LiveServer

    server = LiveServer(create_simulator(endpoints={("kita", "06435019")})).start()
    request = {
        "requestId": "req-1",
        "requestTimestamp": "2026-11-25T10:00:00.000Z",
        "currency": "EUR",
        "grosAmount": "12.00",
        "purpose": "MTL 2026 1",
        "description": "Gebühr",
        "redirectUrl": "https://portal.example/x",
        "items": [
            {
                "id": "1",
                "reference": "r",
                "description": "Gebühr",
                "taxRate": 0,
                "quantity": 1,
                "totalNetAmount": "12.00",
                "totalTaxAmount": "0.00",
                "singleNetAmount": "12.00",
                "singleTaxAmount": "0.00",
            }
        ],
    }
    try:
        url = f"{server.url}/paymenttransaction/kita/06435019"
        malformed = httpx.post(url, content=b"{not json", headers={"content-type": "x"})
        assert malformed.status_code == 400
        assert malformed.headers["content-type"] == "application/problem+json"
        for change in ({"currency": "USD"}, {"requestId": "a b"}, {"requestId": "x" * 37}):
            refused = httpx.post(url, json={**request, **change})
            assert refused.status_code == 400, change
            assert refused.json()["functionalCode"] == "VALIDATION_ERROR"
        unknown = httpx.post(f"{server.url}/paymenttransaction/other/06435019", json=request)
        assert unknown.json()["functionalCode"] == "NO_VALID_ORIGINATOR_OR_ENDPOINT"
        assert httpx.get(f"{server.url}/status/other/06435019").status_code == 404
        created = httpx.post(url, json=request).json()["paymentInformation"]
        assert created["transactionUrl"] == f"{url}/{created['transactionId']}"
        assert httpx.get(created["transactionUrl"]).status_code == 200
        index = httpx.get(f"{server.url}/")
        assert index.status_code == 200
        assert "MTL 2026 1" in index.text
    finally:
        server.stop()


def test_a_slow_provider_does_not_hold_the_request_beyond_its_deadline(pay: Pay) -> None:
    import dataclasses

    sid = pay.order()
    started = pay.start(sid).json()
    # just under the connector's 1 s read timeout, so the provider does answer, but late
    pay.sim.state.behaviour.status_delay = 0.95  # type: ignore[attr-defined]
    impatient = dataclasses.replace(
        pay.ctx, settings=pay.ctx.settings.model_copy(update={"request_deadline_seconds": 0.05})
    )
    behaviour = pay.sim.state.behaviour  # type: ignore[attr-defined]
    with TestClient(create_app(impatient)) as http:
        answered_before = behaviour.status_answers
        r = http.get(f"/v1/submissions/{sid}/payment", headers=PORTAL)
        # the race that matters: our answer against the provider's, not against a wall clock
        # (a loaded CI machine may take long to get the request to the provider at all)
        provider_had_answered = behaviour.status_answers > answered_before
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["status"]) == (started["id"], "open")  # what is known
    assert not provider_had_answered  # answered at the deadline, not after the provider
