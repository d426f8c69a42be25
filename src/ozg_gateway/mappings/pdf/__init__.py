"""PDF forms that coexist with the online forms.

The fillable PDF (AcroForm) is generated from the same form model as the online form, so
they cannot drift apart: every leaf of the model's JSON Schema becomes one PDF field named by
its path (``kind.vornamen``, ``sorgeberechtigte.0.telefon``), plus ``applicant.*`` for the
contact. A filled PDF is read back into the same JSON shape and validated by the same model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

FORM_MARKER = "ozg-gateway-form"
APPLICANT_PREFIX = "applicant"
FORM_PREFIX = "form"
MAX_REPEAT = 3  # list entries offered in the PDF when the schema has no smaller maximum
CHOOSE = "(bitte wählen)"  # first entry of every choice field: nothing chosen yet

Kind = Literal["text", "integer", "number", "boolean", "choice"]


@dataclass(frozen=True)
class PdfField:
    """One fillable field: dotted path, label, kind, options for choices."""

    name: str
    label: str
    kind: Kind
    options: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        merged = {k: v for k, v in node.items() if k != "anyOf"}
        return {**_resolve(options[0], defs), **merged}
    if "allOf" in node and len(node["allOf"]) == 1:
        return {
            **_resolve(node["allOf"][0], defs),
            **{k: v for k, v in node.items() if k != "allOf"},
        }
    return node


_HINTS = {"date": "JJJJ-MM-TT", "time": "HH:MM", "email": "name@beispiel.de"}


def fields_of(
    schema: dict[str, Any],
    prefix: str,
    *,
    required: bool = True,
    choices: dict[str, tuple[str, ...]] | None = None,
) -> list[PdfField]:
    """Flatten a JSON Schema (as pydantic writes it) into PDF fields.

    ``choices`` turns text fields into choice fields, keyed by path below ``prefix`` with
    ``*`` for list positions (``wunscheinrichtungen.*.einrichtung_id``): options that come
    from the offer's settings rather than from the schema.
    """
    choices = choices or {}
    defs = schema.get("$defs", {})
    out: list[PdfField] = []

    def walk(node: dict[str, Any], path: str, label: str, needed: bool) -> None:
        node = _resolve(node, defs)
        title = node.get("title") or label
        if node.get("type") == "object" or "properties" in node:
            req = set(node.get("required", []))
            for key, child in node.get("properties", {}).items():
                walk(child, f"{path}.{key}", key.replace("_", " "), needed and key in req)
            return
        if node.get("type") == "array":
            count = min(int(node.get("maxItems", MAX_REPEAT)), MAX_REPEAT)
            for i in range(count):
                walk(
                    node.get("items", {}),
                    f"{path}.{i}",
                    f"{title} {i + 1}",
                    needed and i < node.get("minItems", 0),
                )
            return
        if "enum" in node or "const" in node:
            values = [str(v) for v in node.get("enum", [node.get("const")])]
            if node.get("const") is True or values == ["True"]:
                out.append(PdfField(path, title, "boolean", required=needed))
            else:
                out.append(PdfField(path, title, "choice", tuple(values), needed))
            return
        pattern = re.sub(r"\.\d+(?=\.|$)", ".*", path.split(".", 1)[-1])
        if pattern in choices:
            out.append(PdfField(path, title, "choice", choices[pattern], needed))
            return
        kind: Kind = {"boolean": "boolean", "integer": "integer", "number": "number"}.get(
            str(node.get("type")), "text"
        )  # type: ignore[assignment]
        out.append(
            PdfField(
                path, title, kind, required=needed, hint=_HINTS.get(node.get("format", ""), "")
            )
        )

    walk(schema, prefix, prefix, required)
    return out
