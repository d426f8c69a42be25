"""Hallenbelegung: sports clubs apply for regular slots or single dates in municipal halls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ozg_gateway.forms.common import Auswahl, Form, Kontaktperson, Name, Violation, rule
from ozg_gateway.forms.labels import Choice, labelled
from ozg_gateway.forms.registry import AttachmentPurpose, FormModel, register
from ozg_gateway.forms.schema import Option, Options


class Wochentag(Choice):
    """Weekdays."""

    __labels__: ClassVar[dict[str, str]] = {
        "montag": "Montag",
        "dienstag": "Dienstag",
        "mittwoch": "Mittwoch",
        "donnerstag": "Donnerstag",
        "freitag": "Freitag",
        "samstag": "Samstag",
        "sonntag": "Sonntag",
    }

    montag = "montag"
    dienstag = "dienstag"
    mittwoch = "mittwoch"
    donnerstag = "donnerstag"
    freitag = "freitag"
    samstag = "samstag"
    sonntag = "sonntag"


WEEKDAYS = list(Wochentag)


class Halle(BaseModel):
    """A hall from the offer's settings with its sections and opening hours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    name: str
    teile: tuple[Auswahl, ...] = (Auswahl(id="gesamt", name="ganze Halle"),)
    oeffnungszeiten: dict[Wochentag, tuple[time, time]]

    def section(self, section_id: str) -> Auswahl | None:
        """Section by id."""
        return next((t for t in self.teile if t.id == section_id), None)


