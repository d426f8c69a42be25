"""What a message received from another system says about the case (pure).

Shared by the inbound channels: XFall containers (``xfall_in``) and FIT-Connect data
(``parse_fitconnect_data``, the "Fachdaten" JSON this gateway sends: applicant, persons, form).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CaseFields:
    """Case fields read from a received message; what it does not carry stays empty."""

    reference: str | None
    service_key: str | None
    applicant: dict[str, Any] | None
    form: dict[str, Any] = field(default_factory=dict)
    persons: list[dict[str, Any]] = field(default_factory=list)
    format: str = "xfall"  # what the fields were read from: xfall, fitconnect-data


_PERSON_KEYS = ("role", "given_names", "family_name", "birth_name", "birth_date")


def clean_person(raw: dict[str, Any]) -> dict[str, Any]:
    """Only the keys a case document's persons have, as strings."""
    person = {k: str(raw[k]) for k in _PERSON_KEYS if raw.get(k) is not None}
    person.setdefault("role", "person")
    return person


def parse_fitconnect_data(data: bytes) -> CaseFields | None:
    """FIT-Connect data in this gateway's shape (``form`` object), else None (a raw case)."""
    try:
        parsed: Any = json.loads(data)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("form"), dict):
        return None
    applicant = parsed.get("applicant")
    persons = parsed.get("persons") or []
    return CaseFields(
        reference=str(parsed["caseNumber"]) if parsed.get("caseNumber") else None,
        service_key=str(parsed["service"]) if parsed.get("service") else None,
        applicant=applicant if isinstance(applicant, dict) else None,
        form=parsed["form"],
        persons=[clean_person(p) for p in persons if isinstance(p, dict) and p.get("family_name")],
        format="fitconnect-data",
    )
