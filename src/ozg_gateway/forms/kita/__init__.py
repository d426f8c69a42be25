"""Kita-Anmeldung: registration for a place in a day-care facility (§ 24 SGB VIII).

No XÖV standard exists for this offer; fields follow common municipal portals. The child's
special needs are health data (Art. 9 GDPR): they are encrypted like all form data and never
logged.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from ozg_gateway.forms.common import (
    Anschrift,
    Auswahl,
    Form,
    Geschlecht,
    Name,
    Telefon,
    Violation,
    age_on,
    rule,
)
from ozg_gateway.forms.labels import Choice, labelled
from ozg_gateway.forms.registry import AttachmentPurpose, FormModel, register
from ozg_gateway.forms.schema import Option, Options


class Betreuungsart(Choice):
    """Kind of care."""

    __labels__: ClassVar[dict[str, str]] = {
        "krippe": "Krippe (unter 3 Jahren)",
        "kindergarten": "Kindergarten (3 Jahre bis Schuleintritt)",
        "hort": "Hort (Schulkinder)",
    }

    krippe = "krippe"
    kindergarten = "kindergarten"
    hort = "hort"


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
    betreuungsumfaenge: tuple[Auswahl, ...] = (
        Auswahl(id="halbtags", name="halbtags (bis 5 Stunden)"),
        Auswahl(id="7h", name="7 Stunden"),
        Auswahl(id="9h", name="9 Stunden"),
    )
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
    geburtsdatum: date | None = Field(
        default=None, description="Ist das Kind noch nicht geboren: den erwarteten Termin."
    )
    erwarteter_geburtstermin: date | None = Field(
        default=None, description="Nur wenn das Kind noch nicht geboren ist."
    )
    geschlecht: Geschlecht
    anschrift: Anschrift
    besondere_beduerfnisse: str | None = Field(
        default=None,
        max_length=2000,
        description="Zum Beispiel Allergien oder ein Förderbedarf. Freiwillig; die Angaben "
        "sind Gesundheitsdaten und werden besonders geschützt.",
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
    sorgerecht: Literal["gemeinsam", "allein"] = Field(
        json_schema_extra=labelled({"gemeinsam": "gemeinsam", "allein": "allein"})
    )
    taetigkeit: (
        Literal["berufstaetig", "ausbildung", "studium", "arbeitssuchend", "sonstiges"] | None
    ) = Field(
        default=None,
        json_schema_extra=labelled(
            {
                "berufstaetig": "berufstätig",
                "ausbildung": "in Ausbildung",
                "studium": "im Studium",
                "arbeitssuchend": "arbeitssuchend",
                "sonstiges": "sonstiges",
            }
        ),
    )
    nachweis_taetigkeit: bool = False


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
    nachweis: bool = False


class Einwilligungen(Form):
    """Consents."""

    datenschutz: Literal[True]
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

    DEFAULT_SETTINGS: ClassVar[KitaSettings] = DEFAULT

    @rule
    def _start_in_future(self, settings: KitaSettings, today: date) -> list[Violation]:
        if self.betreuungsbeginn <= today:
            return [("betreuungsbeginn", "Der Betreuungsbeginn muss in der Zukunft liegen.")]
        return []

    @rule
    def _scope_offered(self, settings: KitaSettings, today: date) -> list[Violation]:
        if self.betreuungsumfang not in {u.id for u in settings.betreuungsumfaenge}:
            offered = ", ".join(u.name for u in settings.betreuungsumfaenge)
            return [("betreuungsumfang", f"Bitte wählen: {offered}.")]
        return []

    @rule
    def _siblings_known(self, settings: KitaSettings, today: date) -> list[Violation]:
        return [
            (f"geschwister/{i}/einrichtung_id", "Diese Einrichtung gibt es nicht.")
            for i, sibling in enumerate(self.geschwister)
            if settings.einrichtungen and settings.facility(sibling.einrichtung_id) is None
        ]

    @rule
    def _age_fits(self, settings: KitaSettings, today: date) -> list[Violation]:
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
                    f"{self.betreuungsart.label.split(' (')[0]} ist für Kinder von {lower} "
                    f"bis unter {upper} Jahren.",
                )
            ]
        return []

    @rule
    def _wishes_fit(self, settings: KitaSettings, today: date) -> list[Violation]:
        errors: list[Violation] = []
        if len(self.wunscheinrichtungen) > settings.max_wuensche:
            errors.append(
                ("wunscheinrichtungen", f"Höchstens {settings.max_wuensche} Wünsche angeben.")
            )
        ranks = sorted(w.rang for w in self.wunscheinrichtungen)
        if ranks != list(range(1, len(ranks) + 1)):
            errors.append(
                ("wunscheinrichtungen", "Die Ränge müssen verschieden sein und bei 1 beginnen.")
            )
        ids = [w.einrichtung_id for w in self.wunscheinrichtungen]
        if len(set(ids)) != len(ids):
            errors.append(("wunscheinrichtungen", "Jede Einrichtung nur einmal wählen."))
        care = self.betreuungsart.label.split(" (")[0]
        for i, wish in enumerate(self.wunscheinrichtungen):
            facility = settings.facility(wish.einrichtung_id)
            where = f"wunscheinrichtungen/{i}/einrichtung_id"
            if settings.einrichtungen and facility is None:
                errors.append((where, "Diese Einrichtung gibt es nicht."))
            elif facility is not None and self.betreuungsart not in facility.betreuungsarten:
                errors.append((where, f"{facility.name} bietet keinen Platz im Bereich {care}."))
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


def choices(settings: KitaSettings | None) -> dict[str, Options]:
    """Facilities and care scopes with their names."""
    settings = settings or DEFAULT
    result = {
        "betreuungsumfang": Options(
            tuple(Option(u.id, u.name) for u in settings.betreuungsumfaenge)
        )
    }
    if settings.einrichtungen:
        facilities = Options(tuple(Option(e.id, e.name) for e in settings.einrichtungen))
        result |= {
            "wunscheinrichtungen.*.einrichtung_id": facilities,
            "geschwister.*.einrichtung_id": facilities,
        }
    return result


FORM = register(
    FormModel(
        name="kita-anmeldung",
        model=KitaAnmeldung,
        title="Anmeldung Kindertagesbetreuung",
        settings=KitaSettings,
        persons=persons,
        choices=choices,
        attachments=(
            AttachmentPurpose(
                "taetigkeitsnachweis",
                "Nachweis der Tätigkeit",
                help="Zum Beispiel eine Bescheinigung des Arbeitgebers oder der Hochschule.",
            ),
            AttachmentPurpose(
                "dringlichkeitsnachweis",
                "Nachweis der Dringlichkeit",
                help="Wenn Sie eine besondere Dringlichkeit angeben.",
            ),
            AttachmentPurpose(
                "masernschutz",
                "Nachweis über den Masernschutz",
                help="Spätestens zum Betreuungsbeginn nötig (§ 20 Infektionsschutzgesetz).",
            ),
        ),
    )
)