class HalleSettings(BaseModel):
    """Halls that can be booked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hallen: tuple[Halle, ...] = ()

    def hall(self, hall_id: str) -> Halle | None:
        """Hall by id."""
        return next((h for h in self.hallen if h.id == hall_id), None)


DEFAULT = HalleSettings()


class Verein(Form):
    """The applying club."""

    name: Name = Field(title="Name des Vereins")
    registernummer: str = Field(
        pattern=r"^VR\s?\d{1,7}$",
        title="Vereinsregisternummer",
        description="Wie im Vereinsregister, z. B. VR 1234.",
    )
    gemeinnuetzig: bool


class Zeitfenster(Form):
    """A weekly slot."""

    wochentag: Wochentag
    von: time
    bis: time


class Termin(Form):
    """A single date."""

    datum: date
    von: time
    bis: time


class Hallenbelegung(Form):
    """Antrag auf Belegung einer Sporthalle."""

    DEFAULT_SETTINGS: ClassVar[HalleSettings] = DEFAULT

    verein: Verein
    vorsitz: Kontaktperson
    trainer: list[Kontaktperson] = Field(default_factory=list, max_length=3)
    halle_id: str
    hallenteil: str = Field(description="Die Teile hängen von der gewählten Halle ab.")
    nutzung: Literal["regelmaessig", "einzeltermin"] = Field(
        json_schema_extra=labelled(
            {"regelmaessig": "regelmäßig (wöchentlich)", "einzeltermin": "einzelne Termine"}
        )
    )
    saison: Literal["sommer", "winter"] | None = Field(
        default=None,
        description="Nur für regelmäßige Nutzung.",
        json_schema_extra=labelled({"sommer": "Sommersaison", "winter": "Wintersaison"}),
    )
    zeiten: list[Zeitfenster] = Field(
        default_factory=list, max_length=14, description="Nur für regelmäßige Nutzung."
    )
    termine: list[Termin] = Field(
        default_factory=list, max_length=20, description="Nur für einzelne Termine."
    )
    sportart: Name
    altersgruppe: Literal["jugend", "erwachsene"] = Field(
        json_schema_extra=labelled({"jugend": "Jugend", "erwachsene": "Erwachsene"})
    )
    teilnehmende: int = Field(ge=1, le=500)
    haftpflicht_bestaetigt: Literal[True]

    @rule
    def _hall_and_section(self, settings: HalleSettings, today: date) -> list[Violation]:
        hall = settings.hall(self.halle_id)
        if settings.hallen and hall is None:
            names = ", ".join(h.name for h in settings.hallen)
            return [("halle_id", f"Bitte eine Halle wählen: {names}.")]
        if hall is not None and hall.section(self.hallenteil) is None:
            sections = ", ".join(t.name for t in hall.teile)
            return [("hallenteil", f"{hall.name} hat diese Teile: {sections}.")]
        return []

    @rule
    def _times_given(self, settings: HalleSettings, today: date) -> list[Violation]:
        if self.nutzung == "einzeltermin":
            return [] if self.termine else [("termine", "Mindestens einen Termin angeben.")]
        errors: list[Violation] = []
        if self.saison is None:
            errors.append(("saison", "Für regelmäßige Nutzung die Saison angeben."))
        if not self.zeiten:
            errors.append(("zeiten", "Mindestens ein Zeitfenster angeben."))
        return errors

    @rule
    def _dates_ahead(self, settings: HalleSettings, today: date) -> list[Violation]:
        return [
            (f"termine/{i}/datum", "Der Termin muss in der Zukunft liegen.")
            for i, t in enumerate(self.termine)
            if t.datum <= today
        ]

    @rule
    def _slots_fit(self, settings: HalleSettings, today: date) -> list[Violation]:
        slots = [_Slot(f"zeiten/{i}", z.wochentag, z.von, z.bis) for i, z in enumerate(self.zeiten)]
        slots += [
            _Slot(f"termine/{i}", WEEKDAYS[t.datum.weekday()], t.von, t.bis, t.datum)
            for i, t in enumerate(self.termine)
        ]
        return _slot_errors(slots, settings.hall(self.halle_id))


@dataclass(frozen=True)
class _Slot:
    where: str
    day: Wochentag
    start: time
    end: time
    on: date | None = None  # single dates; None for weekly slots

    def overlaps(self, other: _Slot) -> bool:
        same_day = self.day == other.day and self.on == other.on
        return same_day and self.start < other.end and other.start < self.end


def _slot_errors(slots: list[_Slot], hall: Halle | None) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for slot in slots:
        if slot.end <= slot.start:
            errors.append((f"{slot.where}/bis", "Das Ende muss nach dem Beginn liegen."))
            continue
        hours = hall.oeffnungszeiten.get(slot.day) if hall else None
        if hall is not None and hours is None:
            errors.append((slot.where, f"Die Halle ist am {slot.day.label} geschlossen."))
        elif hours is not None and (slot.start < hours[0] or slot.end > hours[1]):
            opening = f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"
            errors.append((slot.where, f"Außerhalb der Öffnungszeiten ({opening})."))
    for a, first in enumerate(slots):
        for second in slots[a + 1 :]:
            if first.overlaps(second):
                errors.append((second.where, "Überschneidet sich mit einem anderen Zeitfenster."))
    return errors


def persons(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Chair and trainers."""
    people = [{"role": "vorsitz", **_name(form["vorsitz"])}]
    people += [{"role": "trainer", **_name(t)} for t in form.get("trainer", [])]
    return people


def _name(p: dict[str, Any]) -> dict[str, Any]:
    return {"given_names": p["vornamen"], "family_name": p["familienname"]}


def choices(settings: HalleSettings | None) -> dict[str, Options]:
    """Halls, and the sections of each hall (they depend on the hall chosen)."""
    if not settings or not settings.hallen:
        return {}
    sections = tuple(Option(t.id, t.name, h.id) for h in settings.hallen for t in h.teile)
    return {
        "halle_id": Options(tuple(Option(h.id, h.name) for h in settings.hallen)),
        "hallenteil": Options(
            sections, depends_on="halle_id", parent_labels={h.id: h.name for h in settings.hallen}
        ),
    }


FORM = register(
    FormModel(
        name="hallenbelegung",
        model=Hallenbelegung,
        title="Antrag auf Hallenbelegung",
        settings=HalleSettings,
        persons=persons,
        choices=choices,
        attachments=(
            AttachmentPurpose(
                "haftpflicht",
                "Nachweis der Haftpflichtversicherung",
                help="Die Police oder eine Bestätigung der Versicherung.",
            ),
        ),
    )
)
