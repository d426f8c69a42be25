"""AEM (Anregungs- und Ereignismanagement): issue reports and suggestions (→ Open311)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ozg_gateway.forms.common import Form, Name, plain_text, settings_of
from ozg_gateway.forms.registry import FormModel, check, register


class Kategorie(BaseModel):
    """A report category; ``service_code`` is its Open311 code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    name: str
    service_code: str | None = None


class BoundingBox(BaseModel):
    """WGS84 box around the municipality."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_lat: float = Field(ge=-90, le=90)
    min_lon: float = Field(ge=-180, le=180)
    max_lat: float = Field(ge=-90, le=90)
    max_lon: float = Field(ge=-180, le=180)

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point lies inside."""
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


class AemSettings(BaseModel):
    """Categories and the municipality's bounding box."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kategorien: tuple[Kategorie, ...] = ()
    gebiet: BoundingBox | None = None

    def category(self, category_id: str) -> Kategorie | None:
        """Category by id."""
        return next((k for k in self.kategorien if k.id == category_id), None)


DEFAULT = AemSettings()


class Punkt(Form):
    """WGS84 position."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Ortsangabe(Form):
    """Street address when no position is given."""

    strasse: Name
    hausnummer: str | None = Field(default=None, max_length=10)
    plz: str | None = Field(default=None, pattern=r"^\d{5}$")


class AemMeldung(Form):
    """Mängel melden oder Anregung geben; Fotos als Anlagen mit purpose "foto"."""

    art: Literal["ereignis", "anregung"]
    kategorie: str
    position: Punkt | None = None
    adresse: Ortsangabe | None = None
    beschreibung: str = Field(min_length=1, max_length=4000)

    _plain = field_validator("beschreibung")(lambda cls, v: plain_text(v))

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Self:
        settings: AemSettings = settings_of(info, DEFAULT)
        errors: list[tuple[str, str]] = []
        if settings.kategorien and settings.category(self.kategorie) is None:
            names = ", ".join(k.id for k in settings.kategorien)
            errors.append(("kategorie", f"Unbekannte Kategorie; erlaubt: {names}."))
        if self.position is None and self.adresse is None:
            errors.append(("position", "Position oder Adresse angeben."))
        box = settings.gebiet
        if (
            self.position is not None
            and box
            and not box.contains(self.position.lat, self.position.lon)
        ):
            errors.append(("position", "Der Ort liegt außerhalb des Stadtgebiets."))
        check(errors)
        return self


FORM = register(
    FormModel(
        name="aem-meldung", model=AemMeldung, title="Meldung / Anregung", settings=AemSettings
    )
)
