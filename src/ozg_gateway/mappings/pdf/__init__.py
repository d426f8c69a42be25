"""PDF forms that coexist with the online forms.

The fillable PDF (AcroForm) is generated from the same form model as the online form, so
they cannot drift apart: every leaf of the model's JSON Schema becomes one PDF field named by
its path (``kind.vornamen``, ``sorgeberechtigte.0.telefon``), plus ``applicant.*`` for the
contact. A filled PDF is read back into the same JSON shape and validated by the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FORM_MARKER = "ozg-gateway-form"
APPLICANT_PREFIX = "applicant"
FORM_PREFIX = "form"
MAX_REPEAT = 3  # list entries offered in the PDF when the schema sets no maximum
CHOOSE = "(bitte wählen)"  # first entry of every choice field: nothing chosen yet

Kind = Literal["text", "integer", "number", "boolean", "choice", "date", "time"]


@dataclass(frozen=True)
class PdfField:
    """One fillable field: dotted path, German label and section, kind, labelled options."""

    name: str
    label: str
    kind: Kind
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    required: bool = False
    hint: str = ""
    help: str = ""
    section: str = ""


def _without_null(node: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        merged = {k: v for k, v in node.items() if k != "anyOf"}
        return {**options[0], **merged}
    return node


_HINTS = {
    "date": "TT.MM.JJJJ",
    "time": "HH:MM",
    "email": "name@beispiel.de",
}


def _options(node: dict[str, Any], parent_labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    if "oneOf" in node:
        return tuple((str(o["const"]), str(o["title"])) for o in node["oneOf"])
    by = node.get("x-choices-by")
    if by:
        return tuple(
            (str(o["const"]), f"{parent_labels.get(parent, parent)}: {o['title']}")
            for parent, items in by["options"].items()
            for o in items
        )
    return ()


def fields_of(schema: dict[str, Any], prefix: str, *, required: bool = True) -> list[PdfField]:
    """Flatten a labelled form schema (``FormModel.json_schema``) into PDF fields.

    Labels, help and choices come from the schema, so the PDF says what the online form says;
    lists get as many entries as the schema allows (``maxItems``; ``MAX_REPEAT`` without one).
    """
    out: list[PdfField] = []
    labels_of: dict[str, dict[str, str]] = {}  # field path -> value -> label (for dependents)

    def walk(
        node: dict[str, Any], path: str, label: str, section: str, needed: bool, entry: bool = False
    ) -> None:
        node = _without_null(node)
        title = label if entry else str(node.get("title") or label)  # entries keep their number
        if node.get("type") == "object" or "properties" in node:
            req = set(node.get("required", []))
            for key, child in node.get("properties", {}).items():
                child_title = str(_without_null(child).get("title") or key)
                walk(
                    child,
                    f"{path}.{key}",
                    child_title if path == prefix else f"{title} – {child_title}",
                    section or child_title,
                    needed and key in req,
                )
            return
        if node.get("type") == "array":
            count = int(node.get("maxItems", MAX_REPEAT))
            item = node.get("items", {})
            item_title = str(item.get("title") or title)
            for i in range(count):
                walk(
                    item,
                    f"{path}.{i}",
                    f"{item_title} {i + 1}",
                    section,
                    needed and i < node.get("minItems", 0),
                    entry=True,
                )
            return
        help_text = str(node.get("description") or "")
        if node.get("const") is True or node.get("enum") == [True]:
            out.append(PdfField(path, label, "boolean", (), needed, "", help_text, section))
            return
        by = node.get("x-choices-by")
        parent_path = path.rsplit(".", 1)[0] + "." + by["field"] if by else ""
        options = _options(node, labels_of.get(parent_path, {}))
        if not options and "enum" in node:
            options = tuple((str(v), str(v)) for v in node["enum"])
        if options:
            labels_of[path] = dict(options)
            out.append(PdfField(path, label, "choice", options, needed, "", help_text, section))
            return
        fmt = str(node.get("format", ""))
        kind: Kind = {"boolean": "boolean", "integer": "integer", "number": "number"}.get(
            str(node.get("type")), "text"
        )  # type: ignore[assignment]
        if fmt in ("date", "time"):
            kind = fmt  # type: ignore[assignment]
        hint = _HINTS.get(fmt, "Dezimalzahl, z. B. 50,1466" if kind == "number" else "")
        out.append(PdfField(path, label, kind, (), needed, hint, help_text, section))

    walk(schema, prefix, prefix, "", required)
    return out
