"""Proof with real processes: crash safety, scale-out on PostgreSQL, receiver outage."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ozg_gateway.config import load_settings
from ozg_gateway.connectors.webhook.simulator import ReceiverStore, create_receiver
from ozg_gateway.context import GatewayContext, build_context
from ozg_gateway.runtime import system_clock, uuid_ids
from ozg_gateway.store import migrate
from ozg_gateway.store.models import ConnectorState, Delivery
from tests.conftest import EXAMPLE_CONFIG, _truncate
from tests.delivery.conftest import SECRET, connectors_config
from tests.delivery.seed import ROUTE, seed_cases
from tests.live import LiveServer

pytestmark = pytest.mark.slow

ADMIN = "Q7x" * 10


def _slow(app: Any, seconds: float) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(seconds)
        await app(scope, receive, send)

    return wrapped


def _write_config(tmp_path: Path, database_url: str, receiver_url: str, **delivery: Any) -> Path:
    key = base64.b64encode(os.urandom(32)).decode()
    lines = [
        f'catalog_file = "{EXAMPLE_CONFIG.parent / "catalog.toml"}"',
        f'data_dir = "{tmp_path / "data"}"',
        f'database_url = "{database_url}"',
        'active_key_id = "k1"',
        f'admin_key = "{ADMIN}"',
        f'encryption_keys = {{ k1 = "{key}" }}',
        'log_level = "WARNING"',
        "[delivery]",
        *(f"{k} = {v}" for k, v in delivery.items()),
    ]
    for name, cfg in connectors_config(receiver_url).items():
        lines.append(f"[connectors.{name}]")
        for k, v in cfg.items():
            if isinstance(v, dict):
                inner = ", ".join(f"{ik} = {iv}" for ik, iv in v.items())
                lines.append(f"{k} = {{ {inner} }}")
            elif isinstance(v, list):
                lines.append(f'{k} = ["{v[0]}"]')
            else:
                lines.append(f'{k} = "{v}"')
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _delivered(ctx: GatewayContext) -> int:
    with ctx.db.reading() as s:
        return int(s.scalar(select(func.count()).where(Delivery.status == "delivered")) or 0)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Workers:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, worker_id: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ozg_gateway",
                "worker",
                "-c",
                str(self.config),
                "--worker-id",
                worker_id,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


Setup = Callable[..., tuple[GatewayContext, LiveServer, ReceiverStore, Workers]]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """Factory: receiver, config, migrated database and a worker launcher."""
    made: list[tuple[GatewayContext, LiveServer, Workers]] = []

    def make(
        database_url: str, delay: float = 0.0, start_receiver: bool = True, **delivery: Any
    ) -> tuple[GatewayContext, LiveServer, ReceiverStore, Workers]:
        store = ReceiverStore()
        receiver = LiveServer(_slow(create_receiver([SECRET], store), delay))
        if start_receiver:
            receiver.start()
        config = _write_config(tmp_path, database_url, receiver.url, **delivery)
        ctx = build_context(load_settings(config), clock=system_clock, ids=uuid_ids)
        migrate.upgrade(ctx.db)
        _truncate(ctx)
        workers = Workers(config)
        made.append((ctx, receiver, workers))
        return ctx, receiver, store, workers

    yield make
    for ctx, receiver, workers in made:
        workers.stop_all()
        receiver.stop()
        _truncate(ctx)
        ctx.close()


def test_sigkill_mid_batch_loses_nothing(setup: Setup, database_url: str) -> None:
    ctx, _receiver, store, workers = setup(
        database_url,
        delay=0.02,
        batch_size=40,
        concurrency=8,
        claim_lease_seconds=3,
        poll_interval_seconds=0.05,
    )
    seed_cases(ctx, 300)
    first = workers.start("w-crash")
    _wait(lambda: len(store.events) >= 60, 60, "first deliveries")
    first.send_signal(signal.SIGKILL)  # in the middle of a batch: some sent, not recorded
    first.wait(10)
    workers.start("w-restart")
    _wait(lambda: _delivered(ctx) == 300, 90, "all deliveries after restart")
    by_case: dict[str, set[str]] = defaultdict(set)
    for event in store.events.values():
        by_case[event.case_number].add(event.webhook_id)
    assert len(by_case) == 300  # none lost
    assert all(len(ids) == 1 for ids in by_case.values())  # duplicates reuse the same key
    assert store.rejected == 0


@pytest.mark.postgres
def test_two_workers_on_postgres_never_deliver_twice(setup: Setup, pg_database: str) -> None:
    ctx, _receiver, store, workers = setup(
        pg_database, batch_size=100, concurrency=32, poll_interval_seconds=0.05
    )
    seed_cases(ctx, 5000)
    workers.start("w-a")
    workers.start("w-b")
    _wait(lambda: _delivered(ctx) == 5000, 240, "5,000 deliveries")
    assert len(store.events) == 5000
    assert store.duplicates == 0
    with ctx.db.reading() as s:
        by_worker = dict(
            s.execute(select(Delivery.claimed_by, func.count()).group_by(Delivery.claimed_by)).all()
        )
    assert by_worker == {None: 5000}  # every claim released


def test_outage_opens_breaker_and_everything_arrives_after(setup: Setup, tmp_path: Path) -> None:
    ctx, receiver, store, workers = setup(
        f"sqlite:///{tmp_path / 'outage.db'}",
        start_receiver=False,
        breaker_threshold=3,
        breaker_cooldown_seconds=2,
        backoff_base_seconds=0.2,
        backoff_max_seconds=1,
        max_attempts=8,
        health_interval_seconds=0.5,
        health_timeout_seconds=1,
        poll_interval_seconds=0.1,
    )
    seed_cases(ctx, 20)
    workers.start("w-outage")

    def breaker_open() -> bool:
        with ctx.db.reading() as s:
            state = s.get(ConnectorState, ROUTE)
            return (
                state is not None
                and state.breaker in ("open", "half_open")
                and state.last_check_ok is False
            )

    _wait(breaker_open, 30, "breaker to open and health to say down")
    time.sleep(4)  # the outage goes on across several cooldowns
    with ctx.db.reading() as s:
        dead = s.scalar(select(func.count()).where(Delivery.status == "dead"))
        attempts = s.scalar(select(func.max(Delivery.attempts)))
    assert dead == 0
    assert attempts is not None
    assert attempts < 8  # waiting, not burning attempts
    receiver.start()
    _wait(lambda: _delivered(ctx) == 20, 60, "delivery after recovery")
    assert len(store.events) == 20
    with ctx.db.reading() as s:
        state = s.get(ConnectorState, ROUTE)
        assert state is not None
        assert state.breaker == "closed"
