#!/usr/bin/env python3
"""Set up and run ozg-gateway with nothing but Python >= 3.11.

    python3 dev.py demo    set up .venv and start the demo (SQLite, Maintal example)
    python3 dev.py test    set up .venv and run the tests (SQLite and PostgreSQL)
    python3 dev.py lint    ruff check, ruff format --check, mypy --strict src, import contracts

Extra arguments are passed on: ``python3 dev.py demo --port 9000``, ``dev.py test -k idem``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".ozg-installed"
PG_URL = os.environ.get("OZG_GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_venv() -> None:
    """Create .venv and install the package with dev extras when pyproject.toml changed."""
    if not (BIN / "python").exists():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    say("installing ozg-gateway and its dependencies into .venv")
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def _pg_reachable() -> bool:
    host_port = PG_URL.split("@", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 5432)), timeout=2):
            return True
    except OSError:
        return False


def ensure_postgres(required: bool) -> None:
    """Start the local PostgreSQL cluster if it is down; fail when required and impossible."""
    if _pg_reachable():
        return
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    if shutil.which("pg_ctlcluster") and versions:
        say("PostgreSQL is down; starting the local cluster")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"],
            check=False,
        )
        for _ in range(30):
            if _pg_reachable():
                return
            time.sleep(1)
    if required:
        sys.exit(f"PostgreSQL is required for the tests but unreachable at {PG_URL}")
    say("PostgreSQL unreachable: its tests will be skipped (set CI=true to make this fatal)")


def run(argv: list[str]) -> int:
    """Run a command from .venv and return its exit code.

    Ctrl+C reaches the child too (same process group): let it finish its own shutdown
    (the demo removes its data) instead of printing a traceback here.
    """
    child = subprocess.Popen(argv, cwd=ROOT)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test", "lint"):
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    ensure_venv()
    if command == "demo":
        return run([str(BIN / "ozg-gateway"), "demo", *extra])
    if command == "lint":
        codes = [
            run([str(BIN / "ruff"), "check", "."]),
            run([str(BIN / "ruff"), "format", "--check", "."]),
            run([str(BIN / "mypy"), "--strict", "src"]),
            run([str(BIN / "lint-imports")]),  # the layering contracts in pyproject.toml
        ]
        return max(codes)
    required = os.environ.get("CI") == "true" or os.environ.get("OZG_GATEWAY_REQUIRE_PG") == "1"
    ensure_postgres(required)
    env_required = {"OZG_GATEWAY_REQUIRE_PG": "1"} if required else {}
    os.environ.update(env_required)
    # Two workers (pytest-xdist) on the two cores: about 40 % shorter; each worker has its own
    # PostgreSQL database and temporary folders. `-n 0` runs in one process.
    workers = [] if any(a == "-n" or a.startswith("-n") for a in extra) else ["-n", "2"]
    return run([str(BIN / "python"), "-m", "pytest", *workers, *extra])


if __name__ == "__main__":
    sys.exit(main())
