"""The reference portal "Digitales Rathaus" in Chromium, against the whole demo over HTTP:
all four online offers, with files, identification with the scripted eID-Client, payment on
the simulated paypage, a filled PDF, status and receipt; a screenshot of every page."""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader, PdfWriter

from ozg_gateway import demo
from ozg_gateway.api.app import create_app
from ozg_gateway.context import build_context
from ozg_gateway.store import migrate
from tests.browser import browser, screenshot_path  # noqa: F401 - the fixture
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import PDF_BYTES, PNG_BYTES, form
from tests.live import LiveServer, free_port
from tests.mappings.test_pdf import flatten

CONTACT = {"given_name": "Erika", "family_name": "Mustermann", "email": "erika@example.org"}


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[str]:
    """The demo (gateway, worker, simulators, portal) on a loopback port; its portal URL."""
    port = free_port()
    setup = demo.prepare(
        config=EXAMPLE_CONFIG, data_dir=tmp_path / "demo", base=f"http://127.0.0.1:{port}"
    )
    ctx = build_context(setup.settings)
    migrate.upgrade(ctx.db)
    demo.seed_clients(ctx, setup)
    api = create_app(ctx, with_worker=True)
    demo.mount(api, setup)
    server = LiveServer(api, port, lifespan="on").start()
    mail = demo.start_mail(setup)
    yield f"{setup.base}/demo/portal"
    mail.stop()
    server.stop()
    ctx.close()


def _office_answers_the_report(page: Any, portal: str, walk: Walk) -> None:
    """The office closes the report with a notice PDF: the citizen sees and downloads it, the
    portal's status webhook and the applicant's e-mail arrive."""
    base = portal.removesuffix("/demo/portal")
    sid = page.url.split("/vorgang/")[1].split("?")[0]
    portal_key = {"Authorization": f"Bearer {demo.DEMO_KEYS[demo.Role.portal]}"}
    case = httpx.get(f"{base}/v1/submissions/{sid}", headers=portal_key).json()["case"]
    case_id = case["id"]
    notice = PDF_BYTES
    answer = httpx.post(
        f"{base}/v1/cases/{case_id}/status",
        json={
            "status": "completed",
            "note": "Die Laterne wurde repariert.",
            "document": {
                "filename": "Abschlussmitteilung.pdf",
                "content_base64": base64.b64encode(notice).decode(),
            },
        },
        headers={"Authorization": f"Bearer {demo.DEMO_KEYS[demo.Role.backoffice]}"},
    )
    assert answer.status_code == 200, answer.text
    page.reload()
    main = page.inner_text("main")
    assert "abgeschlossen" in main
    assert "Die Laterne wurde repariert." in main
    with page.expect_download() as download:
        page.get_by_role("link", name="Abschlussmitteilung.pdf").click()
    assert Path(download.value.path()).read_bytes() == notice
    walk.shot("meldung-erledigt")
    deadline = time.monotonic() + 20  # the worker delivers both through the outbox
    while time.monotonic() < deadline:
        events = httpx.get(f"{base}/demo/portal-events/events").json()
        mail = httpx.get(f"{base}/demo/mail/").text
        if events and "Die Laterne wurde repariert." in mail:
            break
        time.sleep(0.2)
    assert events[-1]["case_number"] == case["case_number"]
    assert "Die Laterne wurde repariert." in mail
    page.goto(f"{base}/demo/mail/")
    walk.shot("demo-postfach")
    page.go_back()


class Walk:
    """A citizen in the browser, with a screenshot of every page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.shots = 0

    def shot(self, name: str) -> None:
        self.shots += 1
        path = screenshot_path("portal", f"{self.shots:02d}-{name}")
        self.page.screenshot(path=str(path), full_page=True)

    def fill(self, values: dict[str, str]) -> None:
        """Type each value into the field of that name, as its kind wants it."""
        for name, value in values.items():
            field = self.page.locator(f'[name="{name}"]')
            if field.count() == 0:
                continue  # more entries than the portal shows at first
            tag = field.evaluate("e => e.tagName + ':' + (e.type || '')")
            if tag.startswith("SELECT"):
                field.select_option(value=value)
            elif tag == "INPUT:checkbox":
                if value == "/Yes":
                    field.check()
            else:
                field.fill(value)


def apply_for(page: Any, title: str) -> None:
    """Follow the offer's "Online beantragen" link (its accessible name names the offer)."""
    page.get_by_role(
        "link", name=re.compile(rf"^Online beantragen\s*: {re.escape(title)}$")
    ).click()


