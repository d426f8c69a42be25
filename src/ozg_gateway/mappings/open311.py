"""AEM report → Open311 GeoReport v2 (pure).

``build_service_request`` is the request object as ``GET requests`` returns it (schema
``request.json``); ``build_post_params`` are the form fields of ``POST requests``.
Klarschiff's keywords tell reports (problem) from suggestions (idee).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ozg_gateway.forms.aem import AemSettings


def _category(document: Mapping[str, Any], settings: AemSettings) -> tuple[str, str | None]:
    category_id = document["form"]["kategorie"]
    category = settings.category(category_id)
    if category is None:
        return category_id, None
    return category.service_code or category.id, category.name


def _address(form: Mapping[str, Any]) -> str | None:
    address = form.get("adresse")
    if not address:
        return None
    parts = [address["strasse"], address.get("hausnummer") or ""]
    text = " ".join(p for p in parts if p)
    return f"{text}, {address['plz']}" if address.get("plz") else text


def build_service_request(
    document: Mapping[str, Any],
    *,
    settings: AemSettings,
    status: str = "open",
    status_notes: str | None = None,
    updated: str | None = None,
) -> dict[str, Any]:
    """The case as an Open311 service request object (status from the back office)."""
    form = document["form"]
    code, name = _category(document, settings)
    position = form.get("position") or {}
    return {
        "service_request_id": document["case_number"],
        "status": status,
        "status_notes": status_notes,
        "service_name": name,
        "service_code": code,
        "description": form["beschreibung"][:4000],
        "agency_responsible": document["service"]["office"]["name"],
        "service_notice": None,
        "requested_datetime": document["submitted_at"],
        "updated_datetime": updated or document["submitted_at"],
        "expected_datetime": None,
        "address": _address(form),
        "address_id": None,
        "zipcode": (form.get("adresse") or {}).get("plz"),
        "lat": position.get("lat"),
        "long": position.get("lon"),
        "media_url": None,
    }


def build_post_params(
    document: Mapping[str, Any], *, settings: AemSettings
) -> list[tuple[str, str]]:
    """Form fields for ``POST /requests`` (location: lat/long, else address_string)."""
    form = document["form"]
    code, _ = _category(document, settings)
    params = [("service_code", code), ("description", form["beschreibung"][:4000])]
    position = form.get("position")
    if position:
        params += [("lat", repr(float(position["lat"]))), ("long", repr(float(position["lon"])))]
    else:
        params.append(("address_string", _address(form) or ""))
    params.append(("attribute[typ]", "idee" if form["art"] == "anregung" else "problem"))
    applicant = document.get("applicant") or {}
    for field, key in (
        ("email", "email"),
        ("first_name", "given_name"),
        ("last_name", "family_name"),
        ("phone", "phone"),
    ):
        if applicant.get(key):
            params.append((field, str(applicant[key])))
    return params
