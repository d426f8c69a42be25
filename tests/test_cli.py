"""The command line, including `demo` as a real process."""

from __future__ import annotations

import base64
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select as sql_select
from typer.testing import CliRunner

from ozg_gateway.cli import app
from ozg_gateway.config import load_settings
from ozg_gateway.context import build_context
from ozg_gateway.store.crypto import key_id_of
from ozg_gateway.store.models import Submission
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.factories import form

runner = CliRunner()


def _config(tmp_path: Path, keys: dict[str, bytes], active: str) -> Path:
    encoded = ", ".join(f'{k} = "{base64.b64encode(v).decode()}"' for k, v in keys.items())
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(
        f'catalog_file = "{EXAMPLE_CONFIG.parent / "catalog.toml"}"\n'
        f'data_dir = "{tmp_path / "data"}"\n'
        f'active_key_id = "{active}"\n'
        f'admin_key = "{"Q7" * 16}"\n'
        f"encryption_keys = {{ {encoded} }}\n"
        + EXAMPLE_CONFIG.read_text().split("[connectors", 1)[1].join(["[connectors", ""])
    )
    return cfg


def test_catalog_check_ok_and_errors(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["catalog", "check", str(EXAMPLE_CONFIG.parent / "catalog.toml")])
    assert ok.exit_code == 0, ok.output
    assert "ok, 6 offers" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[municipality]\nname = "X"\nags = "1"\noffers = []\n')
    result = runner.invoke(app, ["catalog", "check", str(bad)])
    assert result.exit_code == 1
    assert "municipality > ags" in result.output


