"""A gateway wired to a real webhook receiver on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ozg_gateway.connectors.webhook.simulator import ReceiverStore, create_receiver
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery.worker import Worker
from tests.conftest import PORTAL_KEY, FrozenClock, _truncate
from tests.factories import form
from tests.gateway import start_gateway
from tests.live import LiveServer

SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWI="
WEBHOOK_CONNECTORS = ("kita-fachverfahren", "sportamt", "aem-system")


def connectors_config(receiver_url: str, secret: str = SECRET) -> dict[str, dict[str, Any]]:
    hook = {
        "type": "webhook",
        "url": f"{receiver_url}/webhook",
        "check_url": f"{receiver_url}/health",
        "secrets": [secret],
        "timeouts": {"connect": 1, "read": 2, "write": 2, "pool": 2},
    }
    # civento (XTA in the example) is not under test here: a pull stand-in receives nothing.
    pulls = {"standesamt": {"type": "pull"}, "civento": {"type": "pull"}}
    return {**{n: dict(hook) for n in WEBHOOK_CONNECTORS}, **pulls}


FAST = {
    "backoff_base_seconds": 1,
    "backoff_max_seconds": 4,
    "breaker_threshold": 3,
    "breaker_cooldown_seconds": 30,
    "health_timeout_seconds": 1,
}


@dataclass
class Env:
    ctx: GatewayContext
    clock: FrozenClock
    receiver: LiveServer
    store: ReceiverStore
    http: TestClient
    loop: asyncio.AbstractEventLoop

    def submit(self, service_id: str = "aem-meldung", n: int = 1) -> list[str]:
        """Submit cases through the API; return their case ids."""
        ids = []
        for _ in range(n):
            r = self.http.post(
                "/v1/submissions",
                json={
                    "service_id": service_id,
                    "form_data": form(service_id),
                    "applicant": {"family_name": "Muster", "email": "m@example.org"},
                    "submit": True,
                },
                headers={"Authorization": f"Bearer {PORTAL_KEY}"},
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["case"]["id"])
        return ids

    def work(self, rounds: int = 1, worker_id: str = "w1") -> int:
        """Run worker batches on the env's loop (connector clients are bound to it)."""
        worker = Worker(self.ctx, self.ctx.connectors, worker_id=worker_id)
        return sum(self.run(worker.run_once()) for _ in range(rounds))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


def build_env(tmp_path: Path, database_url: str, **delivery: Any) -> Env:
    store = ReceiverStore()
    receiver = LiveServer(create_receiver([SECRET], store)).start()
    gateway = start_gateway(
        tmp_path,
        database_url,
        connectors_config(receiver.url),
        delivery={**FAST, **delivery},
    )
    assert isinstance(gateway.ctx.clock, FrozenClock)
    return Env(gateway.ctx, gateway.ctx.clock, receiver, store, gateway.http, gateway.loop)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    e = build_env(tmp_path, database_url)
    yield e
    e.receiver.stop()
    e.run(e.ctx.connectors.aclose())
    e.loop.close()
    _truncate(e.ctx)
    e.ctx.close()
