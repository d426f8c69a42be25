"""Real Chromium for browser tests: Debian's package driven by Playwright (no download).

Without the browser the tests skip on a developer machine and fail under CI, where
``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("OZG_GATEWAY_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def require_chromium() -> Path:
    """The browser's path; skips (or fails under CI) when it is not installed."""
    if CHROMIUM.exists() or shutil.which(str(CHROMIUM)):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def screenshot_path(group: str, name: str) -> Path:
    """Where a test run keeps a page's screenshot (``artifacts/screenshots/<group>/``)."""
    folder = SCREENSHOTS / group
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium for one test (Playwright's sync API holds an event loop on this
    thread while it runs: it must not outlive the test, or later tests cannot run theirs)."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(executable),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield instance
        instance.close()
