"""The production example: it parses, every connector's settings validate, placeholders are
refused, secrets come from the environment; deploy files name real commands."""

from __future__ import annotations

import base64
import re

import pytest

from ozg_gateway.config import load_settings
from ozg_gateway.connectors.registry import validate_config
from ozg_gateway.errors import ConfigurationError
from tests.conftest import ROOT

PRODUCTION = ROOT / "examples" / "production"


def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for line in (PRODUCTION / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)


def test_production_config_validates_with_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _environment(monkeypatch)
    monkeypatch.setenv("OZG_EPAY_PASSWORD", "s3cr3t-from-env")
    for name in ("OZG_KITA_WEBHOOK_SECRET", "OZG_SPORTAMT_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "whsec_" + base64.b64encode(b"w" * 32).decode())
    settings = load_settings(PRODUCTION / "config.toml")
    assert settings.mode == "production"
    assert settings.database_url == "postgresql://ozg@db.internal:5432/ozg"
    assert settings.connectors["epay21"]["auth"]["password"] == "s3cr3t-from-env"
    for name, raw in settings.connectors.items():
        validate_config(name, raw)  # raises with the location of any mistake
    problems = settings.secret_problems()  # the example's values are placeholders
    assert any(p.startswith("encryption_keys.k2026") for p in problems)
    assert any(p.startswith("admin_key") for p in problems)


def test_a_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(monkeypatch)
    monkeypatch.delenv("OZG_XTA_P12_PASSWORD")
    with pytest.raises(ConfigurationError, match="OZG_XTA_P12_PASSWORD is not set"):
        load_settings(PRODUCTION / "config.toml")


def test_deploy_files_run_commands_that_exist() -> None:
    from ozg_gateway.cli import app

    commands = {c.name or c.callback.__name__ for c in app.registered_commands} | {  # type: ignore[union-attr]
        g.name for g in app.registered_groups
    }
    units = list((ROOT / "deploy" / "systemd").glob("*.service"))
    assert len(units) >= 2
    texts = [u.read_text() for u in units]
    texts.append((ROOT / "deploy" / "docker" / "compose.yaml").read_text())
    for text in texts:
        for used in re.findall(r'(?:/bin/ozg-gateway |"ozg-gateway", ")(\w+)', text):
            assert used in commands, used
    assert "--workers" in "".join(texts)
