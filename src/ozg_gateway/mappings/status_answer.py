"""A back office's status answer over XTA (``urn:ozg-gateway:statusmeldung:1``), read (pure).

The format is ours: XTA has transport reports but no word for "in progress" or "something is
missing". ``schemas/statusmeldung-1.xsd`` beside this module describes it for back offices;
every answer is validated against it before it is read. Its states map onto the case's:

==================  ==================
Status              case status
==================  ==================
RECEIVED            received
PROCESSING          in_progress
ACTION_REQUIRED     action_required
COMPLETED           completed
abgelehnt           rejected
zurueckgezogen      withdrawn
==================  ==================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files

from lxml import etree

NS = "urn:ozg-gateway:statusmeldung:1"
STATES = {
    "RECEIVED": "received",
    "PROCESSING": "in_progress",
    "ACTION_REQUIRED": "action_required",
    "COMPLETED": "completed",
    "abgelehnt": "rejected",
    "zurueckgezogen": "withdrawn",
}
MAX_BYTES = 64 * 1024


class StatusAnswerError(ValueError):
    """The answer cannot be read; the message says why (German, for the console)."""


@dataclass(frozen=True)
class StatusAnswer:
    """What the office said, in the case's terms."""

    case_number: str
    status: str
    occurred_at: datetime
    note: str | None
    answer_id: str | None


@cache
def _schema() -> etree.XMLSchema:
    source = files("ozg_gateway.mappings").joinpath("schemas/statusmeldung-1.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source))


def parse_status_answer(data: bytes) -> StatusAnswer:
    """The answer in ``data``, validated against the schema (raises StatusAnswerError)."""
    if len(data) > MAX_BYTES:
        raise StatusAnswerError("Statusmeldung größer als 64 KB")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StatusAnswerError("Statusmeldung ist kein gültiges XML") from exc
    schema = _schema()
    if not schema.validate(root):
        first = schema.error_log.last_error
        where = f" (Zeile {first.line})" if first is not None else ""
        raise StatusAnswerError(f"Statusmeldung entspricht nicht dem Schema{where}")
    status = STATES[root.findtext(f"{{{NS}}}Status", "").strip()]
    note = root.findtext(f"{{{NS}}}Hinweis")
    if status in ("action_required", "rejected") and not note:
        raise StatusAnswerError("Statusmeldung ohne Hinweis an die antragstellende Person")
    when = datetime.fromisoformat(root.findtext(f"{{{NS}}}Zeitpunkt", "").strip())
    if when.tzinfo is None:
        raise StatusAnswerError("Zeitpunkt der Statusmeldung ohne Zeitzone")
    return StatusAnswer(
        case_number=root.findtext(f"{{{NS}}}Vorgangsnummer", "").strip(),
        status=status,
        occurred_at=when,
        note=note.strip() if note else None,
        answer_id=root.findtext(f"{{{NS}}}MeldungsId"),
    )


def build_status_answer(
    *, case_number: str, status: str, occurred_at: datetime, note: str | None = None
) -> bytes:
    """An answer as a back office writes one (for the simulator, the demo and tests)."""
    word = {case: ours for ours, case in STATES.items()}[status]
    root = etree.Element(f"{{{NS}}}Statusmeldung", nsmap={None: NS})
    etree.SubElement(root, f"{{{NS}}}Vorgangsnummer").text = case_number
    etree.SubElement(root, f"{{{NS}}}Status").text = word
    etree.SubElement(root, f"{{{NS}}}Zeitpunkt").text = occurred_at.isoformat()
    if note:
        etree.SubElement(root, f"{{{NS}}}Hinweis").text = note
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
