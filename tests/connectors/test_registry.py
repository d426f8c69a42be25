"""A ninth connector comes from a package of its own: an entry point plus configuration."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ozg_gateway.connectors import registry
from ozg_gateway.delivery.worker import Worker
from ozg_gateway.runtime import SequenceIds
from ozg_gateway.store import migrate
from ozg_gateway.store.models import Delivery
from tests.conftest import FrozenClock, make_settings
from tests.factories import aem_submission

NINTH = """
from dataclasses import dataclass

from pydantic import BaseModel

from ozg_gateway.connectors.contract import ConnectorType, DeliveryResult

DELIVERED = []


class NinthSettings(BaseModel):
    prefix: str


@dataclass
class NinthConnector:
    name: str
    settings: NinthSettings

    async def deliver(self, request):
        DELIVERED.append(request.case_number)
        return DeliveryResult(remote_reference=self.settings.prefix + request.case_number)

    async def check(self, *, timeout):
        return None

    async def aclose(self):
        return None


CONNECTOR = ConnectorType(
    name="ninth",
    description="A connector from another package.",
    settings=NinthSettings,
    build=lambda name, settings, env: NinthConnector(name, settings),
)
"""


@pytest.fixture
def ninth_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "ninth_connector").mkdir(parents=True)
    (site / "ninth_connector" / "__init__.py").write_text(textwrap.dedent(NINTH))
    info = site / "ninth_connector-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ninth-connector\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[ozg_gateway.connectors]\nninth = ninth_connector:CONNECTOR\n"
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    registry.TYPES.pop("ninth", None)


@pytest.mark.usefixtures("ninth_package")
def test_a_connector_from_another_package_is_found_and_delivers(
    tmp_path: Path, database_url: str, clock: FrozenClock
) -> None:
    from fastapi.testclient import TestClient

    from ozg_gateway.api.app import create_app
    from ozg_gateway.context import build_context
    from ozg_gateway.store import clients
    from ozg_gateway.store.clients import Role
    from tests.conftest import PORTAL_KEY, _truncate

    # Only configuration: the example's AEM route now names an instance of the new type.
    settings = make_settings(
        tmp_path, database_url, connectors={"aem-system": {"type": "ninth", "prefix": "N-"}}
    )
    ctx = build_context(settings, clock=clock, ids=SequenceIds("id"))
    migrate.upgrade(ctx.db)
    _truncate(ctx)
    try:
        assert ctx.connectors.types["aem-system"].name == "ninth"
        with ctx.db.writing() as session:
            clients.add_client(
                session, client_id="p", name="p", role=Role.portal, now=clock(), key=PORTAL_KEY
            )
        with TestClient(create_app(ctx)) as http:
            r = http.post(
                "/v1/submissions",
                json=aem_submission(submit=True),
                headers={"Authorization": f"Bearer {PORTAL_KEY}"},
            )
            assert r.status_code == 201, r.text
            case_number = r.json()["case"]["case_number"]
            import asyncio

            assert asyncio.run(Worker(ctx, ctx.connectors, worker_id="w").run_once()) == 1
        with ctx.db.reading() as session:
            [delivery] = session.query(Delivery).filter_by(connector="aem-system").all()
        assert (delivery.status, delivery.remote_reference) == ("delivered", f"N-{case_number}")
    finally:
        _truncate(ctx)
        ctx.close()
