"""Building blocks shared by the offers' form models (German field names, German messages)."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo

from ozg_gateway.forms.registry import FormContext

_NO_MARKUP = re.compile(r"<\s*[a-zA-Z/!?]")


class Form(BaseModel):
    """Base of every form model: unknown fields are errors, surrounding blanks are dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Name = Annotated[str, Field(min_length=1, max_length=100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Telefon = Annotated[str, Field(pattern=r"^\+?[0-9 ()/\-]{5,30}$", title="Telefon")]


class Anschrift(Form):
    """Postal address in Germany (or abroad with country code)."""

    strasse: Name = Field(title="Straße")
    hausnummer: str = Field(min_length=1, max_length=10, title="Hausnummer")
    plz: str = Field(pattern=r"^[0-9A-Z\- ]{4,10}$", title="Postleitzahl")
    ort: Name = Field(title="Ort")
    land: str = Field(default="DE", pattern=r"^[A-Z]{2}$", title="Staat (ISO 3166)")


class Kontaktperson(Form):
    """A person to contact."""

    vornamen: Name = Field(title="Vorname(n)")
    familienname: Name = Field(title="Familienname")
    telefon: Telefon | None = None
    email: EmailStr | None = Field(default=None, title="E-Mail")


class Geschlecht(StrEnum):
    """Gender as in German registers."""

    weiblich = "weiblich"
    maennlich = "maennlich"
    divers = "divers"
    ohne_angabe = "ohne_angabe"


def context_of(info: ValidationInfo) -> FormContext:
    """The FormContext handed to ``model_validate`` (tests may validate without one)."""
    ctx = (info.context or {}).get("form") if info.context else None
    return ctx if isinstance(ctx, FormContext) else FormContext(today=date.today())


def settings_of(info: ValidationInfo, default: Any) -> Any:
    """The offer's validated form settings, or the model's defaults."""
    settings = context_of(info).settings
    return settings if settings is not None else default


def plain_text(value: str) -> str:
    """Reject markup: descriptions end up in back-office systems and e-mails."""
    if _NO_MARKUP.search(value):
        raise ValueError("Bitte keinen HTML-Code eingeben.")
    return value


def age_on(birth: date, day: date) -> int:
    """Completed years of life on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
