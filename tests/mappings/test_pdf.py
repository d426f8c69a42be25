"""PDF forms: generated from the form model, filled, read back into the same data."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

from ozg_gateway.forms.registry import FORM_MODELS, FormContext
from ozg_gateway.mappings.pdf.extract import PdfFormError, extract, open_form
from ozg_gateway.mappings.pdf.generate import (
    build_form_pdf,
    build_receipt_pdf,
    form_fields,
    form_version,
    marker,
)
from tests.factories import form
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


def test_settings_become_choice_fields() -> None:
    fields = {
        f.name: f
        for f in form_fields(FORM_MODELS["kita-anmeldung"], CATALOG.form_settings("kita-anmeldung"))
    }
    wish = fields["form.wunscheinrichtungen.0.einrichtung_id"]
    assert wish.kind == "choice"
    assert "kita-sonnenblume" in wish.options
    assert fields["form.betreuungsart"].options == ("krippe", "kindergarten", "hort")


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


def test_receipt_lists_case_number_data_and_fee() -> None:
    pdf = build_receipt_pdf(
        case_document("personenstandsurkunde"), received_at="25.11.2026 10:30 UTC"
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "MTL-2026-7K3M9Q2X" in text
    assert "Gebühr: 24,00 €" in text
    assert "Eheschließung" in text
    assert "nachweis.pdf" in text