def _values(service_id: str) -> dict[str, str]:
    data = flatten(form(service_id, date.today()), "form") | flatten(CONTACT, "applicant")
    return {k: v for k, v in data.items() if v not in ("/Off", "None")}


def test_the_citizen_walks_through_all_four_offers(portal: str, browser: Any) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="de-DE")
    walk = Walk(page)

    page.goto(f"{portal}/")
    catalogue = page.inner_text("main")
    assert "Online oder als PDF" in catalogue  # the certificate order: both ways
    assert "Neu" in catalogue  # hall booking and issue reports are new
    walk.shot("leistungen")

    # 1. An issue report, first with gaps: the summary links to the fields
    apply_for(page, "Mängel melden und Anregungen geben")
    page.get_by_role("button", name="Antrag absenden").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "Beschreibung: Pflichtfeld fehlt." in summary.inner_text()  # every gap at once
    first = summary.locator("a").first
    assert first.get_attribute("href").startswith("#f-")
    walk.shot("meldung-fehler")
    walk.fill(_values("aem-meldung"))
    page.set_input_files(
        '[name="datei.foto"]',
        files=[{"name": "laterne.png", "mimeType": "image/png", "buffer": PNG_BYTES}],
    )
    walk.shot("meldung-ausgefuellt")
    page.get_by_role("button", name="Antrag absenden").click()
    assert "Ihre Vorgangsnummer: MTL-" in page.inner_text("main")
    assert "Anlage hinzugefügt" in page.inner_text("main")  # the photo
    walk.shot("meldung-eingegangen")
    receipt = page.request.get(
        page.get_by_role("link", name="Eingangsbestätigung (PDF)").get_attribute("href")
    )
    assert receipt.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(receipt.body())).pages[0].extract_text()
    assert "Eingangsbestätigung" in text
    assert "Ihre Vorgangsnummer" in text
    (screenshot_path("portal", "eingangsbestaetigung").with_suffix(".pdf")).write_bytes(
        receipt.body()
    )
    _office_answers_the_report(page, portal, walk)

    # 2. A Kita registration, 3. a hall booking: forms rendered from their schemas alone
    for service_id, title, name in (
        ("kita-anmeldung", "Anmeldung für einen Platz in einer Kindertageseinrichtung", "kita"),
        ("hallenbelegung", "Sporthalle für Vereine buchen", "halle"),
    ):
        page.goto(f"{portal}/")
        apply_for(page, title)
        walk.fill(_values(service_id))
        walk.shot(f"{name}-ausgefuellt")
        page.get_by_role("button", name="Antrag absenden").click()
        assert "Ihre Vorgangsnummer: MTL-" in page.inner_text("main"), page.inner_text("main")
        walk.shot(f"{name}-eingegangen")

    # 4. A certificate order: identification with the eID, then the fee
    page.goto(f"{portal}/")
    apply_for(page, "Personenstandsurkunde bestellen")
    walk.fill(_values("personenstandsurkunde"))
    walk.shot("urkunde-ausgefuellt")
    page.get_by_role("button", name="Weiter zur Identifizierung").click()
    walk.shot("urkunde-identifizierung")
    page.get_by_role("button", name="Jetzt mit dem Online-Ausweis identifizieren").click()
    page.wait_for_url(f"{portal}/bezahlen/*")
    assert "24,00 €" in page.inner_text("main")  # 12 € and two further copies at 6 €
    walk.shot("urkunde-gebuehr")
    page.get_by_role("button", name="Jetzt bezahlen").click()
    walk.shot("bezahldienst")
    page.get_by_role("button", name="Bezahlen").first.click()
    page.wait_for_url(f"{portal}/vorgang/*")
    status = page.inner_text("main")
    assert "24,00 € – bezahlt" in status
    assert "mit dem Online-Ausweis" in status
    assert "Gebühr bezahlt" in status
    walk.shot("urkunde-bezahlt")

    # the registry office answers; the citizen sees it on the same page
    sid = page.url.split("/vorgang/")[1].split("?")[0]
    base = portal.removesuffix("/demo/portal")
    portal_key = {"Authorization": f"Bearer {demo.DEMO_KEYS[demo.Role.portal]}"}
    case_id = httpx.get(f"{base}/v1/submissions/{sid}", headers=portal_key).json()["case"]["id"]
    answer = httpx.post(
        f"{base}/v1/cases/{case_id}/status",
        json={"status": "action_required", "note": "Bitte senden Sie uns die Vollmacht."},
        headers={"Authorization": f"Bearer {demo.DEMO_KEYS[demo.Role.backoffice]}"},
    )
    assert answer.status_code == 200, answer.text
    page.reload()
    assert "Ihre Mitwirkung ist nötig" in page.inner_text("main")
    assert "Bitte senden Sie uns die Vollmacht." in page.inner_text("main")
    walk.shot("urkunde-rueckfrage")

    # 5. The same order as a filled PDF form
    page.goto(f"{portal}/pdf/personenstandsurkunde")
    walk.shot("pdf-hochladen")
    blank = page.request.get(f"{portal}/pdf/personenstandsurkunde/formular.pdf").body()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(blank)))
    values = flatten(form("personenstandsurkunde", date.today()), "form") | flatten(
        CONTACT, "applicant"
    )
    for sheet in writer.pages:
        writer.update_page_form_field_values(sheet, values, auto_regenerate=False)
    filled = io.BytesIO()
    writer.write(filled)
    page.set_input_files(
        "#datei",
        files=[{"name": "urkunde.pdf", "mimeType": "application/pdf", "buffer": filled.getvalue()}],
    )
    page.get_by_role("button", name="Hochladen und weiter").click()
    walk.shot("pdf-identifizierung")
    page.get_by_role("button", name="Jetzt mit dem Online-Ausweis identifizieren").click()
    page.wait_for_url(f"{portal}/bezahlen/*")
    page.get_by_role("button", name="Jetzt bezahlen").click()
    page.get_by_role("button", name="Bezahlen").first.click()
    page.wait_for_url(f"{portal}/vorgang/*")
    assert "bezahlt" in page.inner_text("main")
    walk.shot("pdf-eingegangen")

    # on a phone's width
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{portal}/antrag/aem-meldung")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    walk.shot("handy-formular")
    page.close()


