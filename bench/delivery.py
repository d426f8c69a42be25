"""Outbox drain rate to a local HTTP receiver, against a plain httpx loop in the same run.

    .venv/bin/python bench/delivery.py [--cases 3000] [--pg-url postgresql://postgres@127.0.0.1/test]

1. baseline: one httpx.Client posting the same signed payloads in a loop;
2. one worker draining the outbox on SQLite (ratio target >= 0.5);
3. one and two worker processes on PostgreSQL (target: two >= 1.6 x one).

Rates of the workers count from the first to the last delivery (process start-up excluded).
The receiver is a minimal ASGI app in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, select
from standardwebhooks import Webhook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ozg_gateway.config import load_settings  # noqa: E402
from ozg_gateway.context import GatewayContext, build_context  # noqa: E402
from ozg_gateway.delivery.worker import Worker  # noqa: E402
from ozg_gateway.mappings.case_document import build_case_event  # noqa: E402
from ozg_gateway.store import migrate  # noqa: E402
from ozg_gateway.store.models import Delivery  # noqa: E402
from tests.delivery.seed import seed_cases  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-webhook-secret-0123456789ab").decode()


def _receiver(port: int) -> None:
    import uvicorn

    count = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal count
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        count += 1
        body = json.dumps({"reference": f"R{count}"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp: Path, database_url: str, receiver: str) -> Path:
    key = base64.b64encode(os.urandom(32)).decode()
    path = tmp / f"bench-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(
        f'catalog_file = "{ROOT / "examples/maintal/catalog.toml"}"\n'
        f'data_dir = "{tmp / "data"}"\ndatabase_url = "{database_url}"\n'
        f'active_key_id = "k"\nadmin_key = "{"B7" * 16}"\nencryption_keys = {{ k = "{key}" }}\n'
        'log_level = "WARNING"\n'
        "[delivery]\nbatch_size = 200\nconcurrency = 32\nlanes = 2\npoll_interval_seconds = 0.05\n"
        "health_interval_seconds = 600\n"
        + "".join(
            f'[connectors.{n}]\ntype = "webhook"\nurl = "{receiver}/hook"\nsecrets = ["{SECRET}"]\n'
            # A receiver on loopback answers in microseconds: few connections suffice.
            "max_connections = 4\n"
            for n in ("kita-fachverfahren", "sportamt", "aem-system")
        )
        + '[connectors.standesamt]\ntype = "pull"\n'
        + '[connectors.civento]\ntype = "pull"\n'  # XTA in the example; not measured here
    )
    return path


def _context(config: Path) -> GatewayContext:
    ctx = build_context(load_settings(config))
    migrate.upgrade(ctx.db)
    return ctx


def _span_rate(ctx: GatewayContext, n: int) -> float:
    with ctx.db.reading() as s:
        first, last, done = s.execute(
            select(
                func.min(Delivery.delivered_at), func.max(Delivery.delivered_at), func.count()
            ).where(Delivery.status == "delivered")
        ).one()
    assert done == n, f"only {done} of {n} delivered"
    return n / max((last - first).total_seconds(), 1e-6)


def baseline(url: str, docs: list[dict[str, Any]]) -> float:
    signer = Webhook(SECRET)
    with httpx.Client(timeout=10) as client:
        start = time.perf_counter()
        for doc in docs:
            from datetime import UTC, datetime

            now = datetime.now(UTC)
            body = json.dumps(
                build_case_event(doc, timestamp=now, attachment_url="{case_id}/{attachment_id}")
            )
            msg_id = f"dlv_{uuid.uuid4().hex}"
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signer.sign(msg_id, now, body),
            }
            client.post(url, content=body, headers=headers).raise_for_status()
        return len(docs) / (time.perf_counter() - start)


def in_process_worker(ctx: GatewayContext, n: int) -> float:
    async def drain() -> None:
        await Worker(ctx, ctx.connectors, worker_id="bench").drain()
        await ctx.connectors.aclose()

    asyncio.run(drain())
    return _span_rate(ctx, n)


def worker_processes(config: Path, ctx: GatewayContext, n: int, count: int) -> float:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ozg_gateway",
                "worker",
                "-c",
                str(config),
                "--worker-id",
                f"b{i}",
            ],
            stdout=subprocess.DEVNULL,
        )
        for i in range(count)
    ]
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            with ctx.db.reading() as s:
                if s.scalar(select(func.count()).where(Delivery.status == "delivered")) == n:
                    break
            time.sleep(0.2)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    return _span_rate(ctx, n)


def _fresh_pg(url: str) -> tuple[str, str]:
    name = f"ozg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, name


def _drop_pg(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "OZG_GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    port = _free_port()
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receiver, args=(port,), daemon=True
    )
    receiver.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.post(f"{url}/hook", content=b"{}")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    tmp = Path(tempfile.mkdtemp(prefix="ozg-bench-"))
    try:
        sqlite_cfg = _config(tmp, f"sqlite:///{tmp / 'bench.db'}", url)
        ctx = _context(sqlite_cfg)
        docs = seed_cases(ctx, args.cases)
        base = baseline(f"{url}/hook", docs)
        one_sqlite = in_process_worker(ctx, args.cases)
        ctx.close()

        pg_rates: dict[int, float] = {}
        for count in (1, 2):
            pg_url, name = _fresh_pg(args.pg_url)
            try:
                cfg = _config(tmp, pg_url, url)
                pg_ctx = _context(cfg)
                seed_cases(pg_ctx, args.cases)
                pg_rates[count] = worker_processes(cfg, pg_ctx, args.cases, count)
                pg_ctx.close()
            finally:
                _drop_pg(args.pg_url, name)
    finally:
        receiver.terminate()
    print(f"delivery benchmark: {args.cases} cases, local receiver, 2 cores")
    print(f"  plain httpx loop          {base:8.1f} deliveries/s")
    ratio = one_sqlite / base
    print(
        f"  1 worker, SQLite          {one_sqlite:8.1f} deliveries/s  ratio {ratio:.2f} (>= 0.50)"
    )
    print(f"  1 worker, PostgreSQL      {pg_rates[1]:8.1f} deliveries/s")
    scale = pg_rates[2] / pg_rates[1]
    print(
        f"  2 workers, PostgreSQL     {pg_rates[2]:8.1f} deliveries/s  scale {scale:.2f}x (>= 1.6)"
    )


if __name__ == "__main__":
    main()
