"""A migrated gateway with portal and back-office clients, for connector tests end to end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ozg_gateway.api.app import create_app
from ozg_gateway.cases.following import tracking_poller
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.delivery.worker import Worker
from ozg_gateway.runtime import uuid_ids
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from ozg_gateway.store.models import Delivery
from tests.conftest import BACKOFFICE_KEY, PORTAL_KEY, FrozenClock, _truncate, make_settings
from tests.factories import PDF_BYTES, form


@dataclass
class Gateway:
    """Context, API test client and the event loop the connectors' clients are bound to."""

    ctx: GatewayContext
    http: TestClient
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def work(self) -> int:
        """One worker batch."""
        return int(self.run(Worker(self.ctx, self.ctx.connectors, worker_id="w1").run_once()))

    def track(self) -> int:
        """One transport-report round once the next checks are due (the clock moves on as
        time would: each report has its own next check); returns the reports that ended."""
        clock = self.ctx.clock
        assert isinstance(clock, FrozenClock)
        clock.advance(seconds=300)
        return int(self.run(tracking_poller(self.ctx).track_once()))

    def submit_kita(self, attachment: bytes = PDF_BYTES) -> str:
        """A Kita registration with one PDF attachment, submitted; returns the case id."""
        portal = {"Authorization": f"Bearer {PORTAL_KEY}"}
        r = self.http.post(
            "/v1/submissions",
            json={
                "service_id": "kita-anmeldung",
                "form_data": form("kita-anmeldung", self.ctx.today()),
                "applicant": {"family_name": "Muster", "email": "m@example.org"},
            },
            headers=portal,
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        up = self.http.post(
            f"/v1/submissions/{sid}/attachments",
            files={"file": ("impfnachweis.pdf", attachment, "application/pdf")},
            headers=portal,
        )
        assert up.status_code == 201, up.text
        done = self.http.post(f"/v1/submissions/{sid}/submit", headers=portal)
        assert done.status_code == 200, done.text
        return str(done.json()["case"]["id"])

    def delivery(self, case_id: str, connector: str) -> Delivery:
        with self.ctx.db.reading() as session:
            row = session.scalar(
                select(Delivery).where(Delivery.case_id == case_id, Delivery.connector == connector)
            )
            assert row is not None
            return row

    def due(self, delivery_id: str) -> None:
        """Make a waiting delivery due now."""
        with self.ctx.db.writing() as session:
            row = session.get(Delivery, delivery_id)
            assert row is not None
            row.next_attempt_at = self.ctx.clock()

    def close(self) -> None:
        self.run(self.ctx.connectors.aclose())
        self.loop.close()
        _truncate(self.ctx)
        self.ctx.close()


def start_gateway(
    tmp_path: Path, database_url: str, connectors: dict[str, Any], **extra: Any
) -> Gateway:
    """``connectors`` replace the example config's entries of the same name; ``extra``
    overrides more settings (e.g. ``delivery``)."""
    settings = make_settings(
        tmp_path,
        database_url,
        connectors=connectors,
        public_base_url="http://gateway.test",
        **extra,
    )
    # Real timestamps: signatures and tokens of the simulators use the real clock.
    ctx = build_context(settings, clock=FrozenClock(datetime.now(UTC)), ids=uuid_ids)
    migrate.upgrade(ctx.db)
    _truncate(ctx)
    with ctx.db.writing() as session:
        for cid, role, key in (
            ("p", Role.portal, PORTAL_KEY),
            ("b", Role.backoffice, BACKOFFICE_KEY),
        ):
            clients.add_client(
                session, client_id=cid, name=cid, role=role, now=ctx.clock(), key=key
            )
    return Gateway(ctx, TestClient(create_app(ctx)), asyncio.new_event_loop())
