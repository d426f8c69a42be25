"""Status webhooks to portals: through the durable outbox, signed, and nothing lost when the
process that recorded the update dies before anything was sent (a real worker process)."""

from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from ozg_gateway.api.app import create_app
from ozg_gateway.config import load_settings
from ozg_gateway.context import build_context
from ozg_gateway.runtime import system_clock, uuid_ids
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from tests.conftest import EXAMPLE_CONFIG, _truncate
from tests.delivery.conftest import SECRET
from tests.delivery.test_processes import Workers, _wait
from tests.factories import aem_submission
from tests.live import LiveServer

PORTAL = "status-portal-key-0123456789"
OFFICE = "status-backoffice-key-0123456789"


def _config(tmp_path: Path, database_url: str) -> Path:
    key = base64.b64encode(os.urandom(32)).decode()
    hook = f'secrets = ["{SECRET}"]'
    text = "\n".join(
        [
            f'catalog_file = "{EXAMPLE_CONFIG.parent / "catalog.toml"}"',
            f'data_dir = "{tmp_path / "data"}"',
            f'database_url = "{database_url}"',
            'active_key_id = "k1"',
            f'admin_key = "{"Q7" * 16}"',
            f'encryption_keys = {{ k1 = "{key}" }}',
            'log_level = "WARNING"',
            'status_notifier = "portal-status"',
            "[delivery]",
            "poll_interval_seconds = 0.2",
            "[connectors.portal-status]",
            'type = "status-webhook"',
            hook,
            *(
                f'[connectors.{name}]\ntype = "pull"'
                for name in (
                    "kita-fachverfahren",
                    "sportamt",
                    "aem-system",
                    "standesamt",
                    "civento",
                )
            ),
        ]
    )
    path = tmp_path / "gateway.toml"
    path.write_text(text + "\n")
    return path


def test_a_status_change_reaches_the_portal_even_after_a_crash(tmp_path: Path) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def portal_app(scope, receive, send):  # type: ignore[no-untyped-def]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    portal = LiveServer(portal_app).start()
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}")
    ctx = build_context(load_settings(config), clock=system_clock, ids=uuid_ids)
    migrate.upgrade(ctx.db)
    with ctx.db.writing() as session:
        clients.add_client(
            session,
            client_id="portal",
            name="portal",
            role=Role.portal,
            now=ctx.clock(),
            key=PORTAL,
            status_url=f"{portal.url}/status",
            allow_loopback_http=True,
        )
        clients.add_client(
            session,
            client_id="office",
            name="office",
            role=Role.backoffice,
            now=ctx.clock(),
            key=OFFICE,
        )
    workers = Workers(config)
    try:
        # "the gateway": records the update and ends before any worker ran
        with TestClient(create_app(ctx)) as http:
            body = aem_submission(date.today())
            body["submit"] = True
            sub = http.post(
                "/v1/submissions", json=body, headers={"Authorization": f"Bearer {PORTAL}"}
            )
            assert sub.status_code == 201, sub.text
            update = http.post(
                f"/v1/cases/{sub.json()['case']['id']}/status",
                json={"status": "in_progress"},
                headers={"Authorization": f"Bearer {OFFICE}"},
            )
            assert update.status_code == 200, update.text
        assert received == []
        # a separate worker process, started afterwards, sends it
        workers.start("w-status")
        _wait(lambda: len(received) == 1, 30, "the status webhook")
        headers, payload = received[0]
        event = Webhook(SECRET).verify(payload, headers)
        assert event["type"] == "submission.status"
        assert event["data"]["monitor_status"] == "PROCESSING"
        assert event["data"]["submission_id"] == sub.json()["id"]
        assert "Muster" not in payload.decode()  # no personal data in the notice
    finally:
        workers.stop_all()
        portal.stop()
        _truncate(ctx)
        ctx.close()
