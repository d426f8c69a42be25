"""Render a form from the gateway's form schema and read the posted fields back into JSON.

Everything a person reads comes from the schema: ``title`` and ``description`` per field,
choices from ``oneOf`` (``const``/``title``), dependent choices from ``x-choices-by`` (shown
grouped by the parent's label), the order from ``x-order``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXTRA_ENTRIES = 1  # empty list entries offered beyond the required ones


@dataclass
class Field:
    """One input: dotted name, German label and help, kind, choices, value, error."""

    name: str
    label: str
    help: str
    kind: str  # text, email, date, time, number, integer, checkbox, select, textarea
    required: bool
    options: list[tuple[str, str]] = field(default_factory=list)
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    value: str = ""
    error: str = ""

    @property
    def id(self) -> str:
        """The HTML id (error summary links point here)."""
        return "f-" + self.name.replace(".", "-")


@dataclass
class Group:
    """A fieldset: a nested object or one list entry."""

    name: str
    label: str
    help: str
    children: list[Field | Group] = field(default_factory=list)
    error: str = ""

    @property
    def id(self) -> str:
        """The HTML id of the fieldset."""
        return "g-" + self.name.replace(".", "-")


def _inner(node: Mapping[str, Any]) -> Mapping[str, Any]:
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        return {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    return node


def _kind(node: Mapping[str, Any]) -> str:
    if node.get("oneOf") or node.get("x-choices-by"):
        return "select"
    if node.get("type") == "boolean" or node.get("const") is True:
        return "checkbox"
    if node.get("format") in ("date", "time", "email"):
        return str(node["format"])
    if node.get("type") in ("number", "integer"):
        return str(node["type"])
    return "textarea" if int(node.get("maxLength", 0)) > 300 else "text"


def build(
    schema: Mapping[str, Any],
    name: str,
    label: str,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    required: bool = True,
) -> Group:
    """The form as groups and fields, filled with ``values`` and ``errors`` (by dotted name)."""
    node = _inner(schema)
    group = Group(name, label, str(node.get("description") or ""), error=errors.get(name, ""))
    properties = node.get("properties", {})
    needed = set(node.get("required", []))
    choices: dict[str, dict[str, str]] = {}
    for key in node.get("x-order", list(properties)):
        child = _inner(properties[key])
        path = f"{name}.{key}"
        title = str(child.get("title") or key)
        if child.get("type") == "object" or "properties" in child:
            group.children.append(
                build(child, path, title, values=values, errors=errors, required=key in needed)
            )
        elif child.get("type") == "array":
            item = _inner(child.get("items", {}))
            count = max(int(child.get("minItems", 0)), 1) + EXTRA_ENTRIES
            count = min(count, int(child.get("maxItems", count)))
            entries = Group(path, title, str(child.get("description") or ""))
            entries.error = errors.get(path, "")
            for i in range(count):
                entry_label = f"{item.get('title') or title} {i + 1}"
                entries.children.append(
                    build(item, f"{path}.{i}", entry_label, values=values, errors=errors)
                )
            group.children.append(entries)
        else:
            leaf = Field(
                path,
                title,
                str(child.get("description") or ""),
                _kind(child),
                key in needed and required,
                value=values.get(path, ""),
                error=errors.get(path, ""),
            )
            leaf.options = [(str(o["const"]), str(o["title"])) for o in child.get("oneOf", [])]
            choices[key] = dict(leaf.options)
            by = child.get("x-choices-by")
            if by:
                parents = choices.get(by["field"], {})
                leaf.groups = [
                    (parents.get(parent, parent), [(o["const"], o["title"]) for o in items])
                    for parent, items in by["options"].items()
                ]
            group.children.append(leaf)
    return group


def _typed(node: Mapping[str, Any], raw: str) -> Any:
    kind = _kind(node)
    if kind == "checkbox":
        return True
    if kind == "integer" and raw.strip().lstrip("-").isdigit():
        return int(raw)
    if kind == "number":
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            return raw
    return raw


def parse(schema: Mapping[str, Any], name: str, posted: Mapping[str, str]) -> Any:
    """The JSON value of a (sub)form from posted fields; empty fields and entries are left out."""
    node = _inner(schema)
    if node.get("type") == "object" or "properties" in node:
        result: dict[str, Any] = {}
        for key, child in node.get("properties", {}).items():
            value = parse(child, f"{name}.{key}", posted)
            if value not in (None, {}, []):
                result[key] = value
        return result
    if node.get("type") == "array":
        entries = []
        i = 0
        while any(k.startswith(f"{name}.{i}.") or k == f"{name}.{i}" for k in posted):
            value = parse(node.get("items", {}), f"{name}.{i}", posted)
            if value not in (None, {}, []):
                entries.append(value)
            i += 1
        return entries
    raw = posted.get(name, "").strip()
    return _typed(node, raw) if raw else None


def errors_by_name(problem_errors: list[dict[str, str]]) -> dict[str, str]:
    """Problem pointers (``/form_data/kind/vornamen``) as dotted field names."""
    result: dict[str, str] = {}
    for error in problem_errors:
        pointer = str(error.get("pointer", ""))
        steps = [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]
        if steps and steps[0] == "form_data":
            steps[0] = "form"
        name = ".".join(steps) or "form"
        result.setdefault(name, str(error.get("detail", "")))
    return result


def leaves(group: Group) -> list[Field | Group]:
    """Every field and group with an error, in the form's order (for the error summary)."""
    found: list[Field | Group] = [group] if group.error else []
    for child in group.children:
        if isinstance(child, Group):
            found += leaves(child)
        elif child.error:
            found.append(child)
    return found
