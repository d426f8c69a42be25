"""Load a catalogue TOML file and explain every error with its location."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ozg_gateway.catalog.models import Catalog
from ozg_gateway.errors import ConfigurationError
from ozg_gateway.forms.registry import FORM_MODELS


class CatalogError(ConfigurationError):
    """A catalogue is invalid; ``problems`` holds one located message per error."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))


def _location(data: Any, loc: Iterable[str | int]) -> str:
    """Render a pydantic location like ``offers[2] (id "kita") > fee > amount_cents``."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                label += f' (id "{node["id"]}")'
            parts[-1] = parts[-1] + label if parts else label
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(step)
    return " > ".join(parts) or "(top level)"


def load_catalog(path: Path, *, connectors: Collection[str] | None = None) -> Catalog:
    """Load and validate; ``connectors`` (names from the config) are checked against routes."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise CatalogError(path, ["file not found"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(path, [f"TOML syntax: {exc}"]) from exc
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{_location(data, [p for p in err['loc'] if isinstance(p, str | int)])}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise CatalogError(path, problems) from None
    problems = []
    for index, offer in enumerate(catalog.offers):
        where = f'offers[{index}] (id "{offer.id}")'
        model = FORM_MODELS.get(offer.form_model) if offer.form_model else None
        if offer.form_model and model is None:
            known = ", ".join(sorted(FORM_MODELS))
            problems.append(
                f"{where} > form_model: unknown form model {offer.form_model!r} (known: {known})"
            )
        elif model is not None:
            try:
                catalog._form_settings[offer.id] = model.parse_settings(offer.form_settings)
            except ValidationError as exc:
                problems += [
                    f"{where} > form_settings > "
                    f"{' > '.join(str(p) for p in err['loc'])}: {err['msg']}"
                    for err in exc.errors(include_input=False, include_url=False)
                ]
        if connectors is not None:
            for r_index, route in enumerate(offer.routes):
                if route not in connectors:
                    problems.append(
                        f"{where} > routes[{r_index}]: no connector named {route!r} in the config"
                    )
    if problems:
        raise CatalogError(path, problems)
    return catalog
