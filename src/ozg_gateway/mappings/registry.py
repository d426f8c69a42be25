"""Form models per offer: the seam where each offer's own pydantic model plugs in.

A form model validates a portal's ``form_data`` (JSON or extracted from a PDF) and publishes
the JSON Schema portals render forms from. ``FORM_MODELS`` maps the catalogue's
``form_model`` names to models; offers without their own model yet use ``GenericForm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue, RootModel, ValidationError, field_validator

from ozg_gateway.errors import FieldError, field_errors_from_pydantic


@dataclass(frozen=True)
class FormContext:
    """What validation may depend on besides the data: today's date and offer settings."""

    today: date
    settings: dict[str, Any] = field(default_factory=dict)


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


@dataclass(frozen=True)
class FormModel:
    """A named form model: validates form data and describes it as JSON Schema."""

    name: str
    model: type[BaseModel]
    title: str

    def validate(self, data: object, *, context: FormContext) -> dict[str, Any]:
        """Validate and normalise; raise :class:`FormInvalid` with pointers under ``/form_data``."""
        try:
            parsed = self.model.model_validate(data, context={"form": context})
        except ValidationError as exc:
            raise FormInvalid(
                field_errors_from_pydantic(
                    exc.errors(include_input=False, include_url=False), prefix=("form_data",)
                )
            ) from None
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


for _name, _title in (
    ("generic", "Formular"),
    ("kita-anmeldung", "Anmeldung Kindertagesbetreuung"),
    ("personenstandsurkunde", "Bestellung einer Personenstandsurkunde"),
    ("hallenbelegung", "Antrag auf Hallenbelegung"),
    ("aem-meldung", "Meldung / Anregung"),
):
    register(FormModel(name=_name, model=GenericForm, title=_title))
