"""What CI insists on: the specs directory (like PostgreSQL) must be there, never skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_ci_without_specs_directory_fails_the_run(tmp_path: Path) -> None:
    env = {**os.environ, "CI": "true", "OZG_GATEWAY_SPECS_DIR": str(tmp_path / "missing")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_calendar.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 3, run.stdout
    assert "specs directory" in run.stdout + run.stderr
