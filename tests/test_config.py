"""Settings: file, environment, secrets policy."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from ozg_gateway.config import DEMO_ENCRYPTION_KEY, load_settings
from tests.conftest import EXAMPLE_CONFIG

GOOD_KEY = base64.b64encode(os.urandom(32)).decode()


def test_file_paths_resolve_against_the_file() -> None:
    s = load_settings(EXAMPLE_CONFIG)
    assert s.catalog_file == EXAMPLE_CONFIG.parent / "catalog.toml"
    assert s.case_number_prefix == "MTL"
    assert set(s.connectors) == {
        "kita-fachverfahren",
        "standesamt",
        "sportamt",
        "aem-system",
        "epay21",
        "civento",
    }


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_GATEWAY_CASE_NUMBER_PREFIX", "ENV")
    monkeypatch.setenv("OZG_GATEWAY_ENCRYPTION_KEYS", f'{{"k1": "{GOOD_KEY}"}}')
    s = load_settings(EXAMPLE_CONFIG)
    assert s.case_number_prefix == "ENV"
    assert s.encryption_keys["k1"].get_secret_value() == GOOD_KEY
    assert GOOD_KEY not in repr(s)


def test_config_file_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_GATEWAY_CONFIG", str(EXAMPLE_CONFIG))
    assert load_settings().case_number_prefix == "MTL"


def test_production_refuses_missing_or_placeholder_secrets() -> None:
    missing = load_settings(EXAMPLE_CONFIG).secret_problems()
    assert any(p.startswith("encryption_keys") for p in missing)
    assert any(p.startswith("admin_key") for p in missing)
    placeholder = load_settings(
        EXAMPLE_CONFIG,
        encryption_keys={"k": DEMO_ENCRYPTION_KEY},
        active_key_id="k",
        admin_key="change-me-please-change-me",
    ).secret_problems()
    assert len(placeholder) == 2
    good = load_settings(
        EXAMPLE_CONFIG,
        encryption_keys={"k": GOOD_KEY},
        active_key_id="k",
        admin_key="a" * 12 + "Zq81" * 4,
    )
    assert good.secret_problems() == []
    assert load_settings(EXAMPLE_CONFIG, mode="demo").secret_problems() == []


def test_specs_features_report_missing_dir(tmp_path: Path) -> None:
    s = load_settings(EXAMPLE_CONFIG, specs_dir=tmp_path)
    assert not any(s.specs_features().values())


def test_unknown_setting_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('catalgo_file = "x"\n')
    with pytest.raises(ValueError, match="catalgo_file"):
        load_settings(cfg)
