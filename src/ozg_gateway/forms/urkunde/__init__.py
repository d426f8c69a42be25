"""Personenstandsurkunde: order of a civil status certificate (PStG §§ 55, 62, 5).

Rules: applicants are at least 16 (§ 62 (1)); siblings need a legitimate interest and others a
legal interest, stated as justification (§ 62 (1), (2)); entries older than the retention
period (§ 5 (5): birth 110, marriage and partnership 80, death 30 years) are kept by the
archive, not by the registry office.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ozg_gateway.forms.common import Anschrift, Form, Name, Text200, Violation, age_on, rule
from ozg_gateway.forms.labels import Choice, labelled
from ozg_gateway.forms.registry import AttachmentPurpose, FormModel, register


class Urkundenart(Choice):
    """Kinds of certificate (§ 55 PStG)."""

    __labels__: ClassVar[dict[str, str]] = {
        "geburtsurkunde": "Geburtsurkunde",
        "eheurkunde": "Eheurkunde",
        "lebenspartnerschaftsurkunde": "Lebenspartnerschaftsurkunde",
        "sterbeurkunde": "Sterbeurkunde",
        "beglaubigter_registerausdruck": "beglaubigter Registerausdruck",
    }

    geburtsurkunde = "geburtsurkunde"
    eheurkunde = "eheurkunde"
    lebenspartnerschaftsurkunde = "lebenspartnerschaftsurkunde"
    sterbeurkunde = "sterbeurkunde"
    beglaubigter_registerausdruck = "beglaubigter_registerausdruck"


class Register(Choice):
    """Civil status registers."""

    __labels__: ClassVar[dict[str, str]] = {
        "geburtenregister": "Geburtenregister",
        "eheregister": "Eheregister",
        "lebenspartnerschaftsregister": "Lebenspartnerschaftsregister",
        "sterberegister": "Sterberegister",
    }

    geburtenregister = "geburtenregister"
    eheregister = "eheregister"
    lebenspartnerschaftsregister = "lebenspartnerschaftsregister"
    sterberegister = "sterberegister"


REGISTER_OF = {
    Urkundenart.geburtsurkunde: Register.geburtenregister,
    Urkundenart.eheurkunde: Register.eheregister,
    Urkundenart.lebenspartnerschaftsurkunde: Register.lebenspartnerschaftsregister,
    Urkundenart.sterbeurkunde: Register.sterberegister,
}


class UrkundeSettings(BaseModel):
    """Retention periods in years per register (§ 5 (5) PStG) and the archive to refer to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fortfuehrungsfristen: dict[Register, int] = {
        Register.geburtenregister: 110,
        Register.eheregister: 80,
        Register.lebenspartnerschaftsregister: 80,
        Register.sterberegister: 30,
    }
    archiv: str = "das Stadtarchiv"
    max_exemplare: int = Field(default=10, ge=1, le=50)


DEFAULT = UrkundeSettings()


class Exemplare(Form):
    """Number of copies per format."""

    standard: int = Field(default=1, ge=0, le=50)
    mehrsprachig: int = Field(
        default=0, ge=0, le=50, description="Internationale Urkunde (CIEC) für das Ausland."
    )


class Beurkundung(Form):
    """The register entry: event date and place, register number if known."""

    ereignisdatum: date = Field(description="Geburt, Eheschließung oder Tod.")
    ereignisort: Name
    registernummer: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{0,3}\s?\d{1,6}/\d{4}$",
        title="Registernummer",
        description="Falls bekannt, z. B. G 123/1990.",
    )


class EingetragenePerson(Form):
    """A person the entry concerns."""

    vornamen: Name
    familienname: Name
    geburtsname: Name | None = None
    geburtsdatum: date | None = None
    geburtsort: Name | None = None


class Beziehung(Choice):
    """Applicant's relation to the entry (§ 62 PStG)."""

    __labels__: ClassVar[dict[str, str]] = {
        "selbst": "Ich bin die eingetragene Person",
        "ehegatte_lebenspartner": "Ehegatte oder Lebenspartner/in",
        "vorfahr": "Eltern, Großeltern (Vorfahren)",
        "abkoemmling": "Kind, Enkelkind (Abkömmlinge)",
        "geschwister": "Geschwister",
        "sonstige": "andere Person (rechtliches Interesse)",
    }

    selbst = "selbst"
    ehegatte_lebenspartner = "ehegatte_lebenspartner"
    vorfahr = "vorfahr"
    abkoemmling = "abkoemmling"
    geschwister = "geschwister"
    sonstige = "sonstige"


class Antragsteller(Form):
    """Who orders, and why they may."""

    geburtsdatum: date = Field(title="Ihr Geburtsdatum")
    beziehung: Beziehung
    begruendung: str | None = Field(
        default=None,
        max_length=1000,
        description="Nur für Geschwister und andere Personen: warum Sie die Urkunde brauchen.",
    )


