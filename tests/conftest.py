"""Shared fixtures: no network but loopback, every store test on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ozg_gateway.api.app import create_app
from ozg_gateway.config import Settings, default_specs_dir, demo_overrides, load_settings
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.runtime import SequenceIds
from ozg_gateway.store import clients, migrate
from ozg_gateway.store.clients import Role
from ozg_gateway.store.models import Base
from tests.factories import TEST_TODAY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "examples" / "maintal" / "config.toml"
PG_URL = os.environ.get("OZG_GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("OZG_GATEWAY_REQUIRE_PG") == "1" or os.environ.get("CI") == "true"

PORTAL_KEY = "test-portal-key"
OTHER_PORTAL_KEY = "test-other-portal-key"
BACKOFFICE_KEY = "test-backoffice-key"
ADMIN_KEY = "test-admin-key-0123456789abcdef"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI the specs directory is required: without it a quarter of the suite would skip."""
    if os.environ.get("CI") == "true" and default_specs_dir() is None:
        pytest.exit(
            "the specs directory (../shared/specs) is missing; CI needs it: the specs are the "
            "oracle of the XTA, eID, FIT-Connect, Open311 and XFall tests",
            returncode=3,
        )


# --- network: loopback only (as zeep's tests do) ------------------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"tests must not reach the network ({host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


# --- databases ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    name = f"ozg_test_{uuid.uuid4().hex[:10]}"
    admin_url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.combine(TEST_TODAY, time(10, 0), tzinfo=UTC))


def make_settings(tmp_path: Path, database_url: str, **extra: Any) -> Settings:
    overrides = {
        **demo_overrides(tmp_path / "data"),
        "database_url": database_url,
        "admin_key": ADMIN_KEY,
        "auth_cache_seconds": 0,  # tests revoke keys and expect the effect at once
        **extra,
    }
    return load_settings(EXAMPLE_CONFIG, **overrides)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


def _truncate(ctx: GatewayContext) -> None:
    if ctx.db.is_sqlite:
        return
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with ctx.db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def ctx(settings: Settings, clock: FrozenClock) -> Iterator[GatewayContext]:
    """Migrated gateway context with one portal, a second portal and a back-office client."""
    context = build_context(settings, clock=clock, ids=SequenceIds("id"))
    migrate.upgrade(context.db)
    _truncate(context)
    with context.db.writing() as session:
        for cid, role, key, offers in (
            ("portal-1", Role.portal, PORTAL_KEY, None),
            ("portal-2", Role.portal, OTHER_PORTAL_KEY, None),
            ("backoffice-1", Role.backoffice, BACKOFFICE_KEY, ["aem-meldung"]),
        ):
            clients.add_client(
                session, client_id=cid, name=cid, role=role, now=clock(), key=key, offers=offers
            )
    yield context
    _truncate(context)
    context.close()


@dataclass
class Api:
    """Test client with one helper per role."""

    http: TestClient

    def as_(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def portal(self) -> dict[str, str]:
        return self.as_(PORTAL_KEY)


@pytest.fixture
def api(ctx: GatewayContext) -> Iterator[Api]:
    with TestClient(create_app(ctx), raise_server_exceptions=False) as http:
        yield Api(http)
