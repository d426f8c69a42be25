"""PDF forms: generated from the form model, filled, read back into the same data."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

from ozg_gateway.forms.registry import FORM_MODELS, FormContext
from ozg_gateway.forms.schema import nodes
from ozg_gateway.mappings.pdf.extract import PdfFormError, extract, open_form
from ozg_gateway.mappings.pdf.generate import build_form_pdf, form_fields, form_version, marker
from ozg_gateway.mappings.pdf.receipt import ReceiptFacts, build_receipt_pdf
from tests.factories import TEST_TODAY, form
from tests.mappings.cases import CATALOG, OFFERS, case_document


def flatten(value: Any, prefix: str) -> dict[str, str]:
    """Dotted field values as a person would type them into the PDF."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, child in value.items():
            out |= flatten(child, f"{prefix}.{key}")
        return out
    if isinstance(value, list):
        out = {}
        for i, child in enumerate(value):
            out |= flatten(child, f"{prefix}.{i}")
        return out
    if isinstance(value, bool):
        return {prefix: "/Yes" if value else "/Off"}
    return {prefix: str(value)}


def fill(service_id: str, values: dict[str, Any], applicant: dict[str, Any] | None = None) -> bytes:
    offer = CATALOG.get(service_id)
    assert offer is not None
    pdf = build_form_pdf(offer, FORM_MODELS[service_id], CATALOG.form_settings(service_id))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    data = flatten(values, "form") | flatten(applicant or {}, "applicant")
    for page in writer.pages:
        writer.update_page_form_field_values(page, data, auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("service_id", OFFERS)
def test_round_trip_equals_the_online_form(service_id: str) -> None:
    filled = fill(service_id, form(service_id), {"family_name": "Muster", "email": "m@example.org"})
    inspection = open_form(filled)
    model = FORM_MODELS[service_id]
    assert inspection.info == {"offer": service_id, "version": form_version(model)}
    data, applicant = extract(inspection, form_fields(model, CATALOG.form_settings(service_id)))
    assert applicant == {"family_name": "Muster", "email": "m@example.org"}
    context = FormContext(today=date(2026, 11, 25), settings=CATALOG.form_settings(service_id))
    assert model.validate(data, context=context) == model.validate(
        form(service_id), context=context
    )


def test_settings_become_choice_fields_with_labels() -> None:
    fields = {
        f.name: f
        for f in form_fields(FORM_MODELS["kita-anmeldung"], CATALOG.form_settings("kita-anmeldung"))
    }
    wish = fields["form.wunscheinrichtungen.0.einrichtung_id"]
    assert wish.kind == "choice"
    assert ("kita-sonnenblume", "Kita Sonnenblume") in wish.options
    assert fields["form.betreuungsart"].options[0] == ("krippe", "Krippe (unter 3 Jahren)")
    assert wish.label == "Wunsch 1 – Einrichtung"
    halls = {
        f.name: f
        for f in form_fields(FORM_MODELS["hallenbelegung"], CATALOG.form_settings("hallenbelegung"))
    }
    # as many repeat groups as the model allows: 14 weekly slots, 20 dates
    assert "form.zeiten.13.wochentag" in halls
    assert "form.zeiten.14.wochentag" not in halls
    assert "form.termine.19.datum" in halls
    assert "form.termine.20.datum" not in halls
    sections = halls["form.hallenteil"].options
    assert ("drittel-a", "Sporthalle Nord: Hallendrittel A (Bühnenseite)") in sections
    assert ("gesamt", "Sporthalle Süd: ganze Halle") in sections  # grouped by their hall
    aem = {
        f.name: f
        for f in form_fields(FORM_MODELS["aem-meldung"], CATALOG.form_settings("aem-meldung"))
    }
    assert aem["form.kategorie"].kind == "choice"  # fixed choices, not a free text


INTERNAL = re.compile(r"\b[a-z][a-z0-9]*[-_][a-z0-9][a-z0-9_-]*\b")


@pytest.mark.parametrize("service_id", OFFERS)
def test_no_internal_id_in_the_pdf_or_the_form_schema(service_id: str) -> None:
    settings = CATALOG.form_settings(service_id)
    offer = CATALOG.get(service_id)
    assert offer is not None
    reader = PdfReader(io.BytesIO(build_form_pdf(offer, FORM_MODELS[service_id], settings)))
    visible = "\n".join(page.extract_text() for page in reader.pages)
    for annotation in (a.get_object() for p in reader.pages for a in p.get("/Annots", [])):
        visible += "\n" + str(annotation.get("/TU", ""))
        for option in annotation.get("/Opt", []):
            visible += "\n" + str(option[1] if isinstance(option, list) else option)
    assert INTERNAL.findall(visible) == []
    assert "JJJJ-MM-TT" not in visible
    schema = FORM_MODELS[service_id].json_schema(settings)
    titles = json.dumps(
        [n.get("title") for _, n in nodes(schema)]
        + [o["title"] for _, n in nodes(schema) for o in n.get("oneOf", [])],
        ensure_ascii=False,
    )
    assert INTERNAL.findall(titles) == []


def test_the_pdf_is_german_titled_and_every_field_explains_itself() -> None:
    offer = CATALOG.get("hallenbelegung")
    assert offer is not None
    pdf = build_form_pdf(
        offer, FORM_MODELS["hallenbelegung"], CATALOG.form_settings("hallenbelegung")
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "de-DE"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata is not None
    assert reader.metadata.title == offer.title
    fields = reader.get_fields() or {}
    assert all(str(f.get("/TU", "")).strip() for f in fields.values())
    assert len(reader.pages) > 2  # continuation pages for 14 slots and 20 dates


def test_german_dates_and_decimal_commas_are_read_back() -> None:
    data = form("aem-meldung")
    data["position"] = {"lat": "50,1466", "lon": "8,8363"}
    filled = fill("aem-meldung", data, {"family_name": "Muster", "email": "m@example.org"})
    model = FORM_MODELS["aem-meldung"]
    read, _ = extract(open_form(filled), form_fields(model, CATALOG.form_settings("aem-meldung")))
    assert read["position"] == {"lat": 50.1466, "lon": 8.8363}
    halle = form("hallenbelegung")
    day = TEST_TODAY + timedelta(days=190)
    halle["termine"] = [{"datum": day.strftime("%d.%m.%Y"), "von": "18.00", "bis": "20:00"}]
    filled = fill("hallenbelegung", halle)
    read, _ = extract(
        open_form(filled),
        form_fields(FORM_MODELS["hallenbelegung"], CATALOG.form_settings("hallenbelegung")),
    )
    assert read["termine"] == [{"datum": day.isoformat(), "von": "18:00", "bis": "20:00"}]


def _plain_pdf(keywords: str | None = None) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    if keywords:
        canvas.setKeywords(keywords)
    canvas.drawString(100, 700, "Ausgedruckt und eingescannt")
    canvas.save()
    return buffer.getvalue()


def _encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(fill("aem-meldung", form("aem-meldung")))))
    writer.encrypt("geheim")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: b"\x89PNG\r\n\x1a\n", "not_a_pdf"),
        (lambda: b"%PDF-1.7\n garbage \x00\x01", "corrupt"),
        (_encrypted, "encrypted"),
        (lambda: _plain_pdf(), "foreign"),
        (lambda: _plain_pdf(marker("aem-meldung", "x")), "flattened"),
    ],
)
def test_unusable_pdfs_are_named(make: Any, code: str) -> None:
    with pytest.raises(PdfFormError) as info:
        open_form(make())
    assert info.value.code == code


def test_receipt_speaks_german_with_labels_local_time_and_payment() -> None:
    document = case_document("personenstandsurkunde")
    document["identity"] = {"level": "substantiell"}
    pdf = build_receipt_pdf(
        document,
        form_schema=FORM_MODELS["personenstandsurkunde"].json_schema(),
        facts=ReceiptFacts(
            received_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
            payment_status="paid",
            paid_at=datetime(2026, 11, 25, 9, 41, tzinfo=UTC),
        ),
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Ihre Vorgangsnummer: MTL-2026-7K3M9Q2X" in text
    assert "25.11.2026, 10:30 Uhr" in text  # Europe/Berlin, not UTC
    assert "24,00 € – bezahlt am 25.11.2026, 10:41 Uhr" in text
    assert "Online-Ausweis (eID), Vertrauensniveau substanziell" in text
    assert "Eheschließung" in text
    assert "Geburtsurkunde" in text  # the choice's label, not its value
    assert "Standard-Urkunden" in text
    assert "nachweis.pdf" in text
    assert INTERNAL.findall(text.replace(document["case_number"], "")) == []
