"""AEM (Anregungs- und Ereignismanagement): issue reports and suggestions (→ Open311)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ozg_gateway.forms.common import Form, Name, Violation, plain_text, rule
from ozg_gateway.forms.labels import labelled
from ozg_gateway.forms.registry import AttachmentPurpose, FormModel, register
from ozg_gateway.forms.schema import Option, Options


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
    plz: str | None = Field(default=None, pattern=r"^\d{5}$", description="Fünf Ziffern.")


class AemMeldung(Form):
    """Mängel melden oder Anregung geben; Fotos als Anlagen mit purpose "foto"."""

    DEFAULT_SETTINGS: ClassVar[AemSettings] = DEFAULT

    art: Literal["ereignis", "anregung"] = Field(
        title="Worum geht es?",
        json_schema_extra=labelled(
            {"ereignis": "einen Mangel oder Schaden melden", "anregung": "eine Anregung geben"}
        ),
    )
    kategorie: str
    position: Punkt | None = Field(
        default=None, description="Den Ort auf der Karte wählen oder eine Adresse angeben."
    )
    adresse: Ortsangabe | None = Field(default=None, description="Wenn kein Ort gewählt ist.")
    beschreibung: str = Field(
        min_length=1, max_length=4000, description="Was ist wo passiert? Bitte ohne HTML."
    )

    _plain = field_validator("beschreibung")(lambda cls, v: plain_text(v))

    @rule
    def _category_known(self, settings: AemSettings, today: date) -> list[Violation]:
        if settings.kategorien and settings.category(self.kategorie) is None:
            names = ", ".join(k.name for k in settings.kategorien)
            return [("kategorie", f"Bitte eine Kategorie wählen: {names}.")]
        return []

    @rule
    def _somewhere(self, settings: AemSettings, today: date) -> list[Violation]:
        if self.position is None and self.adresse is None:
            return [("position", "Bitte den Ort auf der Karte wählen oder eine Adresse angeben.")]
        return []

    @rule
    def _inside_town(self, settings: AemSettings, today: date) -> list[Violation]:
        box = settings.gebiet
        if (
            self.position is not None
            and box
            and not box.contains(self.position.lat, self.position.lon)
        ):
            return [("position", "Der Ort liegt außerhalb des Stadtgebiets.")]
        return []


def choices(settings: AemSettings | None) -> dict[str, Options]:
    """The categories with their names."""
    if not settings or not settings.kategorien:
        return {}
    return {"kategorie": Options(tuple(Option(k.id, k.name) for k in settings.kategorien))}


FORM = register(
    FormModel(
        name="aem-meldung",
        model=AemMeldung,
        title="Mängel melden und Anregungen geben",
        settings=AemSettings,
        choices=choices,
        attachments=(
            AttachmentPurpose(
                "foto", "Foto", help="Ein Foto hilft, den Ort zu finden.", images_only=True
            ),
        ),
    )
)
