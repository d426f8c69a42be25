"""Building blocks shared by the offers' form models (German field names, German messages)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, model_validator

from ozg_gateway.forms.labels import Choice, field_title
from ozg_gateway.forms.registry import FormContext
from ozg_gateway.forms.registry import check as check_all

_NO_MARKUP = re.compile(r"<\s*[a-zA-Z/!?]")


Violation = tuple[str, str]  # (path below the model, German message)
RuleCheck = Callable[[Any, Any, date], list[Violation]]


def rule(check: RuleCheck) -> RuleCheck:
    """Mark a method ``(self, settings, today) -> violations`` as a cross-field rule.

    Each rule reads only what it needs: when one of its fields is invalid, the rule is
    skipped and the others still report (see ``registry.partial_violations``).
    """
    check.is_rule = True  # type: ignore[attr-defined]
    return check


@functools.cache
def _rules_of(model: type[BaseModel]) -> tuple[RuleCheck, ...]:
    """The ``@rule`` methods of a form model, base classes first (looked up once)."""
    return tuple(
        check
        for klass in reversed(model.__mro__)
        for check in vars(klass).values()
        if getattr(check, "is_rule", False)
    )


class Form(BaseModel):
    """Base of every form model: unknown fields are errors, surrounding blanks are dropped,
    every field has a German title (``labels.VOCABULARY``), ``@rule`` methods check across
    fields with the offer's settings (``DEFAULT_SETTINGS`` when the offer sets none)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, field_title_generator=field_title
    )
    DEFAULT_SETTINGS: ClassVar[Any] = None

    def rule_violations(self, context: FormContext, *, partial: bool = False) -> list[Violation]:
        """Every rule's violations; ``partial``: skip rules that read a missing field."""
        settings = context.settings if context.settings is not None else self.DEFAULT_SETTINGS
        found: list[Violation] = []
        for check in _rules_of(type(self)):
            try:
                found += check(self, settings, context.today)
            except AttributeError:
                if not partial:
                    raise
        return found

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Self:
        check_all(self.rule_violations(context_of(info)))
        return self


Name = Annotated[str, Field(min_length=1, max_length=100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Telefon = Annotated[
    str, Field(pattern=r"^\+?[0-9 ()/\-]{5,30}$", description="Zum Beispiel 06181 400-0.")
]


class Auswahl(BaseModel):
    """A choice the catalogue's form settings offer: its value and its name for people.

    A plain string is taken as both (for settings written before choices had names).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"id": value, "name": value} if isinstance(value, str) else value


class Anschrift(Form):
    """Postal address in Germany (or abroad with country code)."""

    strasse: Name
    hausnummer: str = Field(min_length=1, max_length=10)
    plz: str = Field(pattern=r"^[0-9A-Z\- ]{4,10}$")
    ort: Name
    land: str = Field(
        default="DE", pattern=r"^[A-Z]{2}$", description="Länderkennzeichen, z. B. DE."
    )


class Kontaktperson(Form):
    """A person to contact."""

    vornamen: Name
    familienname: Name
    telefon: Telefon | None = None
    email: EmailStr | None = None


class Geschlecht(Choice):
    """Gender as in German registers."""

    __labels__: ClassVar[dict[str, str]] = {
        "weiblich": "weiblich",
        "maennlich": "männlich",
        "divers": "divers",
        "ohne_angabe": "ohne Angabe",
    }

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
