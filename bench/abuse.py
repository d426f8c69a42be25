"""Abuse: /healthz latency and gateway memory while clients send what an attacker would.

The gateway runs as its own process on loopback (``ozg-gateway serve``, SQLite). First
/healthz is measured alone (the baseline of this run), then again while
- 3 clients without a key keep sending 50 MB JSON bodies (half with Content-Length, half
  chunked without), and
- 1 portal keeps submitting crafted PDFs (a form field in a Flate object stream padded with
  70 MB of whitespace, about 70 KB on the wire).

    .venv/bin/python bench/abuse.py [--seconds 20]

Prints p50/p99 of /healthz for both phases and their ratio, the gateway's peak RSS, what the
attackers got back, and whether the targets hold (issue 11): p99 under attack < 100 ms,
gateway RSS < 300 MB. Bounded in time and count; sends only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import padded_object_stream  # noqa: E402

PORTAL_KEY = "bench-portal-key-abuse"
FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"a" * (1024 * 1024)
MAX_REQUESTS_PER_ATTACKER = 500
BODY_BYTES = len(b'{"service_id": "aem-meldung", "form_data": {"x": "') + FIFTY_MB - 1024 * 1024 + 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_gateway(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    from ozg_gateway.config import DEMO_ENCRYPTION_KEY, DEMO_ENCRYPTION_KEY_ID

    env = {
        **os.environ,
        "OZG_GATEWAY_MODE": "demo",
        "OZG_GATEWAY_DATA_DIR": str(data_dir),
        "OZG_GATEWAY_LOG_LEVEL": "WARNING",
        "OZG_GATEWAY_ENCRYPTION_KEYS": f'{{"{DEMO_ENCRYPTION_KEY_ID}": "{DEMO_ENCRYPTION_KEY}"}}',
        "OZG_GATEWAY_ACTIVE_KEY_ID": DEMO_ENCRYPTION_KEY_ID,
    }
    config = ROOT / "examples" / "maintal" / "config.toml"
    code = (
        "from pathlib import Path\n"
        "from ozg_gateway.config import load_settings\n"
        "from ozg_gateway.context import build_context\n"
        "from ozg_gateway.store import clients, migrate\n"
        "from ozg_gateway.store.clients import Role\n"
        f"s = load_settings(Path({str(config)!r}))\n"
        "c = build_context(s)\n"
        "migrate.upgrade(c.db)\n"
        "with c.db.writing() as w:\n"
        f"    clients.add_client(w, client_id='p', name='p', role=Role.portal, now=c.clock(),"
        f" key={PORTAL_KEY!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ozg_gateway",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        env={**env, "OZG_GATEWAY_ADMIN_KEY": "bench-admin-key-0123456789abcdefgh"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _healthz_latencies(base: str, seconds: float) -> list[float]:
    samples: list[float] = []
    end = time.monotonic() + seconds
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < end:
            start = time.perf_counter()
            client.get(f"{base}/healthz").raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
            time.sleep(0.01)
    return samples


def _big_bodies(base: str, stop: threading.Event, outcomes: Counter[str], chunked: bool) -> None:
    def body() -> object:
        # A valid JSON document (one 50 MB string): parsing it costs what it would cost.
        yield b'{"service_id": "aem-meldung", "form_data": {"x": "'
        for _ in range(FIFTY_MB // len(CHUNK) - 1):
            yield CHUNK
        yield b'"}}'

    for _ in range(MAX_REQUESTS_PER_ATTACKER):
        if stop.is_set():
            return
        headers = {"content-type": "application/json"}
        try:
            with httpx.Client(timeout=30) as client:
                if chunked:
                    r = client.post(f"{base}/v1/submissions", content=body(), headers=headers)
                else:
                    headers["content-length"] = str(BODY_BYTES)
                    r = client.post(f"{base}/v1/submissions", content=body(), headers=headers)
            outcomes[str(r.status_code)] += 1
        except httpx.HTTPError as exc:  # the server answers and closes before the body is sent
            outcomes[type(exc).__name__] += 1


def _crafted_pdfs(base: str, stop: threading.Event, outcomes: Counter[str]) -> None:
    crafted = padded_object_stream(70 * 1024 * 1024)
    headers = {"Authorization": f"Bearer {PORTAL_KEY}"}
    with httpx.Client(timeout=60) as client:
        for _ in range(MAX_REQUESTS_PER_ATTACKER):
            if stop.is_set():
                return
            try:
                r = client.post(
                    f"{base}/v1/submissions/pdf",
                    files={"file": ("antrag.pdf", crafted, "application/pdf")},
                    headers=headers,
                )
                outcomes[f"pdf {r.status_code}"] += 1
            except httpx.HTTPError as exc:
                outcomes[f"pdf {type(exc).__name__}"] += 1


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        gateway = _start_gateway(Path(tmp), port)
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            _healthz_latencies(base, 1)  # warm-up
            baseline = _healthz_latencies(base, args.seconds / 2)
            rss_before = _rss_mb(gateway.pid)

            stop, outcomes = threading.Event(), Counter[str]()
            attackers = [
                threading.Thread(target=_big_bodies, args=(base, stop, outcomes, i % 2 == 1))
                for i in range(3)
            ]
            attackers.append(threading.Thread(target=_crafted_pdfs, args=(base, stop, outcomes)))
            peak = rss_before
            sampling = threading.Event()

            def sample_rss() -> None:
                nonlocal peak
                while not sampling.is_set():
                    peak = max(peak, _rss_mb(gateway.pid))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample_rss)
            sampler.start()
            for thread in attackers:
                thread.start()
            time.sleep(1)  # let the attack get going
            attacked = _healthz_latencies(base, args.seconds)
            stop.set()
            for thread in attackers:
                thread.join(60)
            sampling.set()
            sampler.join()
        finally:
            gateway.terminate()
            gateway.wait(20)

    p99_base, p99_attack = _p(baseline, 0.99), _p(attacked, 0.99)
    print(
        f"/healthz alone:        p50 {statistics.median(baseline):6.2f} ms  p99 {p99_base:6.2f} ms"
    )
    attack_p50 = statistics.median(attacked)
    print(f"/healthz under attack: p50 {attack_p50:6.2f} ms  p99 {p99_attack:6.2f} ms")
    print(f"ratio p99 attack/alone: {p99_attack / p99_base:.2f}")
    print(f"gateway RSS: {rss_before:.0f} MB before, peak {peak:.0f} MB under attack")
    print(f"attackers got: {dict(sorted(outcomes.items()))}")
    ok = p99_attack < 100 and peak < 300
    print(f"targets (p99 < 100 ms, RSS < 300 MB): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