def test_the_certificate_order_with_bundid(portal: str, browser: Any) -> None:  # noqa: F811
    """The same order, identified through BundID (the demo's IdP simulator) instead."""
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="de-DE")
    shot = 0

    def snap(name: str) -> None:
        nonlocal shot
        shot += 1
        page.screenshot(path=str(screenshot_path("bundid", f"{shot:02d}-{name}")), full_page=True)

    page.goto(f"{portal}/")
    apply_for(page, "Personenstandsurkunde bestellen")
    Walk(page).fill(_values("personenstandsurkunde"))
    page.get_by_role("button", name="Weiter zur Identifizierung").click()
    snap("identifizierung-waehlen")
    page.get_by_role("button", name="Mit BundID anmelden").click()
    page.wait_for_url("**/demo/bundid/sso")  # via the gateway's auto-posting form
    assert "Stadt Maintal möchte Sie identifizieren" in page.inner_text("main")
    page.get_by_label("Anmeldeart").select_option("eID")
    snap("bundid-anmeldung")
    page.get_by_role("button", name="Weiter").click()
    page.wait_for_url(f"{portal}/bezahlen/*")  # assertion consumed, code redeemed
    page.get_by_role("button", name="Jetzt bezahlen").click()
    page.get_by_role("button", name="Bezahlen").first.click()
    page.wait_for_url(f"{portal}/vorgang/*")
    status = page.inner_text("main")
    assert "bezahlt" in status
    assert "mit BundID, Vertrauensniveau hoch" in status
    assert "Über BundID identifiziert" in status
    snap("urkunde-bezahlt")
    page.close()
