"""The admin console in Chromium: sign in, find a dead letter, replay it once the receiver is
fixed, see it delivered; refused without a session or without the CSRF token."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from ozg_gateway.api.app import create_app
from ozg_gateway.config import ConsoleSettings
from tests.browser import browser, screenshot_path  # noqa: F401 - the fixture
from tests.conftest import ADMIN_KEY, _truncate
from tests.delivery.conftest import Env, build_env
from tests.live import LiveServer


class Switchable:
    """A receiver that answers 404 (a wrong path at the back office) until it is fixed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.broken = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.broken and scope["type"] == "http" and scope["path"] == "/webhook":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"no such endpoint"})
            return
        await self.app(scope, receive, send)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[Env, Switchable, LiveServer]]:
    env = build_env(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}")
    env.receiver.stop()
    switch = Switchable(env.receiver.app)
    env.receiver = LiveServer(switch, env.receiver.port).start()
    # pages refresh every 2 s here (10 s by default), so the test sees a live update
    lively = env.ctx.settings.model_copy(update={"console": ConsoleSettings(refresh_seconds=2)})
    gateway = LiveServer(create_app(dataclasses.replace(env.ctx, settings=lively))).start()
    yield env, switch, gateway
    gateway.stop()
    env.receiver.stop()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(env.run, env.ctx.connectors.aclose()).result()
    env.loop.close()
    _truncate(env.ctx)
    env.ctx.close()


def _work(env: Env) -> int:
    """A worker batch in a thread of its own (Playwright's sync API holds this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(env.work).result()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(screenshot_path("console", name)), full_page=True)


def test_replay_a_dead_letter_in_the_browser(
    console: tuple[Env, Switchable, LiveServer],
    browser: Any,  # noqa: F811
) -> None:
    env, receiver, gateway = console
    (case_id,) = env.submit("aem-meldung")
    _work(env)  # the receiver answers 404: the delivery is dead at once
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")

    page.goto(f"{gateway.url}/admin/")
    assert "/admin/anmelden" in page.url  # no session: the login page
    _shot(page, "01-anmelden")
    page.get_by_label("Administrator-Schlüssel").fill(ADMIN_KEY)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{gateway.url}/admin/")
    assert "brauchen Aufmerksamkeit" in page.inner_text("main")
    first_row = page.locator("table.grid tbody tr").first
    assert "aem-system" in first_row.inner_text()  # problems first
    _shot(page, "02-uebersicht")

    page.get_by_role("link", name="Probleme", exact=True).click()
    assert "1 gescheiterte Zustellung" in page.inner_text("main")
    assert "Empfänger weist ab" in page.inner_text("main")
    page.evaluate("window.notReloaded = true")
    env.submit("aem-meldung")  # a second report fails the same way ...
    _work(env)
    # ... and the open page shows it without a reload
    for _ in range(40):  # (wait_for_function would need 'unsafe-eval', which the CSP forbids)
        if "2 gescheiterte Zustellung" in page.inner_text("#inhalt"):
            break
        page.wait_for_timeout(250)
    assert "2 gescheiterte Zustellung" in page.inner_text("#inhalt")
    assert page.evaluate("window.notReloaded") is True
    _shot(page, "03-probleme")
    page.get_by_label("aem-system").check()
    page.get_by_role("button", name="Auswahl erneut senden …").first.click()
    assert "2 Zustellung(en)" in page.inner_text("main")
    _shot(page, "04-vorschau")

    receiver.broken = False  # the back office fixed its endpoint
    page.get_by_role("button", name="2 erneut senden").click()
    assert "2 Zustellung(en) erneut eingereiht." in page.inner_text("main")
    assert _work(env) == 2
    assert len(env.store.events) == 2

    page.get_by_role("link", name="Zustellungen", exact=True).click()
    page.get_by_label("Status").select_option("delivered")
    page.get_by_role("button", name="Filtern").click()
    table = page.inner_text("table.grid")
    assert "zugestellt" in table
    assert "aem-meldung" in table
    _shot(page, "05-zustellungen")
    page.locator("table.grid tbody a").first.click()
    detail = page.inner_text("main")
    assert "dauerhafter" not in detail
    assert "404" in detail
    assert "zugestellt" in detail
    _shot(page, "06-zustellung")

    for name, title in (
        ("eingang", "Eingang"),
        ("zahlungen", "Zahlungen"),
        ("identifizierungen", "Identifizierungen"),
        ("katalog", "Katalog"),
        ("protokoll", "Protokoll"),
    ):
        page.get_by_role("link", name=title, exact=True).click()
        assert page.inner_text("h1") == title
        _shot(page, f"07-{name}")
    assert "delivery.replay" in page.inner_text("main")

    # no CSRF token: refused, even with the session cookie
    refused = page.request.post(
        f"{gateway.url}/admin/probleme/ausfuehren",
        form={"aktion": "erneut", "id": case_id},
        max_redirects=0,
    )
    assert refused.status == 403
    # no session: sent to the login, nothing done
    stranger = browser.new_context()
    anonymous = stranger.request.post(
        f"{gateway.url}/admin/probleme/ausfuehren",
        form={"aktion": "erneut", "id": case_id},
        max_redirects=0,
    )
    assert anonymous.status == 303
    assert "/admin/anmelden" in anonymous.headers["location"]
    stranger.close()

    page.get_by_role("button", name="Abmelden").click()
    page.goto(f"{gateway.url}/admin/probleme")
    assert "/admin/anmelden" in page.url
    page.close()
