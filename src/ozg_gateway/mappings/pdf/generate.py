"""Generate the fillable PDF of an offer from its labelled form schema.

Labels, help texts and choices come from the form model (``forms``), so the PDF says what
the online form says. Accessibility as far as ReportLab allows (BITV 2.0): every field has a
German tooltip (``TU``, read by screen readers) with its label and help, the document
language is de-DE, the title is shown instead of the file name, fields are created in reading
order (the tab order). ReportLab writes no tagged PDF (no structure tree).
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from ozg_gateway.catalog.models import Offer
from ozg_gateway.forms.applicant import pdf_schema
from ozg_gateway.forms.registry import FormModel
from ozg_gateway.mappings.pdf import (
    APPLICANT_PREFIX,
    CHOOSE,
    FORM_MARKER,
    FORM_PREFIX,
    PdfField,
    fields_of,
)

LEFT, LABEL_W, FIELD_W, ROW = 50, 230, 265, 26
TOP, BOTTOM = A4[1] - 60, 60
FONT, BOLD = "Helvetica", "Helvetica-Bold"


def form_fields(model: FormModel, settings: Any = None) -> list[PdfField]:
    """Every field of the offer's PDF: applicant contact, then the form model's leaves."""
    applicant = [
        PdfField(
            f.name, f.label, f.kind, f.options, f.required, f.hint, f.help, "Ihre Kontaktdaten"
        )
        for f in fields_of(pdf_schema(), APPLICANT_PREFIX)
    ]
    return applicant + fields_of(model.json_schema(settings), FORM_PREFIX)


def form_version(model: FormModel) -> str:
    """Short fingerprint of the model's schema: a PDF of another version is recognised."""
    schema = json.dumps(model.json_schema(), sort_keys=True).encode()
    return hashlib.sha256(schema).hexdigest()[:12]


def marker(offer_id: str, version: str) -> str:
    """Keywords that identify our PDFs."""
    return f"{FORM_MARKER};offer={offer_id};version={version}"


class Pages:
    """A canvas that turns the page when the next block does not fit, with page numbers."""

    def __init__(self, canvas: Canvas, heading: str) -> None:
        self.c, self.heading, self.y, self.page = canvas, heading, TOP, 1

    def need(self, height: float) -> None:
        """Start a continuation page unless ``height`` still fits."""
        if self.y - height < BOTTOM:
            self._number()
            self.c.showPage()
            self.page += 1
            self.y = TOP
            self.c.setFont(BOLD, 10)
            self.c.drawString(LEFT, self.y, f"{self.heading} (Fortsetzung)")
            self.y -= 2 * ROW

    def _number(self) -> None:
        self.c.setFont(FONT, 8)
        self.c.drawRightString(A4[0] - LEFT, 30, f"Seite {self.page}")

    def text(self, text: str, *, size: int = 10, bold: bool = False, gap: float = ROW) -> None:
        """A paragraph, wrapped to the page width."""
        lines = simpleSplit(text, BOLD if bold else FONT, size, A4[0] - 2 * LEFT)
        lines = lines or [""]
        for i, line in enumerate(lines):
            self.need(gap)
            self.c.setFont(BOLD if bold else FONT, size)
            self.c.drawString(LEFT, self.y, line)
            self.y -= gap if i == len(lines) - 1 else size + 3

    def finish(self) -> None:
        """Number the last page and close the document."""
        self._number()
        self.c.showPage()
        self.c.save()


def new_canvas(buffer: io.BytesIO, title: str) -> Canvas:
    """An A4 canvas in German whose viewers show ``title``."""
    canvas = Canvas(buffer, pagesize=A4, lang="de-DE")
    canvas.setTitle(title)
    canvas.setCreator("ozg-gateway")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    return canvas


def _visible_label(field: PdfField) -> str:
    prefix = f"{field.section} – "
    label = field.label[len(prefix) :] if field.label.startswith(prefix) else field.label
    return label + (" *" if field.required else "")


def _tooltip(field: PdfField) -> str:
    parts = [field.label + (" (Pflichtfeld)" if field.required else "")]
    parts += [p for p in (field.help, f"Format: {field.hint}" if field.hint else "") if p]
    return ". ".join(parts)


def _widget(canvas: Canvas, field: PdfField, x: int, y: int) -> None:
    form, tip = canvas.acroForm, _tooltip(field)
    if field.kind == "boolean":
        form.checkbox(name=field.name, tooltip=tip, x=x, y=y, size=14, fieldFlags="")
    elif field.kind == "choice":
        form.choice(
            name=field.name,
            tooltip=tip,
            x=x,
            y=y,
            value=CHOOSE,
            options=[(CHOOSE, CHOOSE), *((label, value) for value, label in field.options)],
            width=FIELD_W,
            height=16,
            fontSize=9,
        )
    else:
        form.textfield(
            name=field.name,
            tooltip=tip,
            x=x,
            y=y,
            value="",
            width=FIELD_W,
            height=16,
            fontSize=9,
            maxlen=4000,
        )


def build_form_pdf(offer: Offer, model: FormModel, settings: Any = None) -> bytes:
    """Fillable AcroForm PDF for an offer, generated from its form model."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, offer.title)
    canvas.setSubject(offer.office.name)
    canvas.setKeywords(marker(offer.id, form_version(model)))
    pages = Pages(canvas, offer.title)
    pages.text(offer.title, size=14, bold=True, gap=20)
    pages.text(offer.office.name, size=9, gap=14)
    pages.text(
        "Bitte am Bildschirm ausfüllen, speichern und hochladen. Mit * markierte Felder sind "
        "Pflichtfelder. Datumsangaben als TT.MM.JJJJ, Uhrzeiten als HH:MM.",
        size=9,
        gap=2 * ROW,
    )
    section = None
    for field in form_fields(model, settings):
        if field.section != section:
            section = field.section
            pages.need(2 * ROW)
            pages.text(section, bold=True, gap=ROW)
        label = simpleSplit(_visible_label(field), FONT, 8, LABEL_W - 10)
        hint = field.hint and f"({field.hint})"
        pages.need(ROW + 9 * max(0, len(label) - 1))
        canvas.setFont(FONT, 8)
        for i, line in enumerate(label[:3]):
            canvas.drawString(LEFT, pages.y + 4 - 9 * i, line)
        if hint and len(label) < 2:
            canvas.drawString(LEFT, pages.y - 5, hint)
        _widget(canvas, field, LEFT + LABEL_W, int(pages.y - 4))
        pages.y -= ROW + 9 * max(0, min(len(label), 3) - 1)
    pages.finish()
    return buffer.getvalue()