class Versand(Form):
    """Mail or pick-up."""

    art: Literal["post", "abholung"] = Field(
        title="Wie erhalten Sie die Urkunde?",
        json_schema_extra=labelled({"post": "per Post", "abholung": "Abholung im Standesamt"}),
    )
    anschrift: Anschrift | None = Field(default=None, description="Nur für den Versand per Post.")


class UrkundenBestellung(Form):
    """Bestellung einer Personenstandsurkunde."""

    DEFAULT_SETTINGS: ClassVar[UrkundeSettings] = DEFAULT

    urkundenart: Urkundenart
    registerart: Register | None = Field(
        default=None, description="Nur für beglaubigte Registerausdrucke."
    )
    exemplare: Exemplare
    zweck: Text200 = Field(description="Zum Beispiel Rentenantrag oder Eheschließung.")
    beurkundung: Beurkundung
    personen: list[EingetragenePerson] = Field(min_length=1, max_length=2)
    antragsteller: Antragsteller
    versand: Versand

    def register_of(self) -> Register | None:
        """The register the entry is kept in."""
        return REGISTER_OF.get(self.urkundenart, self.registerart)

    @rule
    def _register_named(self, settings: UrkundeSettings, today: date) -> list[Violation]:
        if self.register_of() is None:
            return [("registerart", "Für einen Registerausdruck das Register angeben.")]
        return []

    @rule
    def _copies(self, settings: UrkundeSettings, today: date) -> list[Violation]:
        total = self.exemplare.standard + self.exemplare.mehrsprachig
        if not 1 <= total <= settings.max_exemplare:
            return [("exemplare", f"1 bis {settings.max_exemplare} Exemplare bestellen.")]
        return []

    @rule
    def _people(self, settings: UrkundeSettings, today: date) -> list[Violation]:
        register = self.register_of()
        two = register in (Register.eheregister, Register.lebenspartnerschaftsregister)
        if two and len(self.personen) != 2:
            return [("personen", "Für Ehe und Lebenspartnerschaft beide Personen angeben.")]
        if not two and len(self.personen) != 1:
            return [("personen", "Genau eine Person angeben.")]
        return []

    @rule
    def _entry_kept_here(self, settings: UrkundeSettings, today: date) -> list[Violation]:
        event = self.beurkundung.ereignisdatum
        if event > today:
            return [("beurkundung/ereignisdatum", "Das Datum liegt in der Zukunft.")]
        register = self.register_of()
        limit = settings.fortfuehrungsfristen.get(register) if register else None
        if limit is not None and age_on(event, today) >= limit:
            return [
                (
                    "beurkundung/ereignisdatum",
                    f"Einträge, die älter als {limit} Jahre sind, führt das Standesamt nicht mehr "
                    f"(§ 5 PStG); bitte wenden Sie sich an {settings.archiv}.",
                )
            ]
        return []

    @rule
    def _applicant_may_order(self, settings: UrkundeSettings, today: date) -> list[Violation]:
        errors: list[Violation] = []
        if age_on(self.antragsteller.geburtsdatum, today) < 16:
            errors.append(("antragsteller/geburtsdatum", "Bestellen dürfen Personen ab 16 Jahren."))
        needs_reason = self.antragsteller.beziehung in (Beziehung.geschwister, Beziehung.sonstige)
        if needs_reason and not self.antragsteller.begruendung:
            kind = (
                "berechtigte"
                if self.antragsteller.beziehung == Beziehung.geschwister
                else "rechtliche"
            )
            errors.append(
                ("antragsteller/begruendung", f"Bitte das {kind} Interesse begründen (§ 62 PStG).")
            )
        return errors

    @rule
    def _address_for_mail(self, settings: UrkundeSettings, today: date) -> list[Violation]:
        if self.versand.art == "post" and self.versand.anschrift is None:
            return [("versand/anschrift", "Für den Versand eine Anschrift angeben.")]
        return []


def persons(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The people of the register entry."""
    return [
        {
            "role": "eingetragene_person",
            "given_names": p["vornamen"],
            "family_name": p["familienname"],
            "birth_name": p.get("geburtsname"),
            "birth_date": p.get("geburtsdatum"),
        }
        for p in form["personen"]
    ]


def copies(form: dict[str, Any]) -> int:
    """Ordered copies over all formats."""
    return int(form["exemplare"]["standard"]) + int(form["exemplare"]["mehrsprachig"])


FORM = register(
    FormModel(
        name="personenstandsurkunde",
        model=UrkundenBestellung,
        title="Bestellung einer Personenstandsurkunde",
        settings=UrkundeSettings,
        persons=persons,
        copies=copies,
        attachments=(
            AttachmentPurpose(
                "vollmacht",
                "Vollmacht",
                help="Wenn Sie für eine andere berechtigte Person bestellen.",
            ),
            AttachmentPurpose(
                "interessennachweis",
                "Nachweis Ihres Interesses",
                help="Für Geschwister und andere Personen (§ 62 PStG).",
            ),
        ),
    )
)
