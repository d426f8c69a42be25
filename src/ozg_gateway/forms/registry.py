"""Form models per offer: the seam where each offer's own pydantic model plugs in.

A form model validates a portal's ``form_data`` (JSON or extracted from a PDF) and publishes
the JSON Schema portals render forms from. ``FORM_MODELS`` maps the catalogue's
``form_model`` names to models; offers without their own model yet use ``GenericForm``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue, RootModel, ValidationError, field_validator

from ozg_gateway.errors import FieldError, field_errors_from_pydantic, pointer


@dataclass(frozen=True)
class FormContext:
    """What validation may depend on besides the data: today's date and the offer's settings."""

    today: date
    settings: BaseModel | None = None


class RuleViolations(ValueError):
    """Raised by a model validator for cross-field rules; each item is (path, German message).

    Paths are relative to the model (``"wunscheinrichtungen/0/einrichtung_id"``), so every
    violation reaches the portal with its own JSON pointer.
    """

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in violations))
        self.violations = violations


def check(violations: list[tuple[str, str]]) -> None:
    """Raise RuleViolations if there are any."""
    if violations:
        raise RuleViolations(violations)


def _field_errors(exc: ValidationError, prefix: tuple[str, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    plain: list[Any] = []
    for err in exc.errors(include_input=False, include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, RuleViolations):
            for path, message in cause.violations:
                steps = [int(p) if p.isdigit() else p for p in path.split("/") if p]
                loc = [*prefix, *err["loc"], *steps]
                errors.append(FieldError(pointer(loc), "rule", message))
        else:
            plain.append(err)
    return field_errors_from_pydantic(plain, prefix=prefix) + errors


class GenericForm(RootModel[dict[str, JsonValue]]):
    """Any non-empty JSON object with short, plain keys (until an offer has its own model)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @field_validator("root")
    @classmethod
    def _non_empty(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if not value:
            raise ValueError("Formular ist leer.")
        bad = [k for k in value if not k or len(k) > 64]
        if bad:
            raise ValueError("Feldnamen müssen 1 bis 64 Zeichen lang sein.")
        return value


def _no_persons(form: dict[str, Any]) -> list[dict[str, Any]]:
    return []


@dataclass(frozen=True)
class FormModel:
    """A named form model: validates form data and describes it as JSON Schema.

    ``settings`` validates the offer's ``form_settings`` from the catalogue (facilities, halls,
    categories ...); ``persons`` lists the people a case is about (for the case document);
    ``copies`` tells how many documents are ordered (for fees per copy); ``choices`` lists
    options that come from the settings (facility ids ...) for the PDF form.
    """

    name: str
    model: type[BaseModel]
    title: str
    settings: type[BaseModel] | None = None
    persons: Callable[[dict[str, Any]], list[dict[str, Any]]] = _no_persons
    copies: Callable[[dict[str, Any]], int] = field(default=lambda form: 1)
    choices: Callable[[Any], dict[str, tuple[str, ...]]] = field(default=lambda settings: {})

    def parse_settings(self, raw: dict[str, Any] | None) -> BaseModel | None:
        """Validate the offer's form settings (raises pydantic.ValidationError)."""
        if self.settings is None:
            return None
        return self.settings.model_validate(raw or {})

    def validate(self, data: object, *, context: FormContext) -> dict[str, Any]:
        """Validate and normalise; raise :class:`FormInvalid` with pointers under ``/form_data``."""
        try:
            parsed = self.model.model_validate(data, context={"form": context})
        except ValidationError as exc:
            raise FormInvalid(_field_errors(exc, ("form_data",))) from None
        dumped = parsed.model_dump(mode="json")
        return dumped if isinstance(dumped, dict) else {"value": dumped}

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the form."""
        schema = self.model.model_json_schema()
        schema.setdefault("title", self.title)
        return schema


class FormInvalid(Exception):
    """Form data failed validation; ``errors`` point into the request body."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


FORM_MODELS: dict[str, FormModel] = {}


def register(model: FormModel) -> FormModel:
    """Register a form model under its name (one per offer package)."""
    FORM_MODELS[model.name] = model
    return model


register(FormModel(name="generic", model=GenericForm, title="Formular"))

# One package per offer; importing it registers its model.
OFFER_MODULES = (
    "ozg_gateway.forms.kita",
    "ozg_gateway.forms.urkunde",
    "ozg_gateway.forms.halle",
    "ozg_gateway.forms.aem",
)


def load_offer_models() -> None:
    """Import the per-offer packages (idempotent)."""
    for module in OFFER_MODULES:
        importlib.import_module(module)


load_offer_models()
