"""Hallenbelegung: sports clubs apply for regular slots or single dates in municipal halls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from ozg_gateway.forms.common import Form, Kontaktperson, Name, context_of, settings_of
from ozg_gateway.forms.registry import FormModel, check, register


class Wochentag(StrEnum):
    """Weekdays."""

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
    teile: tuple[str, ...] = ("gesamt",)
    oeffnungszeiten: dict[Wochentag, tuple[time, time]]


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

    name: Name
    registernummer: str = Field(
        pattern=r"^VR\s?\d{1,7}$", description="Vereinsregister, z. B. VR 1234."
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

    verein: Verein
    vorsitz: Kontaktperson
    trainer: list[Kontaktperson] = Field(default_factory=list, max_length=3)
    halle_id: str
    hallenteil: str
    nutzung: Literal["regelmaessig", "einzeltermin"]
    saison: Literal["sommer", "winter"] | None = None
    zeiten: list[Zeitfenster] = Field(default_factory=list, max_length=14)
    termine: list[Termin] = Field(default_factory=list, max_length=20)
    sportart: Name
    altersgruppe: Literal["jugend", "erwachsene"]
    teilnehmende: int = Field(ge=1, le=500)
    haftpflicht_bestaetigt: Literal[True]

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Self:
        settings: HalleSettings = settings_of(info, DEFAULT)
        today = context_of(info).today
        errors: list[tuple[str, str]] = []
        hall = settings.hall(self.halle_id)
        if settings.hallen and hall is None:
            errors.append(("halle_id", "Unbekannte Halle."))
        if hall is not None and self.hallenteil not in hall.teile:
            errors.append(("hallenteil", f"Erlaubt sind: {', '.join(hall.teile)}."))
        if self.nutzung == "regelmaessig":
            if self.saison is None:
                errors.append(("saison", "Für regelmäßige Nutzung die Saison angeben."))
            if not self.zeiten:
                errors.append(("zeiten", "Mindestens ein Zeitfenster angeben."))
        elif not self.termine:
            errors.append(("termine", "Mindestens einen Termin angeben."))
        slots = [_Slot(f"zeiten/{i}", z.wochentag, z.von, z.bis) for i, z in enumerate(self.zeiten)]
        slots += [
            _Slot(f"termine/{i}", WEEKDAYS[t.datum.weekday()], t.von, t.bis, t.datum)
            for i, t in enumerate(self.termine)
        ]
        for i, t in enumerate(self.termine):
            if t.datum <= today:
                errors.append((f"termine/{i}/datum", "Der Termin muss in der Zukunft liegen."))
        errors += _slot_errors(slots, hall)
        check(errors)
        return self


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
            errors.append((slot.where, f"Die Halle ist {slot.day.value}s geschlossen."))
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


def choices(settings: HalleSettings | None) -> dict[str, tuple[str, ...]]:
    """Halls and sections for the PDF form."""
    if not settings or not settings.hallen:
        return {}
    sections = tuple(dict.fromkeys(t for h in settings.hallen for t in h.teile))
    return {"halle_id": tuple(h.id for h in settings.hallen), "hallenteil": sections}


FORM = register(
    FormModel(
        name="hallenbelegung",
        model=Hallenbelegung,
        title="Antrag auf Hallenbelegung",
        settings=HalleSettings,
        persons=persons,
        choices=choices,
    )
)
