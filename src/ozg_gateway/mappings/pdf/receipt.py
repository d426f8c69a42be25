"""The receipt (Eingangsbestätigung): what a citizen keeps as proof of the application.

Every value is shown under its German label from the form schema, choices by their labels,
dates as TT.MM.JJJJ, times in Europe/Berlin; the case number stands at the top.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.utils import simpleSplit

from ozg_gateway.forms.applicant import Applicant
from ozg_gateway.mappings.pdf.generate import BOLD, FONT, LEFT, Pages, new_canvas

BERLIN = ZoneInfo("Europe/Berlin")
LABEL_COL, VALUE_X, VALUE_W = 190, LEFT + 200, 295
PAYMENT_WORDS = {
    "paid": "bezahlt",
    "open": "noch nicht bezahlt",
    "failed": "Zahlung fehlgeschlagen",
    "canceled": "Zahlung abgebrochen",
    "expired": "Zahlung abgelaufen",
    "refunded": "erstattet",
}
LEVELS = {
    "substantiell": "substanziell",
    "substantial": "substanziell",
    "hoch": "hoch",
    "high": "hoch",
    "normal": "normal",
}


@dataclass(frozen=True)
class ReceiptFacts:
    """What the receipt says besides the case document."""

    received_at: datetime
    payment_status: str | None = None  # of the latest payment attempt
    paid_at: datetime | None = None


def local(moment: datetime) -> str:
    """``01.12.2026, 14:05 Uhr`` in Europe/Berlin."""
    return moment.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M Uhr")


def euro(cents: int) -> str:
    """``1.234,50 €``."""
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d} €"


def _value(node: Mapping[str, Any], value: Any, siblings: Mapping[str, Any]) -> str:
    for option in node.get("oneOf", []):
        if option.get("const") == value:
            return str(option["title"])
    by = node.get("x-choices-by")
    if by:
        for option in by["options"].get(str(siblings.get(by["field"])), []):
            if option["const"] == value:
                return str(option["title"])
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if node.get("format") == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    if node.get("format") == "time" and isinstance(value, str):
        return value[:5] + " Uhr"
    if isinstance(value, float):
        return f"{value}".replace(".", ",")
    return str(value)


def _inner(node: Mapping[str, Any]) -> Mapping[str, Any]:
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    return {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}} if options else node


Row = tuple[str, str | None, int]  # label, value (None: a group heading), depth


def labelled_lines(
    schema: Mapping[str, Any], data: Any, label: str = "", depth: int = 0
) -> Iterator[Row]:
    """Every filled field in the form's order under its label; groups as headings."""
    node = _inner(schema)
    if isinstance(data, Mapping):
        properties = node.get("properties", {})
        for key in node.get("x-order", list(properties)):
            if key not in data or data[key] in (None, "", [], {}):
                continue
            child = _inner(properties.get(key, {}))
            title = str(child.get("title") or key)
            if isinstance(data[key], Mapping):
                yield title, None, depth
                yield from labelled_lines(child, data[key], title, depth + 1)
            elif isinstance(data[key], list):
                yield from labelled_lines(child, data[key], title, depth)
            else:
                yield title, _value(child, data[key], data), depth
    elif isinstance(data, list):
        item = node.get("items", {})
        for i, entry in enumerate(data, 1):
            if isinstance(entry, Mapping):
                yield f"{item.get('title') or label} {i}", None, depth
                yield from labelled_lines(item, entry, label, depth + 1)
            else:
                yield f"{item.get('title') or label} {i}", _value(item, entry, {}), depth


def build_receipt_pdf(
    document: Mapping[str, Any], *, form_schema: Mapping[str, Any], facts: ReceiptFacts
) -> bytes:
    """Eingangsbestätigung: case number, office, time, fee and payment, identification, the
    entered data under their labels, the attachments."""
    buffer = io.BytesIO()
    number = document["case_number"]
    canvas = new_canvas(buffer, f"Eingangsbestätigung {number}")
    service = document["service"]
    pages = Pages(canvas, f"Eingangsbestätigung {number}")
    pages.text("Eingangsbestätigung", size=16, bold=True, gap=24)
    pages.text(f"Ihre Vorgangsnummer: {number}", size=13, bold=True, gap=20)
    pages.text(
        "Bitte geben Sie diese Nummer bei Rückfragen an. Ihr Antrag ist bei uns eingegangen "
        "und wird bearbeitet.",
        size=9,
        gap=20,
    )
    rows: list[Row] = [
        ("Leistung", service["title"], 0),
        ("Zuständig", service["office"]["name"], 0),
        ("Eingegangen am", local(facts.received_at), 0),
    ]
    fee = int(document["fee"]["amount_cents"])
    if fee:
        state = PAYMENT_WORDS.get(facts.payment_status or "", "noch nicht bezahlt")
        if facts.payment_status == "paid" and facts.paid_at:
            state += f" am {local(facts.paid_at)}"
        rows.append(("Gebühr", f"{euro(fee)} – {state}", 0))
    else:
        rows.append(("Gebühr", "keine", 0))
    identity = document.get("identity")
    if identity:
        level = LEVELS.get(str(identity.get("level", "")).lower(), str(identity.get("level", "")))
        rows.append(("Identifizierung", f"Online-Ausweis (eID), Vertrauensniveau {level}", 0))
    else:
        rows.append(("Identifizierung", "keine", 0))
    _table(pages, rows)
    applicant = document.get("applicant")
    if applicant:
        pages.text("", gap=6)
        pages.text("Ihre Kontaktdaten", bold=True, gap=18)
        _table(pages, list(labelled_lines(Applicant.model_json_schema(), applicant)))
    pages.text("", gap=6)
    pages.text("Ihre Angaben", bold=True, gap=18)
    _table(pages, list(labelled_lines(form_schema, document["form"])))
    if document.get("attachments"):
        pages.text("", gap=6)
        pages.text("Anlagen", bold=True, gap=18)
        _table(
            pages,
            [
                (a["filename"], f"{max(1, round(a['size'] / 1024))} KB", 1)
                for a in document["attachments"]
            ],
        )
    pages.finish()
    return buffer.getvalue()


def _table(pages: Pages, rows: list[Row]) -> None:
    """Labels left (indented by their group), values in one aligned column."""
    canvas = pages.c
    for label, value, depth in rows:
        indent = 8 + 10 * depth
        if value is None:
            pages.need(28)
            canvas.setFont(BOLD, 9)
            canvas.drawString(LEFT + indent, pages.y, label)
            pages.y -= 13
            continue
        labels = simpleSplit(label, FONT, 9, LABEL_COL - indent)
        values = simpleSplit(value, FONT, 9, VALUE_W)
        height = 11 * max(len(labels), len(values), 1)
        pages.need(height + 3)
        canvas.setFont(FONT, 9)
        for i, line in enumerate(labels):
            canvas.drawString(LEFT + indent, pages.y - 11 * i, line)
        for i, line in enumerate(values):
            canvas.drawString(VALUE_X, pages.y - 11 * i, line)
        pages.y -= height + 3
