"""Form models per offer: the seam where each offer's own pydantic model plugs in.

A form model validates a portal's ``form_data`` (JSON or extracted from a PDF) and publishes
the JSON Schema portals render forms from. ``FORM_MODELS`` maps the catalogue's
``form_model`` names to models; offers without their own model yet use ``GenericForm``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    JsonValue,
    RootModel,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from ozg_gateway.errors import FieldError, field_errors_from_pydantic, pointer
from ozg_gateway.forms.labels import ITEM_TITLES
from ozg_gateway.forms.schema import (
    Options,
    inline,
    node_at,
    tidy,
    with_choices,
    with_order,
)


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
class AttachmentPurpose:
    """A kind of file an offer asks for: the ``purpose`` sent with the upload, its label."""

    purpose: str
    label: str
    required: bool = False
    help: str = ""
    images_only: bool = False


@dataclass(frozen=True)
class FormModel:
    """A named form model: validates form data and describes it as JSON Schema.

    ``settings`` validates the offer's ``form_settings`` from the catalogue (facilities, halls,
    categories ...); ``persons`` lists the people a case is about (for the case document);
    ``copies`` tells how many documents are ordered (for fees per copy); ``choices`` lists
    options that come from the settings (facilities with their names ...) for the form schema
    and the PDF form.
    """

    name: str
    model: type[BaseModel]
    title: str
    settings: type[BaseModel] | None = None
    persons: Callable[[dict[str, Any]], list[dict[str, Any]]] = _no_persons
    copies: Callable[[dict[str, Any]], int] = field(default=lambda form: 1)
    choices: Callable[[Any], dict[str, Options]] = field(default=lambda settings: {})
    attachments: tuple[AttachmentPurpose, ...] = ()

    def parse_settings(self, raw: dict[str, Any] | None) -> BaseModel | None:
        """Validate the offer's form settings (raises pydantic.ValidationError)."""
        if self.settings is None:
            return None
        return self.settings.model_validate(raw or {})

    def validate(self, data: object, *, context: FormContext) -> dict[str, Any]:
        """Validate and normalise; raise :class:`FormInvalid` with pointers under ``/form_data``.

        Every problem comes at once: when fields are invalid, the cross-field rules whose
        inputs are valid still run (see :func:`partial_violations`).
        """
        try:
            parsed = self.model.model_validate(data, context={"form": context})
        except ValidationError as exc:
            errors = _field_errors(exc, ("form_data",))
            if isinstance(data, dict):
                errors += partial_violations(self.model, data, exc, context)
            raise FormInvalid(self._in_words(errors, context)) from None
        dumped = parsed.model_dump(mode="json")
        return dumped if isinstance(dumped, dict) else {"value": dumped}

    def _in_words(self, errors: list[FieldError], context: FormContext) -> list[FieldError]:
        """Invalid choices are named by their labels (never their values), formats by the
        field's help text."""
        if not any(e.code in _WORDED for e in errors):
            return errors
        schema = self.json_schema(context.settings)
        result = []
        for error in errors:
            node = node_at(schema, error.pointer) if error.code in _WORDED else {}
            labels = [str(o["title"]) for o in node.get("oneOf", []) if "title" in o]
            if labels and error.code in ("literal_error", "enum"):
                words = ", ".join(labels[:-1]) + f" oder {labels[-1]}" if labels[1:] else labels[0]
                error = FieldError(error.pointer, error.code, f"Bitte wählen: {words}.")
            elif node.get("description") and error.code == "string_pattern_mismatch":
                error = FieldError(
                    error.pointer, error.code, f"Format ungültig. {node['description']}"
                )
            result.append(error)
        return result

    def json_schema(self, settings: BaseModel | None = None) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the form: German titles and help, labelled choices
        (the offer's ``settings`` add theirs), field order; self-contained (no ``$ref``)."""
        schema = inline(self.model.model_json_schema())
        schema["title"] = self.title
        schema.pop("description", None)
        schema = tidy(with_choices(schema, self.choices(settings)), ITEM_TITLES)
        return with_order(schema)  # type: ignore[no-any-return]


def partial_violations(
    model: type[BaseModel], data: dict[str, Any], exc: ValidationError, context: FormContext
) -> list[FieldError]:
    """Cross-field rules over the fields that are valid on their own.

    Pydantic runs a model's rules only when every field is valid, so a form with a bad field
    and a broken rule would need two round trips. Here every top-level field is validated
    alone, the valid ones form a partial model, and each rule runs unless it reads a field
    that is missing or invalid.
    """
    rules = getattr(model, "rule_violations", None)
    if rules is None:
        return []
    failed = {
        str(err["loc"][0])
        for err in exc.errors(include_input=False, include_url=False)
        if err["loc"] and not isinstance((err.get("ctx") or {}).get("error"), RuleViolations)
    }
    if not failed:
        return []  # only rules failed: they are in the first answer already
    valid: dict[str, Any] = {}
    for name in model.model_fields:
        if name in failed or name not in data:
            continue
        try:
            valid[name] = _adapter(model, name).validate_python(
                data[name], context={"form": context}
            )
        except ValidationError:
            failed.add(name)
    partial = model.model_construct(**valid)
    for name in failed:
        partial.__dict__.pop(name, None)  # reading it raises AttributeError: the rule is skipped
    return [
        FieldError(pointer(["form_data", *_steps(path)]), "rule", message)
        for path, message in partial.rule_violations(context, partial=True)  # type: ignore[attr-defined]
    ]


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split("/") if p]


_WORDED = frozenset({"literal_error", "enum", "string_pattern_mismatch"})


@functools.cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]


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
