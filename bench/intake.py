"""Intake throughput: the gateway's one-call submit versus a bare FastAPI endpoint.

Both run in the same uvicorn process on loopback against the same SQLite database. The bare
endpoint parses the JSON and stores it raw (one insert); the gateway authenticates, validates,
encrypts, writes submission + case + timeline + audit and answers with the submission.

    .venv/bin/python bench/intake.py [--clients 32] [--seconds 10] [--database-url URL]

Prints submissions/s and p50/p99 latency for both, and the ratio gateway/bare.
Targets (issue 2): ratio >= 0.6 at 32 clients on SQLite, gateway p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from starlette.concurrency import run_in_threadpool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PORTAL_KEY = "bench-portal-key"


def _serve(port: int, data_dir: str, database_url: str | None) -> None:
    import uvicorn
    from sqlalchemy import Column, DateTime, MetaData, String, Table, Text

    from ozg_gateway.api.app import create_app
    from ozg_gateway.config import demo_overrides, load_settings
    from ozg_gateway.context import build_context
    from ozg_gateway.logging import configure_logging
    from ozg_gateway.store import clients, migrate
    from ozg_gateway.store.clients import Role

    configure_logging(level="WARNING")
    overrides: dict[str, Any] = demo_overrides(Path(data_dir))
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(ROOT / "examples" / "maintal" / "config.toml", **overrides)
    ctx = build_context(settings)
    migrate.upgrade(ctx.db)
    with ctx.db.writing() as session:
        clients.add_client(
            session,
            client_id=str(uuid.uuid4()),
            name="bench",
            role=Role.portal,
            now=ctx.clock(),
            key=PORTAL_KEY,
        )
    bare_table = Table(
        "bench_bare",
        MetaData(),
        Column("id", String(36), primary_key=True),
        Column("body", Text),
        Column("created_at", DateTime(timezone=True)),
    )
    bare_table.metadata.create_all(ctx.db.engine)
    app = create_app(ctx)

    @app.post("/bare", status_code=201)
    async def bare(request: Request) -> dict[str, str]:
        body = await request.json()
        row_id = str(uuid.uuid4())

        def store() -> None:
            with ctx.db.writing() as session:
                session.execute(
                    bare_table.insert().values(
                        id=row_id, body=json.dumps(body), created_at=ctx.clock()
                    )
                )

        await run_in_threadpool(store)
        return {"id": row_id}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def submission_body(n: int) -> dict[str, Any]:
    """A realistic AEM report with contact data."""
    return {
        "service_id": "aem-meldung",
        "submit": True,
        "form_data": {
            "art": "ereignis",
            "kategorie": "beleuchtung",
            "beschreibung": f"Laterne Nr. {n} in der Kennedystraße ist seit drei Tagen dunkel. "
            "Der Gehweg ist abends kaum zu sehen.",
            "position": {"lat": 50.1466 + n * 1e-6, "lon": 8.8363},
            "adresse": {"strasse": "Kennedystraße", "hausnummer": str(n % 200 + 1), "plz": "63477"},
        },
        "applicant": {
            "given_name": "Erika",
            "family_name": "Mustermann",
            "email": f"erika{n}@example.org",
            "phone": "+49 6181 400-0",
        },
    }


async def _load(url: str, clients: int, seconds: float, headers: dict[str, str]) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as http:

        async def worker(w: int) -> None:
            nonlocal errors
            n = w
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                r = await http.post(url, json=submission_body(n))
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    errors += 1
                    if errors == 1:
                        print(f"first error from {url}: {r.status_code} {r.text[:300]}")
                n += clients

        start = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(clients)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "count": len(latencies),
        "errors": errors,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    port = _free_port()
    data_dir = tempfile.mkdtemp(prefix="ozg-bench-")
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, data_dir, args.database_url), daemon=True
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    auth = {"Authorization": f"Bearer {PORTAL_KEY}"}
    try:
        asyncio.run(_load(f"{base}/bare", args.clients, 1.0, auth))  # warm up both paths
        asyncio.run(_load(f"{base}/v1/submissions", args.clients, 1.0, auth))
        bare = asyncio.run(_load(f"{base}/bare", args.clients, args.seconds, auth))
        gateway = asyncio.run(_load(f"{base}/v1/submissions", args.clients, args.seconds, auth))
    finally:
        server.terminate()
        server.join(10)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"intake benchmark: {args.clients} concurrent clients, {args.seconds:.0f} s, {backend}")
    for name, r in (("bare FastAPI", bare), ("gateway", gateway)):
        print(
            f"  {name:<13} {r['rate']:8.1f} submissions/s  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms  ({r['count']} requests, {r['errors']} errors)"
        )
    ratio = gateway["rate"] / bare["rate"]
    print(f"  ratio gateway/bare: {ratio:.2f} (target >= 0.60); gateway p99 target <= 50 ms")


if __name__ == "__main__":
    main()
