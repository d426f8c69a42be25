"""Generate the fillable PDF of an offer and the receipt (Eingangsbestätigung) of a case."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ozg_gateway.catalog.models import Offer
from ozg_gateway.forms.registry import FormModel
from ozg_gateway.mappings.pdf import (
    APPLICANT_PREFIX,
    CHOOSE,
    FORM_MARKER,
    FORM_PREFIX,
    PdfField,
    fields_of,
)

LEFT, LABEL_W, FIELD_W, ROW = 50, 230, 270, 24
TOP, BOTTOM = A4[1] - 60, 60

APPLICANT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["family_name"],
    "properties": {
        "given_name": {"type": "string", "title": "Vorname(n)"},
        "family_name": {"type": "string", "title": "Familienname"},
        "organisation": {"type": "string", "title": "Organisation"},
        "email": {"type": "string", "format": "email", "title": "E-Mail"},
        "phone": {"type": "string", "title": "Telefon"},
    },
}


def form_fields(model: FormModel, settings: Any = None) -> list[PdfField]:
    """Every field of the offer's PDF: applicant contact, then the form model's leaves."""
    return fields_of(APPLICANT_SCHEMA, APPLICANT_PREFIX) + fields_of(
        model.json_schema(), FORM_PREFIX, choices=model.choices(settings)
    )


def form_version(model: FormModel) -> str:
    """Short fingerprint of the model's schema: a PDF of another version is recognised."""
    schema = json.dumps(model.json_schema(), sort_keys=True).encode()
    return hashlib.sha256(schema).hexdigest()[:12]


def marker(offer_id: str, version: str) -> str:
    """Keywords that identify our PDFs."""
    return f"{FORM_MARKER};offer={offer_id};version={version}"


class _Pages:
    def __init__(self, canvas: Canvas, heading: str) -> None:
        self.c, self.heading, self.y, self.page = canvas, heading, TOP, 1

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.c.setFont("Helvetica", 8)
            self.c.drawRightString(A4[0] - LEFT, 30, f"Seite {self.page}")
            self.c.showPage()
            self.page += 1
            self.y = TOP
            self.c.setFont("Helvetica-Bold", 10)
            self.c.drawString(LEFT, self.y, self.heading)
            self.y -= 2 * ROW

    def text(self, text: str, *, size: int = 10, bold: bool = False, gap: float = ROW) -> None:
        self.need(gap)
        self.c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.c.drawString(LEFT, self.y, text[:110])
        self.y -= gap

    def finish(self) -> None:
        self.c.setFont("Helvetica", 8)
        self.c.drawRightString(A4[0] - LEFT, 30, f"Seite {self.page}")
        self.c.showPage()
        self.c.save()


def _label(field: PdfField) -> str:
    parts = field.name.split(".")[1:]
    if field.name.startswith(APPLICANT_PREFIX):
        label = field.label
    else:
        label = " › ".join(p if not p.isdigit() else str(int(p) + 1) for p in parts[1:] or parts)
    return label.replace("_", " ") + (" *" if field.required else "")


def _section(field: PdfField) -> str:
    if field.name.startswith(APPLICANT_PREFIX):
        return "Kontakt der antragstellenden Person"
    return field.name.split(".")[1].replace("_", " ").capitalize()


def build_form_pdf(offer: Offer, model: FormModel, settings: Any = None) -> bytes:
    """Fillable AcroForm PDF for an offer, generated from its form model."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(offer.title)
    canvas.setSubject(offer.office.name)
    canvas.setKeywords(marker(offer.id, form_version(model)))
    canvas.setCreator("ozg-gateway")
    pages = _Pages(canvas, offer.title)
    pages.text(offer.title, size=14, bold=True, gap=20)
    pages.text(f"{offer.office.name} (AGS {offer.office.ags})", size=9, gap=14)
    pages.text(
        "Bitte am Bildschirm ausfüllen und hochladen oder einreichen. * = Pflichtfeld.",
        size=9,
        gap=2 * ROW,
    )
    section = None
    for field in form_fields(model, settings):
        if _section(field) != section:
            section = _section(field)
            pages.text(section, bold=True, gap=ROW)
        pages.need(ROW)
        canvas.setFont("Helvetica", 8)
        canvas.drawString(LEFT, pages.y + 4, _label(field)[:60])
        if field.hint:
            canvas.drawString(LEFT, pages.y - 5, f"({field.hint})")
        x, y, form = LEFT + LABEL_W, int(pages.y - 4), canvas.acroForm
        if field.kind == "boolean":
            form.checkbox(name=field.name, tooltip=field.label, x=x, y=y, size=14, fieldFlags="")
        elif field.kind == "choice":
            form.choice(
                name=field.name,
                tooltip=field.label,
                x=x,
                y=y,
                value=CHOOSE,
                options=[CHOOSE, *field.options],
                width=FIELD_W,
                height=16,
                fontSize=9,
            )
        else:
            form.textfield(
                name=field.name,
                tooltip=field.label,
                x=x,
                y=y,
                value="",
                width=FIELD_W,
                height=16,
                fontSize=9,
                maxlen=4000,
            )
        pages.y -= ROW
    pages.finish()
    return buffer.getvalue()


def _lines(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _lines(child, f"{path} › {key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value, 1):
            yield from _lines(child, f"{path} {i}")
    elif value not in (None, ""):
        text = {True: "ja", False: "nein"}.get(value, value) if isinstance(value, bool) else value
        yield path.replace("_", " "), str(text)


def build_receipt_pdf(document: Mapping[str, Any], *, received_at: str) -> bytes:
    """Eingangsbestätigung: offer, case number, date, the entered data, fee."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"Eingangsbestätigung {document['case_number']}")
    canvas.setCreator("ozg-gateway")
    service = document["service"]
    pages = _Pages(canvas, f"Eingangsbestätigung {document['case_number']}")
    pages.text("Eingangsbestätigung", size=16, bold=True, gap=24)
    pages.text(service["office"]["name"], size=10, gap=16)
    pages.text(f"Leistung: {service['title']}", gap=16)
    pages.text(f"Fallnummer: {document['case_number']}", bold=True, gap=16)
    pages.text(f"Eingegangen am: {received_at}", gap=16)
    fee = int(document["fee"]["amount_cents"])
    euros = f"{fee // 100},{fee % 100:02d} €".replace(",00 €", ",00 €")
    pages.text(f"Gebühr: {euros}" if fee else "Gebühr: keine", gap=2 * ROW)
    pages.text("Ihre Angaben", bold=True, gap=18)
    for label, value in _lines({"Kontakt": document.get("applicant") or {}, **document["form"]}):
        for i in range(0, max(len(value), 1), 70):
            pages.text(
                f"{label[:45]:<45}  {value[i : i + 70]}"
                if i == 0
                else f"{'':<45}  {value[i : i + 70]}",
                size=8,
                gap=11,
            )
    if document.get("attachments"):
        pages.text("", gap=8)
        pages.text("Anlagen", bold=True, gap=18)
        for att in document["attachments"]:
            pages.text(
                f"{att['filename'][:60]}  ({att['size']} Bytes, SHA-256 {att['sha256'][:16]}…)",
                size=8,
                gap=11,
            )
    pages.finish()
    return buffer.getvalue()
