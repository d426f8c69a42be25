"""The operations kit: alert rules checked and unit-tested with promtool, and every metric the
rules and the Grafana dashboard use is one the gateway exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT, Api

PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "ozg-gateway.json"
# series Prometheus itself makes, and histogram/counter suffixes of ours
BUILTIN = {"up"}


def _promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    message = "promtool is missing: apt-get install -y prometheus (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "rules", "ozg-gateway.rules.yml"], id="rules-are-valid"),
        pytest.param(["test", "rules", "ozg-gateway.rules.test.yml"], id="rules-fire-as-tested"),
    ],
)
def test_promtool(args: list[str]) -> None:
    result = subprocess.run(
        [_promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _names(expr: str) -> set[str]:
    return {
        re.sub(r"_(total|bucket|sum|count)$", "", name)
        for name in re.findall(r"\b(ozg_[a-z_]+)", expr)
    }


def test_rules_and_dashboard_use_only_exported_metrics(api: Api) -> None:
    exported = {
        re.sub(r"_(total|bucket|sum|count|created)$", "", line.split()[2])
        for line in api.http.get("/metrics").text.splitlines()
        if line.startswith("# TYPE ")
    }
    rules = yaml.safe_load((PROMETHEUS / "ozg-gateway.rules.yml").read_text())
    used = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            used |= _names(rule["expr"])
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= _names(target["expr"])
    assert used
    assert used - BUILTIN <= exported, used - exported
