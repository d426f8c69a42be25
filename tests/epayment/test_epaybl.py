"""ePayBL REST connector against its simulator: verified notifications, confirmed by status."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ozg_gateway.api.app import create_app
from ozg_gateway.context import build_context
from ozg_gateway.epayment.epaybl.mapping import (
    _result_error,
    buchungstext,
    notification_hash,
    verify_notification,
)
from ozg_gateway.epayment.epaybl.simulator import create_epaybl_simulator
from ozg_gateway.errors import ConnectorConfigError, PermanentError, TransientError
from ozg_gateway.runtime import uuid_ids
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from ozg_gateway.store.models import Delivery, Payment, TimelineEvent
from tests.conftest import PORTAL_KEY, FrozenClock, _truncate, make_settings
from tests.factories import aem_submission
from tests.live import LiveServer

SECRET = "epaybl-notify-secret"
PORTAL = {"Authorization": f"Bearer {PORTAL_KEY}"}


@pytest.fixture
def env(
    tmp_path: Path, database_url: str, clock: FrozenClock
) -> Iterator[tuple[TestClient, object, object]]:
    sim = create_epaybl_simulator(secret=SECRET)
    server = LiveServer(sim).start()
    pulls = {
        n: {"type": "pull"} for n in ("standesamt", "aem-system", "kita-fachverfahren", "sportamt")
    }
    settings = make_settings(
        tmp_path,
        database_url,
        connectors={
            **pulls,
            "epaybl": {
                "type": "epaybl",
                "base_url": server.url,
                "mandant": "m1",
                "bewirtschafter": "b1",
                "notify_secret": SECRET,
                "haushaltsstelle": "1.2345.6789",
                "objektnummer": "STA",
            },
        },
        payment_provider="epaybl",
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
            return_urls=["https://portal.example/"],
        )
    yield TestClient(create_app(ctx)), sim, ctx
    server.stop()
    _truncate(ctx)
    ctx.close()


def test_paid_via_verified_notification(env: tuple[TestClient, object, object]) -> None:
    http, sim, ctx = env
    body = aem_submission(service_id="personenstandsurkunde", submit=True)
    sid = http.post("/v1/submissions", json=body, headers=PORTAL).json()["id"]
    started = http.post(
        f"/v1/submissions/{sid}/payment",
        json={"return_url": "https://portal.example/x"},
        headers=PORTAL,
    )
    assert started.status_code == 200, started.text
    payment = started.json()
    assert payment["transaction_id"].startswith("KZ")
    assert payment["status"] == "open"
    # The citizen pays on the paypage; the simulator cannot reach the test gateway, so the
    # notification it signed is delivered here by hand.
    r = httpx.post(f"{payment['paypage_url']}/pay", follow_redirects=False)
    assert r.status_code == 303
    [note] = sim.state.notifications  # type: ignore[attr-defined]
    tampered = {
        **note,
        "status": "BEZAHLT",
        "kassenzeichen": note["kassenzeichen"],
        "tan": "999999",
    }
    assert http.post("/v1/payments/epaybl/notify", data=tampered).status_code == 401
    ok = http.post("/v1/payments/epaybl/notify", data=note)
    assert ok.json() == {"result": "paid"}
    replay = http.post("/v1/payments/epaybl/notify", data=note)
    assert replay.json() == {"result": "paid"}
    # parts the notification does not have are refused before anything is checked
    with_file = http.post(
        "/v1/payments/epaybl/notify", data=note, files={"beleg": ("x.bin", b"x" * 2048)}
    )
    assert with_file.status_code == 400
    extra = http.post("/v1/payments/epaybl/notify", data={**note, "rueckruf": "x"})
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["pointer"] == "/rueckruf"
    huge = http.post("/v1/payments/epaybl/notify", data={**note, "tan": "9" * 5000})
    assert huge.status_code == 400
    with ctx.db.reading() as s:  # type: ignore[attr-defined]
        assert s.scalars(select(Payment.status)).one() == "paid"
        assert list(s.scalars(select(Delivery.status))) == ["pending"]
        paid_events = s.scalars(
            select(TimelineEvent).where(TimelineEvent.status == "payment_paid")
        ).all()
        assert len(paid_events) == 1  # the replay booked nothing


def test_notification_hash_and_codes() -> None:
    fields = {
        "mandant": "m1",
        "bewirtschafter": "b1",
        "zvgid": "z",
        "kassenzeichen": "KZ1",
        "tan": "1",
        "zvp": "p",
        "zahlverfahren": "KREDITKARTE",
        "aktivierung": "1",
        "status": "BEZAHLT",
    }
    fields["hash"] = notification_hash(fields, SECRET)
    assert verify_notification(fields, SECRET)
    assert not verify_notification({**fields, "zvgid": "y"}, SECRET)
    assert not verify_notification(fields, "other")
    assert _result_error({"ergebnis": {"rc": "+0000"}}) is None
    assert isinstance(_result_error({"ergebnis": {"rc": "-9999"}}), TransientError)
    assert isinstance(_result_error({"ergebnis": {"rc": "-0611"}}), ConnectorConfigError)
    assert isinstance(_result_error({"ergebnis": {"rc": "-0102"}}), PermanentError)
    assert buchungstext("Fall mtl-2026-7k3m9q2x <ü>") == "FALL MTL-2026-7K3M9Q2"
    assert len(buchungstext("x" * 40)) == 21


def test_reconcile_sees_epaybl_amounts_and_cancellations(
    env: tuple[TestClient, object, object],
) -> None:
    from datetime import UTC, datetime

    from ozg_gateway.epayment.reconcile import reconcile

    http, sim, ctx = env
    started = []
    for _ in range(2):
        body = aem_submission(service_id="personenstandsurkunde", submit=True)
        sid = http.post("/v1/submissions", json=body, headers=PORTAL).json()["id"]
        payment = http.post(
            f"/v1/submissions/{sid}/payment",
            json={"return_url": "https://portal.example/x"},
            headers=PORTAL,
        ).json()
        started.append(payment)
    accounts = sim.state.accounts  # type: ignore[attr-defined]
    partly, cancelled = (accounts[p["transaction_id"]] for p in started)
    # The citizen paid only 6 € of 24 € before the paypage closed (a partial booking) ...
    partly.update(paypage="INAKTIV", saldo=partly["total"] - Decimal("6.00"))
    # ... and the other paypage was cancelled at the provider, which we never heard of.
    cancelled.update(paypage="INAKTIV")
    report = reconcile(ctx, since=datetime(2000, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert report.checked == 2
    first, second = (p["id"] for p in started)
    assert f"{first}: amount here 2400 ct, at the provider 600 ct" in report.mismatches
    assert f"{second}: status here open, at the provider CANCELED" in report.mismatches
