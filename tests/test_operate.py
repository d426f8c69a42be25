"""Operator CLI: ``connectors check`` names what is wrong; ``deliveries`` list, show, replay,
cancel against a real database."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from ozg_gateway.cli import app
from ozg_gateway.config import load_settings
from ozg_gateway.connectors.webhook.simulator import create_receiver
from ozg_gateway.context import build_context
from ozg_gateway.epayment.xbezahldienste.simulator import create_simulator
from ozg_gateway.store import migrate
from ozg_gateway.store.models import AuditEntry, Delivery
from tests.conftest import EXAMPLE_CONFIG
from tests.delivery.seed import seed_cases
from tests.live import LiveServer, free_port
from tests.tls import make_pki

runner = CliRunner()
SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWI="


def _config(tmp_path: Path, connectors: str) -> Path:
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(
        f'catalog_file = "{EXAMPLE_CONFIG.parent / "catalog.toml"}"\n'
        f'data_dir = "{tmp_path / "data"}"\n'
        f'database_url = "sqlite:///{tmp_path / "gw.db"}"\n'
        'active_key_id = "k1"\n'
        f'admin_key = "{"Q7" * 16}"\n'
        'encryption_keys = { k1 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" }\n'
        'payment_provider = "epay21"\n' + connectors
    )
    return cfg


def _hook(name: str, url: str, extra: str = "") -> str:
    return (
        f'[connectors.{name}]\ntype = "webhook"\nurl = "{url}/webhook"\n'
        f'check_url = "{url}/health"\nsecrets = ["{SECRET}"]\n'
        "timeouts = { connect = 2, read = 2, write = 2, pool = 2 }\n" + extra + "\n"
    )


def test_connectors_check_names_the_problem(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    fine = LiveServer(create_receiver([SECRET])).start()
    untrusted = LiveServer(
        create_receiver([SECRET]),
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
    ).start()
    provider = LiveServer(create_simulator(username="maintal", password="right")).start()
    closed = f"http://127.0.0.1:{free_port()}"
    try:
        cfg = _config(
            tmp_path,
            _hook("kita-fachverfahren", fine.url)
            + _hook("aem-system", untrusted.url)
            + _hook("sportamt", closed)
            + '[connectors.standesamt]\ntype = "pull"\n\n[connectors.civento]\ntype = "pull"\n\n'
            + "[connectors.epay21]\n"
            'type = "xbezahldienste"\n'
            f'base_url = "{provider.url}"\n'
            'originator_id = "maintal-portal"\nendpoint_id = "06435019"\n'
            'auth = { type = "basic", username = "maintal", password = "wrong" }\n',
        )
        result = runner.invoke(app, ["connectors", "check", "-c", str(cfg), "--timeout", "5"])
        out = result.output
        assert result.exit_code == 1, out
        lines = {m.group(1): m.group(0) for m in re.finditer(r"^\[.{4}\] (\S+) .*$", out, re.M)}
        assert lines["kita-fachverfahren"].startswith("[ok  ]")
        assert lines["standesamt"].startswith("[ok  ]")
        assert "unbekannten Zertifizierungsstelle" in lines["aem-system"]
        assert "tls.ca_bundle" in lines["aem-system"]
        assert "nicht erreichbar" in lines["sportamt"]
        assert "abgewiesen" in lines["sportamt"]
        assert "Anmeldung wurde abgelehnt" in lines["epay21"]
        assert "wrong" not in out  # no secret in the explanation
        assert "3 von 6 Connector(en) brauchen Aufmerksamkeit." in out
        assert "holt ihre Vorgänge selbst ab" in lines["standesamt"]

        one = runner.invoke(app, ["connectors", "check", "epay21", "-c", str(cfg)])
        assert one.exit_code == 1
        assert "Passwort" in one.output
        unknown = runner.invoke(app, ["connectors", "check", "nope", "-c", str(cfg)])
        assert unknown.exit_code == 2
    finally:
        for server in (fine, untrusted, provider):
            server.stop()


def test_deliveries_list_show_replay_and_cancel(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        _hook("kita-fachverfahren", "http://127.0.0.1:9")
        + _hook("aem-system", "http://127.0.0.1:9")
        + _hook("sportamt", "http://127.0.0.1:9")
        + '[connectors.standesamt]\ntype = "pull"\n\n[connectors.civento]\ntype = "pull"\n\n'
        '[connectors.epay21]\ntype = "xbezahldienste"\nbase_url = "http://127.0.0.1:9"\n'
        'originator_id = "o"\nendpoint_id = "e"\n',
    )
    ctx = build_context(load_settings(cfg))
    try:
        migrate.upgrade(ctx.db)
        docs = seed_cases(ctx, 3)
        with ctx.db.writing() as session:
            by_case = {d.case_id: d for d in session.query(Delivery)}
            rows = [by_case[doc["case_id"]] for doc in docs]
            for row in rows[:2]:
                row.status = "dead"
                row.last_error = "webhook receiver answered HTTP 404"
            dead_ids = [r.id for r in rows[:2]]
            other = rows[2].id
    finally:
        ctx.close()

    listed = runner.invoke(app, ["deliveries", "list", "--status", "dead", "-c", str(cfg)])
    assert listed.exit_code == 0, listed.output
    assert "2 deliveries" in listed.output
    assert all(i in listed.output for i in dead_ids)
    found = runner.invoke(
        app, ["deliveries", "list", "--case-number", docs[2]["case_number"], "-c", str(cfg)]
    )
    assert "1 deliveries" in found.output
    assert other in found.output

    shown = runner.invoke(app, ["deliveries", "show", dead_ids[0], "-c", str(cfg)])
    assert shown.exit_code == 0, shown.output
    assert "HTTP 404" in shown.output
    assert "MTL-2026-" in shown.output

    asked = runner.invoke(app, ["deliveries", "replay", "-c", str(cfg)], input="n\n")
    assert "replay 2 dead letter(s)?" in asked.output
    assert asked.exit_code == 1
    replayed = runner.invoke(app, ["deliveries", "replay", dead_ids[0], "--yes", "-c", str(cfg)])
    assert replayed.exit_code == 0
    assert "1 replayed" in replayed.output
    cancelled = runner.invoke(app, ["deliveries", "cancel", dead_ids[1], "-c", str(cfg)])
    assert cancelled.exit_code == 0, cancelled.output
    again = runner.invoke(app, ["deliveries", "cancel", dead_ids[1], "-c", str(cfg)])
    assert again.exit_code == 2
    assert "kann nicht abgebrochen werden" in again.output

    ctx = build_context(load_settings(cfg))
    try:
        with ctx.db.reading() as session:
            states = {d.id: d.status for d in session.query(Delivery)}
            actions = [(a.action, a.target_id) for a in session.query(AuditEntry)]
            actors = {a.actor for a in session.query(AuditEntry)}
        assert states[dead_ids[0]] == "pending"
        assert states[dead_ids[1]] == "cancelled"
        assert ("delivery.replay", dead_ids[0]) in actions
        assert ("delivery.cancel", dead_ids[1]) in actions
        assert all(a.startswith("cli") for a in actors)
    finally:
        ctx.close()
