"""Kita-Anmeldung: registration for a place in a day-care facility (§ 24 SGB VIII).

No XÖV standard exists for this offer; fields follow common municipal portals. The child's
special needs are health data (Art. 9 GDPR): they are encrypted like all form data and never
logged.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, model_validator

from ozg_gateway.forms.common import (
    Anschrift,
    Form,
    Geschlecht,
    Name,
    Telefon,
    age_on,
    context_of,
    settings_of,
)
from ozg_gateway.forms.registry import FormModel, check, register


class Betreuungsart(StrEnum):
    """Kind of care."""

    krippe = "krippe"  # unter 3 Jahren
    kindergarten = "kindergarten"  # 3 Jahre bis Schuleintritt
    hort = "hort"  # Schulkinder


class Einrichtung(BaseModel):
    """A facility offered in the form (from the catalogue's form_settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    name: str
    betreuungsarten: tuple[Betreuungsart, ...]


class KitaSettings(BaseModel):
    """Offer settings: facilities, cap on wishes, care scopes, age bands per care type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    einrichtungen: tuple[Einrichtung, ...] = ()
    max_wuensche: int = Field(default=3, ge=1, le=12)
    betreuungsumfaenge: tuple[str, ...] = ("halbtags", "7h", "9h")
    # Completed years of life at the start date: [from, to) per care type.
    altersgrenzen: dict[Betreuungsart, tuple[int, int]] = {
        Betreuungsart.krippe: (0, 3),
        Betreuungsart.kindergarten: (3, 7),
        Betreuungsart.hort: (6, 11),
    }

    def facility(self, facility_id: str) -> Einrichtung | None:
        """Facility by id."""
        return next((e for e in self.einrichtungen if e.id == facility_id), None)


DEFAULT = KitaSettings()


class Kind(Form):
    """The child; either the birth date or, before birth, the expected date."""

    vornamen: Name
    familienname: Name
    geburtsdatum: date | None = None
    erwarteter_geburtstermin: date | None = None
    geschlecht: Geschlecht
    anschrift: Anschrift
    besondere_beduerfnisse: str | None = Field(
        default=None, max_length=2000, description="Gesundheitsdaten (Art. 9 DSGVO)."
    )

    @model_validator(mode="after")
    def _one_date(self) -> Self:
        if (self.geburtsdatum is None) == (self.erwarteter_geburtstermin is None):
            raise ValueError("Geburtsdatum oder erwarteten Geburtstermin angeben (genau eines).")
        return self


class Sorgeberechtigte(Form):
    """A guardian."""

    vornamen: Name
    familienname: Name
    anschrift: Anschrift
    telefon: Telefon
    email: EmailStr | None = None
    sorgerecht: Literal["gemeinsam", "allein"]
    taetigkeit: (
        Literal["berufstaetig", "ausbildung", "studium", "arbeitssuchend", "sonstiges"] | None
    ) = None
    nachweis_taetigkeit: bool = Field(default=False, description="Nachweis liegt als Anlage bei.")


class Wunsch(Form):
    """A preferred facility with its rank (1 = first choice)."""

    einrichtung_id: str
    rang: int = Field(ge=1)


class Geschwisterkind(Form):
    """A sibling already cared for in a facility."""

    vorname: Name
    einrichtung_id: str


class Dringlichkeit(Form):
    """Why a place is urgent."""

    grund: str = Field(min_length=1, max_length=1000)
    nachweis: bool = Field(default=False, description="Nachweis liegt als Anlage bei.")


class Einwilligungen(Form):
    """Consents."""

    datenschutz: Literal[True] = Field(description="Datenschutzhinweise zur Kenntnis genommen.")
    weitergabe_an_einrichtungen: bool = False


class KitaAnmeldung(Form):
    """Anmeldung für einen Betreuungsplatz."""

    kind: Kind
    sorgeberechtigte: list[Sorgeberechtigte] = Field(min_length=1, max_length=2)
    betreuungsart: Betreuungsart
    betreuungsbeginn: date
    betreuungsumfang: str
    mittagessen: bool = False
    wunscheinrichtungen: list[Wunsch] = Field(min_length=1)
    geschwister: list[Geschwisterkind] = Field(default_factory=list, max_length=5)
    dringlichkeit: Dringlichkeit | None = None
    einwilligungen: Einwilligungen

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Self:
        settings: KitaSettings = settings_of(info, DEFAULT)
        today = context_of(info).today
        errors: list[tuple[str, str]] = []
        if self.betreuungsbeginn <= today:
            errors.append(("betreuungsbeginn", "Der Betreuungsbeginn muss in der Zukunft liegen."))
        if self.betreuungsumfang not in settings.betreuungsumfaenge:
            allowed = ", ".join(settings.betreuungsumfaenge)
            errors.append(("betreuungsumfang", f"Erlaubt sind: {allowed}."))
        errors += self._age_errors(settings)
        errors += self._wish_errors(settings)
        for i, sibling in enumerate(self.geschwister):
            if settings.einrichtungen and settings.facility(sibling.einrichtung_id) is None:
                errors.append((f"geschwister/{i}/einrichtung_id", "Unbekannte Einrichtung."))
        check(errors)
        return self

    def _age_errors(self, settings: KitaSettings) -> list[tuple[str, str]]:
        lower, upper = settings.altersgrenzen[self.betreuungsart]
        if self.kind.geburtsdatum is None:
            if self.betreuungsart != Betreuungsart.krippe:
                return [("betreuungsart", "Vor der Geburt ist nur die Krippe möglich.")]
            expected = self.kind.erwarteter_geburtstermin
            if expected is not None and self.betreuungsbeginn <= expected:
                return [("betreuungsbeginn", "Der Betreuungsbeginn muss nach der Geburt liegen.")]
            return []
        age = age_on(self.kind.geburtsdatum, self.betreuungsbeginn)
        if not lower <= age < upper:
            return [
                (
                    "betreuungsart",
                    f"Zum Betreuungsbeginn ist das Kind {age} Jahre alt; "
                    f"{self.betreuungsart.value} ist für {lower} bis unter {upper} Jahre.",
                )
            ]
        return []

    def _wish_errors(self, settings: KitaSettings) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if len(self.wunscheinrichtungen) > settings.max_wuensche:
            errors.append(("wunscheinrichtungen", f"Höchstens {settings.max_wuensche} Wünsche."))
        ranks = sorted(w.rang for w in self.wunscheinrichtungen)
        if ranks != list(range(1, len(ranks) + 1)):
            errors.append(
                ("wunscheinrichtungen", "Ränge müssen eindeutig sein und bei 1 beginnen.")
            )
        ids = [w.einrichtung_id for w in self.wunscheinrichtungen]
        if len(set(ids)) != len(ids):
            errors.append(("wunscheinrichtungen", "Jede Einrichtung nur einmal wählen."))
        for i, wish in enumerate(self.wunscheinrichtungen):
            facility = settings.facility(wish.einrichtung_id)
            where = f"wunscheinrichtungen/{i}/einrichtung_id"
            if settings.einrichtungen and facility is None:
                errors.append((where, "Unbekannte Einrichtung."))
            elif facility is not None and self.betreuungsart not in facility.betreuungsarten:
                errors.append((where, f"{facility.name} bietet keine {self.betreuungsart.value}."))
        return errors


def persons(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The child and the guardians."""
    kind = form["kind"]
    people = [
        {
            "role": "kind",
            "given_names": kind["vornamen"],
            "family_name": kind["familienname"],
            "birth_date": kind.get("geburtsdatum"),
        }
    ]
    people += [
        {"role": "sorgeberechtigt", "given_names": g["vornamen"], "family_name": g["familienname"]}
        for g in form["sorgeberechtigte"]
    ]
    return people


def choices(settings: KitaSettings | None) -> dict[str, tuple[str, ...]]:
    """Facilities and care scopes for the PDF form."""
    settings = settings or DEFAULT
    ids = tuple(e.id for e in settings.einrichtungen)
    result = {"betreuungsumfang": settings.betreuungsumfaenge}
    if ids:
        result |= {"wunscheinrichtungen.*.einrichtung_id": ids, "geschwister.*.einrichtung_id": ids}
    return result


FORM = register(
    FormModel(
        name="kita-anmeldung",
        model=KitaAnmeldung,
        title="Anmeldung Kindertagesbetreuung",
        settings=KitaSettings,
        persons=persons,
        choices=choices,
    )
)
