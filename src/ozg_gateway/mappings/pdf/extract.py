"""Read a filled PDF form back into ``form_data`` and ``applicant`` (no validation here)."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ozg_gateway.mappings.pdf import APPLICANT_PREFIX, CHOOSE, FORM_MARKER, FORM_PREFIX, PdfField


class PdfFormError(ValueError):
    """The PDF cannot be used as a submission; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_marker(reader: PdfReader) -> dict[str, str]:
    """``offer`` and ``version`` from our keywords, or empty for foreign PDFs."""
    metadata = reader.metadata
    keywords = str(metadata.get("/Keywords", "")) if metadata is not None else ""
    if not keywords.startswith(FORM_MARKER):
        return {}
    return dict(part.split("=", 1) for part in keywords.split(";")[1:] if "=" in part)


def open_form(data: bytes) -> tuple[PdfReader, dict[str, str]]:
    """Open a PDF and check it is one of our forms, unencrypted and still fillable."""
    if not data.startswith(b"%PDF-"):
        raise PdfFormError("not_a_pdf", "Die Datei ist kein PDF.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfFormError(
                "encrypted", "Das PDF ist verschlüsselt; bitte ohne Kennwort speichern."
            )
        fields = reader.get_fields()
        info = read_marker(reader)
    except PdfFormError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
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
    return reader, info


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
            return float(text.replace(",", "."))
        except ValueError:
            return text
    return text


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
    reader: PdfReader, fields: list[PdfField]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Form data and applicant from a filled form."""
    values = reader.get_fields() or {}
    collected: dict[str, Any] = {}
    for field in fields:
        raw = values.get(field.name, {}).get("/V")
        value = _convert(field, raw)
        # Empty fields and unchecked boxes are left out: the model's defaults apply, and a
        # required box that is not ticked is reported as missing.
        if value is None or value is False:
            continue
        _assign(collected, field.name.split("."), value)
    tree = _lists(collected)
    form = tree.get(FORM_PREFIX, {}) if isinstance(tree, dict) else {}
    applicant = tree.get(APPLICANT_PREFIX) if isinstance(tree, dict) else None
    return form, applicant or None
