"""The form schema portals render from: self-contained, German, with labelled choices.

``$ref`` are inlined (no recursion exists in form models), every object lists its field
order in ``x-order``, and choices that come from the offer's settings (facilities, halls,
categories) are added as ``oneOf`` — or, when they depend on another field (the sections of
the chosen hall), as ``x-choices-by``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Option:
    """One choice: the value sent, the label shown, and the parent value it belongs to."""

    value: str
    label: str
    parent: str | None = None


@dataclass(frozen=True)
class Options:
    """The choices of one field; ``depends_on`` names the field their ``parent`` refers to."""

    items: tuple[Option, ...]
    depends_on: str | None = None
    parent_labels: Mapping[str, str] = field(default_factory=dict)

    def flat(self) -> list[tuple[str, str]]:
        """(value, label) pairs; dependent labels carry their parent's label first."""
        if self.depends_on is None:
            return [(o.value, o.label) for o in self.items]
        return [
            (o.value, f"{self.parent_labels.get(o.parent or '', o.parent)}: {o.label}")
            for o in self.items
        ]


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve every ``$ref`` into ``$defs`` and drop ``$defs``."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = walk(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
            # a model's title is its class name and its description a docstring for
            # developers: the field's own German title and help stand for it
            # (pydantic leaves the field's title out when it equals the model's: keep that one)
            target.pop("description", None)
            rest = {k: walk(v) for k, v in node.items() if k != "$ref"}
            if "title" in rest:
                target.pop("title", None)
            return {**target, **rest}
        return {k: walk(v) for k, v in node.items() if k != "$defs"}

    result = walk(schema)
    assert isinstance(result, dict)
    return result


def _without_null(node: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an optional field (``anyOf: [X, null]``), with the field's keys."""
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1 and len(node.get("anyOf", [])) == 2:
        return {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    return node


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node of an inlined schema with its dotted path (``*`` for list items)."""
    node = _without_null(schema)
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from nodes(child, f"{path}.{key}" if path else key)
    if isinstance(node.get("items"), dict):
        yield from nodes(node["items"], f"{path}.*")


def _target(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for step in path.split("."):
        if node is None:
            return None
        inner = _without_null(node)
        if inner is not node:  # optional: annotate the non-null branch in place
            node = next(o for o in node["anyOf"] if o.get("type") != "null")
        node = node.get("items") if step == "*" else node.get("properties", {}).get(step)
    if node is not None and "anyOf" in node:
        return next((o for o in node["anyOf"] if o.get("type") != "null"), node)
    return node


def with_choices(schema: dict[str, Any], choices: Mapping[str, Options]) -> dict[str, Any]:
    """Add the settings' choices at their paths."""
    result = copy.deepcopy(schema)
    for path, options in choices.items():
        node = _target(result, path)
        if node is None:
            continue
        if options.depends_on is None:
            node["oneOf"] = [{"const": o.value, "title": o.label} for o in options.items]
        else:
            grouped: dict[str, list[dict[str, str]]] = {}
            for o in options.items:
                grouped.setdefault(o.parent or "", []).append({"const": o.value, "title": o.label})
            node["x-choices-by"] = {"field": options.depends_on, "options": grouped}
    return result


def tidy(node: Any, item_titles: Mapping[str, str]) -> Any:
    """Titles where people read them: list items named by ``item_titles`` (by the list's
    field name), none on the inner branch of an optional field (the field has its own)."""
    if isinstance(node, list):
        for item in node:
            tidy(item, item_titles)
    elif isinstance(node, dict):
        for name, child in (node.get("properties") or {}).items():
            for branch in child.get("anyOf", []):
                branch.pop("title", None)
            inner = _without_null(child)
            if isinstance(inner.get("items"), dict):
                target = (
                    inner["items"]
                    if inner is child
                    else next(o for o in child["anyOf"] if o.get("type") != "null")["items"]
                )
                target["title"] = item_titles[name]
        for value in node.values():
            tidy(value, item_titles)
    return node


def with_order(node: Any) -> Any:
    """``x-order`` on every object: the order fields are asked in."""
    if isinstance(node, list):
        for item in node:
            with_order(item)
    elif isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            node["x-order"] = list(node["properties"])
        for value in node.values():
            with_order(value)
    return node


def node_at(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The schema of the field a JSON pointer (below ``/form_data``) names ({} if none)."""
    steps = [s for s in pointer.split("/")[2:] if s]
    path = ".".join("*" if s.isdigit() else s for s in steps)
    return next((node for where, node in nodes(schema) if where == path), {})