def test_clients_before_migrate_and_return_url_prefixes(tmp_path: Path) -> None:
    cfg = _config(tmp_path, {"k1": os.urandom(32)}, "k1")
    before = runner.invoke(app, ["clients", "list", "-c", str(cfg)])
    assert before.exit_code == 2
    assert "run `ozg-gateway migrate` first" in before.output
    assert "Traceback" not in before.output
    assert runner.invoke(app, ["migrate", "-c", str(cfg)]).exit_code == 0
    for bad in (
        "",
        "https://portal.example",  # https://portal.example.evil.org starts with it
        "https://portal.example/eid",
        "http://portal.example/",
        "http://127.0.0.1:9000/",  # loopback http only in demo mode
        "portal.example/",
        "https://portal.example/?next=x",
    ):
        r = runner.invoke(
            app,
            ["clients", "add", "P", "--role", "portal", "--return-url", bad, "-c", str(cfg)],
        )
        assert r.exit_code == 2, bad
        assert "--return-url" in r.output
    ok = runner.invoke(
        app,
        [
            "clients", "add", "P", "--role", "portal",
            "--return-url", "https://portal.example/eid/", "-c", str(cfg),
        ],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output


def test_return_url_check_compares_hosts_not_strings(tmp_path: Path) -> None:
    from ozg_gateway.store import clients

    ctx = build_context(load_settings(_config(tmp_path, {"k1": os.urandom(32)}, "k1")))
    from ozg_gateway.store import migrate

    migrate.upgrade(ctx.db)
    with ctx.db.writing() as s:
        clients.add_client(
            s,
            client_id="p",
            name="p",
            role=clients.Role.portal,
            now=ctx.clock(),
            return_urls=["https://portal.example/eid/"],
        )
    with ctx.db.reading() as s:
        allowed = lambda url: clients.return_url_allowed(s, client_id="p", url=url)  # noqa: E731
        assert allowed("https://portal.example/eid/zurueck?x=1")
        assert not allowed("https://portal.example/other")
        assert not allowed("https://portal.example.evil.org/eid/")
        assert not allowed("https://user@portal.example/eid/")
        assert not allowed("http://portal.example/eid/")
    ctx.close()


def test_clients_lifecycle_and_key_rotation(tmp_path: Path) -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    cfg = _config(tmp_path, {"k1": k1}, "k1")
    assert runner.invoke(app, ["migrate", "-c", str(cfg)]).exit_code == 0
    added = runner.invoke(app, ["clients", "add", "Portal", "--role", "portal", "-c", str(cfg)])
    assert added.exit_code == 0, added.output
    key = re.search(r"key \(shown once\): (\S+)", added.output)
    client_id = re.search(r"client (\S+) \(portal\)", added.output)
    assert key
    assert client_id
    listed = runner.invoke(app, ["clients", "list", "-c", str(cfg)])
    assert "active" in listed.output
    assert key.group(1) not in listed.output

    # Write some sealed data with k1, then rotate to k2.
    settings = load_settings(cfg)
    ctx = build_context(settings)
    from fastapi.testclient import TestClient

    from ozg_gateway.api.app import create_app
    from tests.factories import PDF_BYTES, aem_submission

    with TestClient(create_app(ctx)) as http:
        headers = {"Authorization": f"Bearer {key.group(1)}"}
        sid = http.post("/v1/submissions", json=aem_submission(), headers=headers).json()["id"]
        http.post(
            f"/v1/submissions/{sid}/attachments",
            files={"file": ("a.pdf", PDF_BYTES)},
            headers=headers,
        )
        http.post(f"/v1/submissions/{sid}/submit", headers=headers)
    ctx.close()

    cfg2 = _config(tmp_path, {"k1": k1, "k2": k2}, "k2")
    rotated = runner.invoke(app, ["keys", "rotate", "-c", str(cfg2)])
    assert rotated.exit_code == 0, rotated.output
    assert "submissions=1" in rotated.output
    assert "blobs=1" in rotated.output
    # Only k2 is needed from now on.
    cfg3 = _config(tmp_path, {"k2": k2}, "k2")
    ctx = build_context(load_settings(cfg3))
    with TestClient(create_app(ctx)) as http:
        headers = {"Authorization": f"Bearer {key.group(1)}"}
        assert http.get(f"/v1/submissions/{sid}", headers=headers).status_code == 200
    with ctx.db.reading() as s:
        sub = s.scalar(sql_select(Submission))
        assert sub is not None
        assert key_id_of(sub.form_sealed) == "k2"
    blobs = [p for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    assert b"".join(ctx.blobs.read(blobs[0].name)) == PDF_BYTES
    ctx.close()

    revoked = runner.invoke(app, ["clients", "revoke", client_id.group(1), "-c", str(cfg)])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(app, ["clients", "list", "-c", str(cfg)]).output


def test_serve_refuses_placeholder_secrets(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "-c", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 2
    assert "refusing to start" in result.output
    assert "encryption_keys" in result.output
    assert "admin_key" in result.output


def test_keys_generate() -> None:
    out = runner.invoke(app, ["keys", "generate"]).output.strip()
    assert len(base64.b64decode(out)) == 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_cli(
    args: list[str], marker: str, deadline: float, cwd: Path
) -> tuple[subprocess.Popen[str], str]:
    """Start ``ozg-gateway <args>``; return the process and its output up to ``marker``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ozg_gateway", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    output = ""
    while marker not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready and proc.stdout:
            output += proc.stdout.readline()
        if proc.poll() is not None:
            raise AssertionError(output)
    return proc, output


@pytest.mark.slow
def test_demo_starts_and_accepts_a_submission(tmp_path: Path) -> None:
    port = _free_port()
    deadline = time.monotonic() + 60
    # cwd: the demo must find its example without being run from the checkout
    proc, output = _start_cli(["demo", "--port", str(port)], "admin key:", deadline, tmp_path)
    try:
        keys = dict(re.findall(r"^(\w+) key: (\S+)$", output, re.M))
        assert set(keys) == {"portal", "backoffice", "admin"}
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        r = httpx.post(
            f"{base}/v1/submissions",
            json={
                "service_id": "aem-meldung",
                "form_data": form("aem-meldung", date.today()),
                "submit": True,
            },
            headers={"Authorization": f"Bearer {keys['portal']}"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["case"]["case_number"].startswith("MTL-")
        # Kita cases also travel over XTA to civento's mailbox in the demo's XTA simulator.
        kita = httpx.post(
            f"{base}/v1/submissions",
            json={
                "service_id": "kita-anmeldung",
                "form_data": form("kita-anmeldung", date.today()),  # the demo runs on today
                "applicant": {"family_name": "Muster", "email": "m@example.org"},
                "submit": True,
            },
            headers={"Authorization": f"Bearer {keys['portal']}"},
        )
        assert kita.status_code == 201, kita.text
        readers: list[str] = []
        while time.monotonic() < deadline and "demo:civento-kita" not in readers:
            time.sleep(0.3)
            readers = [m["reader"] for m in httpx.get(f"{base}/demo/xta/").json()["messages"]]
        assert "demo:civento-kita" in readers
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


@pytest.mark.slow
def test_demo_links_answer_and_sigterm_removes_its_data(tmp_path: Path) -> None:
    port = _free_port()
    deadline = time.monotonic() + 60
    proc, output = _start_cli(["demo", "--port", str(port)], "admin key:", deadline, tmp_path)
    data_dir = Path(re.findall(r"data dir:\s+(\S+)", output)[0])
    try:
        assert data_dir.is_dir()
        links = re.findall(r"(http://127\.0\.0\.1:\d+/\S*)", output)
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        for link in links:
            if "…" in link or "/admin/" in link:
                continue  # a template, or needs the admin key (API or console sign-in)
            assert httpx.get(link).status_code == 200, link
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in rest
    assert not data_dir.exists()


@pytest.mark.slow
def test_ctrl_c_through_dev_py_stops_the_demo_quietly(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "demo", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl+C reaches it
    )
    output, deadline = "", time.monotonic() + 60
    while "admin key:" not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready and proc.stdout:
            output += proc.stdout.readline()
    data_dir = Path(re.findall(r"data dir:\s+(\S+)", output)[0])
    os.killpg(proc.pid, signal.SIGINT)
    rest, _ = proc.communicate(timeout=30)
    assert "Traceback" not in output + rest
    assert "KeyboardInterrupt" not in output + rest
    assert not data_dir.exists()


@pytest.mark.slow
def test_simulate_xta_over_https_with_bound_client_certificate(tmp_path: Path) -> None:
    from ozg_gateway.config import default_specs_dir
    from ozg_gateway.connectors.contract import ConnectorEnv
    from ozg_gateway.errors import ConnectorConfigError
    from ozg_gateway.http import TlsSettings
    from ozg_gateway.peercert import cert_sha256
    from ozg_gateway.xta.client import XtaClient
    from ozg_gateway.xta.settings import XtaSettings
    from tests.tls import make_pki

    pki = make_pki(tmp_path / "pki")
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        "[[accounts]]\n"
        'identifier = "demo:maintal-gateway"\n'
        f'certificate_sha256 = "{cert_sha256(pki.client_cert.read_bytes())}"\n'
    )
    port = _free_port()
    deadline = time.monotonic() + 30
    args = ["simulate", "xta", "--port", str(port), "--tls-cert", str(pki.server_cert)]
    args += ["--tls-key", str(pki.server_key), "--client-ca", str(pki.ca)]
    args += ["--accounts", str(accounts), "--data-dir", str(tmp_path / "boxes")]
    proc, output = _start_cli(args, "msgbox port:", deadline, tmp_path)
    try:
        urls = dict(re.findall(r"^XTA (\w+) port: (\S+)$", output, re.M))
        assert urls["management"] == f"https://127.0.0.1:{port}/management"
        tls = TlsSettings(ca_bundle=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
        env = ConnectorEnv("http://g", tmp_path, default_specs_dir())

        def client(author: str) -> XtaClient:
            settings = XtaSettings(
                management_url=urls["management"],
                send_url=urls["send"],
                msgbox_url=urls["msgbox"],
                author=author,
                tls=tls,
            )
            return XtaClient("sim", settings, env)

        ours, stranger = client("demo:maintal-gateway"), client("demo:someone-else")
        while True:
            try:
                ours.check_account_active()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with pytest.raises(ConnectorConfigError, match="9010"):
            stranger.check_account_active()
        ours.close()
        stranger.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def test_keys_fitconnect_writes_usable_jwk_files(tmp_path: Path) -> None:
    import json

    from joserfc.jwk import RSAKey

    from ozg_gateway.connectors.fitconnect import jose

    result = runner.invoke(app, ["keys", "fitconnect", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    private = RSAKey.import_key(json.loads((tmp_path / "fit-destination.jwk.json").read_text()))
    public = json.loads((tmp_path / "fit-destination.public.jwk.json").read_text())
    assert "d" not in public  # no private parts in the file to register
    key = jose.encryption_key(public, kid=public["kid"])
    assert jose.decrypt(jose.encrypt(b"x", key, content_type="text/plain"), private) == b"x"
    assert (tmp_path / "fit-signing.jwk.json").stat().st_mode & 0o077 == 0


def test_serve_with_several_workers_needs_postgresql(tmp_path: Path) -> None:
    cfg = _config(tmp_path, {"k1": b"0" * 32}, "k1")
    refused = runner.invoke(app, ["serve", "--workers", "2", "-c", str(cfg)])
    assert refused.exit_code == 2
    assert "needs PostgreSQL" in refused.output


@pytest.mark.postgres
@pytest.mark.slow
def test_serve_runs_several_api_processes_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    cfg = _config(tmp_path, {"k1": b"0" * 32}, "k1")
    cfg.write_text(f'database_url = "{pg_database}"\n' + cfg.read_text())
    assert runner.invoke(app, ["migrate", "-c", str(cfg)]).exit_code == 0
    port = _free_port()
    deadline = time.monotonic() + 60
    args = ["serve", "--workers", "2", "--port", str(port), "-c", str(cfg)]
    proc, _ = _start_cli(args, "Started parent process", deadline, tmp_path)
    try:
        workers: set[str] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            workers = {  # multiprocessing's resource tracker is a child too, but no worker
                pid
                for pid in children
                if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
            }
            time.sleep(0.2)
        assert len(workers) == 2
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
