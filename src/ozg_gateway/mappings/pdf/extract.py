"""Read a filled PDF form back into ``form_data`` and ``applicant`` (no validation here)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from ozg_gateway.mappings.pdf import APPLICANT_PREFIX, CHOOSE, FORM_MARKER, FORM_PREFIX, PdfField


class PdfFormError(ValueError):
    """The PDF cannot be used as a submission; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Actions that run code or programs in a viewer; forms and attachments with them are refused
# (stripping them could silently change what a citizen signed off).
_ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "Programmstart"}
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript"}
_RAW_TOKENS = {b"/JavaScript": "JavaScript", b"/JS": "JavaScript", b"/Launch": "Programmstart"}
_MAX_OBJECTS = 200_000


@dataclass(frozen=True)
class PdfInspection:
    """What a PDF says about itself: our marker, its field values, any active content."""

    info: dict[str, str]
    values: dict[str, str | None]
    active: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (it crosses a process boundary)."""
        return {"info": self.info, "values": self.values, "active": list(self.active)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PdfInspection:
        """Inverse of :meth:`to_json`."""
        return cls(dict(data["info"]), dict(data["values"]), tuple(data["active"]))


def read_marker(reader: PdfReader) -> dict[str, str]:
    """``offer`` and ``version`` from our keywords, or empty for foreign PDFs."""
    metadata = reader.metadata
    keywords = str(metadata.get("/Keywords", "")) if metadata is not None else ""
    if not keywords.startswith(FORM_MARKER):
        return {}
    return dict(part.split("=", 1) for part in keywords.split(";")[1:] if "=" in part)


def active_content(reader: PdfReader) -> tuple[str, ...]:
    """Kinds of active content reachable from the trailer (JavaScript, launch actions)."""
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            ref = (node.idnum, node.generation)
            if ref in seen:
                continue
            seen.add(ref)
            node = node.get_object()
        visited += 1
        if visited > _MAX_OBJECTS:
            raise PdfFormError("too_complex", "Das PDF ist zu komplex, um es zu prüfen.")
        if isinstance(node, DictionaryObject):
            action = node.get("/S")
            if action in _ACTIVE_ACTIONS:
                found.add(_ACTIVE_ACTIONS[str(action)])
            found.update(label for key, label in _ACTIVE_KEYS.items() if key in node)
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return tuple(sorted(found))


def raw_active_content(data: bytes) -> tuple[str, ...]:
    """Active-content names written plainly in the bytes (for PDFs pypdf cannot read)."""
    return tuple(sorted({label for token, label in _RAW_TOKENS.items() if token in data}))


def _open(data: bytes) -> PdfReader:
    if not data.startswith(b"%PDF-"):
        raise PdfFormError("not_a_pdf", "Die Datei ist kein PDF.")
    return PdfReader(io.BytesIO(data), strict=False)


def open_form(data: bytes) -> PdfInspection:
    """Open a PDF and check it is one of our forms, unencrypted, still fillable and inert.

    Parses untrusted input with unbounded cost: run it in the sandbox (``inspect_form``).
    """
    try:
        reader = _open(data)
        if reader.is_encrypted:
            raise PdfFormError(
                "encrypted", "Das PDF ist verschlüsselt; bitte ohne Kennwort speichern."
            )
        fields = reader.get_fields()
        info = read_marker(reader)
        active = active_content(reader)
    except PdfFormError:
        raise
    except Exception as exc:  # pypdf raises many types (limits, recursion, decoding) on bad input
        raise PdfFormError(
            "corrupt", "Das PDF ist beschädigt und kann nicht gelesen werden."
        ) from exc
    if not info:
        raise PdfFormError(
            "foreign", "Dieses PDF ist kein Formular der Stadt (Herkunft unbekannt)."
        )
    if not fields:
        raise PdfFormError(
            "flattened", "Das PDF enthält keine ausfüllbaren Felder mehr (z. B. gedruckt als PDF)."
        )
    if active:
        raise active_content_error(active)
    values = {name: _text(f.get("/V")) for name, f in fields.items()}
    return PdfInspection(info=info, values=values, active=active)


def active_content_error(kinds: tuple[str, ...]) -> PdfFormError:
    """The refusal of a PDF with active content."""
    return PdfFormError(
        "active_content",
        f"Das PDF enthält aktive Inhalte ({', '.join(kinds)}) und wird aus "
        "Sicherheitsgründen nicht angenommen; bitte ohne Skripte speichern.",
    )


def inspect_attachment(data: bytes) -> dict[str, Any]:
    """Active content of an attached PDF; one pypdf cannot read is checked byte-wise only."""
    try:
        kinds = active_content(_open(data))
    except Exception:  # noqa: BLE001 - pypdf failing is no verdict on the file: viewers differ
        kinds = raw_active_content(data)
    return {"active": list(kinds)}


def inspect_form(data: bytes) -> dict[str, Any]:
    """:func:`open_form` as JSON for the sandbox: the inspection, or the error code."""
    try:
        return {"ok": open_form(data).to_json()}
    except PdfFormError as exc:
        return {"error": exc.code, "message": str(exc)}


def _text(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def _convert(field: PdfField, raw: Any) -> Any:
    text = str(raw).strip() if raw is not None else ""
    if field.kind == "boolean":
        return text not in ("", "/Off", "Off", "false")
    if text in ("", "/Off", CHOOSE):
        return None
    if field.kind == "integer":
        try:
            return int(text)
        except ValueError:
            return text  # the model reports it with a pointer
    if field.kind == "number":
        try:
            return float(text.replace(".", "").replace(",", ".") if "," in text else text)
        except ValueError:
            return text
    if field.kind == "date":
        return _iso_date(text)
    if field.kind == "time":
        return _GERMAN_TIME.sub(r"\1:\2", text)
    return text


_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_GERMAN_TIME = re.compile(r"^(\d{1,2})[.:](\d{2})(?:\s*Uhr)?$")


def _iso_date(text: str) -> str:
    """``01.06.2025`` (as Germans write it) or ISO ``2025-06-01``; anything else is left for
    the model to report."""
    match = _GERMAN_DATE.match(text)
    if match is None:
        return text
    day, month, year = (int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _assign(target: dict[str, Any], path: list[str], value: Any) -> None:
    node: Any = target
    for step in path[:-1]:
        key: Any = int(step) if step.isdigit() else step
        node = node.setdefault(key, {})
    last = path[-1]
    node[int(last) if last.isdigit() else last] = value


def _lists(value: Any) -> Any:
    """Dicts keyed 0, 1, ... become lists; entries left empty are dropped."""
    if not isinstance(value, dict):
        return value
    converted = {k: _lists(v) for k, v in value.items()}
    if converted and all(isinstance(k, int) for k in converted):
        return [converted[k] for k in sorted(converted) if converted[k] not in ({}, None, [])]
    return {k: v for k, v in converted.items() if v not in ({}, None, [])}


def extract(
    inspection: PdfInspection, fields: list[PdfField]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Form data and applicant from a filled form."""
    collected: dict[str, Any] = {}
    for field in fields:
        value = _convert(field, inspection.values.get(field.name))
        # Empty fields and unchecked boxes are left out: the model's defaults apply, and a
        # required box that is not ticked is reported as missing.
        if value is None or value is False:
            continue
        _assign(collected, field.name.split("."), value)
    tree = _lists(collected)
    form = tree.get(FORM_PREFIX, {}) if isinstance(tree, dict) else {}
    applicant = tree.get(APPLICANT_PREFIX) if isinstance(tree, dict) else None
    return form, applicant or None
