"""German labels of the form models: the one source for the API's form schema, the PDF form,
the receipt and validation messages.

Every field gets its title from :data:`VOCABULARY` (by field name) unless it sets its own
``title``; a field without either makes schema generation fail, so no label can be missing.
Fixed choices are :class:`Choice` enums or :func:`labelled` literals; their labels appear in
the JSON Schema as ``oneOf: [{const, title}]``, the idiom form renderers read.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import GetJsonSchemaHandler
from pydantic.fields import ComputedFieldInfo, FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

VOCABULARY: dict[str, str] = {
    # people and addresses
    "vornamen": "Vorname(n)",
    "vorname": "Vorname",
    "familienname": "Familienname",
    "geburtsname": "Geburtsname",
    "geburtsdatum": "Geburtsdatum",
    "geburtsort": "Geburtsort",
    "geschlecht": "Geschlecht",
    "anschrift": "Anschrift",
    "strasse": "Straße",
    "hausnummer": "Hausnummer",
    "plz": "Postleitzahl",
    "ort": "Ort",
    "land": "Staat",
    "telefon": "Telefon",
    "email": "E-Mail-Adresse",
    # AEM
    "position": "Ort auf der Karte",
    "lat": "Breitengrad",
    "lon": "Längengrad",
    "adresse": "Adresse",
    "kategorie": "Kategorie",
    "beschreibung": "Beschreibung",
    # Kita
    "kind": "Angaben zum Kind",
    "erwarteter_geburtstermin": "Erwarteter Geburtstermin",
    "besondere_beduerfnisse": "Besondere Bedürfnisse",
    "sorgeberechtigte": "Sorgeberechtigte",
    "sorgerecht": "Sorgerecht",
    "taetigkeit": "Tätigkeit",
    "nachweis_taetigkeit": "Nachweis der Tätigkeit liegt als Anlage bei",
    "betreuungsart": "Betreuungsart",
    "betreuungsbeginn": "Gewünschter Betreuungsbeginn",
    "betreuungsumfang": "Betreuungsumfang",
    "mittagessen": "Mittagessen",
    "wunscheinrichtungen": "Wunscheinrichtungen",
    "einrichtung_id": "Einrichtung",
    "rang": "Rang (1 = erste Wahl)",
    "geschwister": "Geschwisterkinder in einer Einrichtung",
    "dringlichkeit": "Dringlichkeit",
    "grund": "Grund",
    "nachweis": "Nachweis liegt als Anlage bei",
    "einwilligungen": "Einwilligungen",
    "datenschutz": "Ich habe die Datenschutzhinweise zur Kenntnis genommen",
    "weitergabe_an_einrichtungen": "Meine Angaben dürfen an die Wunscheinrichtungen gehen",
    # Halle
    "verein": "Verein",
    "gemeinnuetzig": "Der Verein ist gemeinnützig",
    "vorsitz": "Vorsitz des Vereins",
    "trainer": "Übungsleitung",
    "halle_id": "Halle",
    "hallenteil": "Hallenteil",
    "nutzung": "Nutzung",
    "saison": "Saison",
    "zeiten": "Regelmäßige Zeiten",
    "termine": "Einzeltermine",
    "wochentag": "Wochentag",
    "von": "Von (Uhrzeit)",
    "bis": "Bis (Uhrzeit)",
    "datum": "Datum",
    "sportart": "Sportart",
    "altersgruppe": "Altersgruppe",
    "teilnehmende": "Anzahl Teilnehmende",
    "haftpflicht_bestaetigt": "Eine Haftpflichtversicherung des Vereins besteht",
    # Urkunde
    "urkundenart": "Urkunde",
    "registerart": "Register",
    "exemplare": "Anzahl der Exemplare",
    "standard": "Standard-Urkunden",
    "mehrsprachig": "Mehrsprachige Urkunden",
    "zweck": "Verwendungszweck",
    "beurkundung": "Angaben zum Eintrag",
    "ereignisdatum": "Datum des Ereignisses",
    "ereignisort": "Ort des Ereignisses",
    "personen": "Eingetragene Personen",
    "antragsteller": "Angaben zu Ihnen",
    "beziehung": "Ihre Beziehung zur eingetragenen Person",
    "begruendung": "Begründung Ihres Interesses",
    "versand": "Zustellung",
}


# What one entry of a list is called (by the list's field name).
ITEM_TITLES: dict[str, str] = {
    "sorgeberechtigte": "Sorgeberechtigte Person",
    "wunscheinrichtungen": "Wunsch",
    "geschwister": "Geschwisterkind",
    "trainer": "Übungsleiterin oder Übungsleiter",
    "zeiten": "Zeitfenster",
    "termine": "Termin",
    "personen": "Person",
}


def field_title(name: str, _info: FieldInfo | ComputedFieldInfo) -> str:
    """The German title of a field (KeyError for a field the vocabulary lacks)."""
    return VOCABULARY[name]


def labelled(labels: Mapping[str, str]) -> dict[str, Any]:
    """``json_schema_extra`` of a literal field: its values with German labels."""
    return {"oneOf": [{"const": value, "title": label} for value, label in labels.items()]}


class Choice(StrEnum):
    """A fixed choice whose members carry German labels in ``__labels__``."""

    __labels__: ClassVar[dict[str, str]]

    @property
    def label(self) -> str:
        """The member's German label."""
        return type(self).__labels__[str(self)]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        target["oneOf"] = [{"const": m.value, "title": m.label} for m in cls]
        target.pop("description", None)  # the enum's docstring is not help for citizens
        return schema
