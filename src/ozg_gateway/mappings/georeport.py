"""The gateway as an Open311 GeoReport v2 server for AEM reports (pure): service list and
definitions from the catalogue, a posted request as AEM form data, answers in JSON or XML.

XML follows the spec's element structure: ``<services><service>…``,
``<service_requests><request>…``, ``<errors><error><code/><description/></error></errors>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from ozg_gateway.forms.aem import AemSettings

ART_CODE = "art"  # the one attribute: report or suggestion
ART_LABELS = {"ereignis": "Mangel oder Schaden melden", "anregung": "Anregung geben"}


def services(settings: AemSettings, *, group: str) -> list[dict[str, Any]]:
    """``GET services``: one service per category with a service code."""
    return [
        {
            "service_code": k.service_code,
            "service_name": k.name,
            "description": k.name,
            "metadata": True,
            "type": "realtime",
            "keywords": k.id,
            "group": group,
        }
        for k in settings.kategorien
        if k.service_code
    ]


def definition(service_code: str) -> dict[str, Any]:
    """``GET services/{code}``: the attribute that tells a report from a suggestion."""
    return {
        "service_code": service_code,
        "attributes": [
            {
                "variable": True,
                "code": ART_CODE,
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "Mangel (Standard) oder Anregung",
                "order": 1,
                "description": "Worum geht es?",
                "values": [{"key": k, "name": v} for k, v in ART_LABELS.items()],
            }
        ],
    }


def form_from_post(
    params: Mapping[str, str], settings: AemSettings
) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    """AEM form data and applicant from the fields of ``POST requests``; and the problems the
    fields have before the form model sees them (unknown service code, bad coordinates)."""
    problems: list[str] = []
    code = params.get("service_code", "")
    category = next((k for k in settings.kategorien if k.service_code == code), None)
    if category is None:
        problems.append("service_code: unbekannter Dienst.")
    form: dict[str, Any] = {
        "art": params.get(f"attribute[{ART_CODE}]", "ereignis"),
        "kategorie": category.id if category else code,
        "beschreibung": params.get("description", ""),
    }
    if params.get("lat") or params.get("long"):
        try:
            form["position"] = {"lat": float(params["lat"]), "lon": float(params["long"])}
        except (KeyError, ValueError):
            problems.append("lat/long: Bitte beide als Dezimalzahlen angeben (WGS 84).")
    elif params.get("address_string"):
        form["adresse"] = {"strasse": params["address_string"][:100]}
    contact = {
        "given_name": params.get("first_name") or None,
        "family_name": params.get("last_name") or None,
        "email": params.get("email") or None,
        "phone": params.get("phone") or None,
    }
    applicant = None
    if any(contact.values()):
        contact["family_name"] = contact["family_name"] or "(ohne Namen)"
        applicant = {k: v for k, v in contact.items() if v}
    return form, applicant, problems


def _element(name: str, value: Any) -> etree._Element:
    node = etree.Element(name)
    if isinstance(value, Mapping):
        for key, child in value.items():
            node.append(_element(key, child))
    elif isinstance(value, list):
        item = {"attributes": "attribute", "values": "value"}.get(name, "item")
        for child in value:
            node.append(_element(item, child))
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)
    return node


def xml(root: str, item: str, items: Sequence[Mapping[str, Any]]) -> bytes:
    """A list answer as the spec's XML (``<services><service>…``)."""
    top = etree.Element(root)
    for entry in items:
        top.append(_element(item, entry))
    return bytes(etree.tostring(top, xml_declaration=True, encoding="utf-8"))


def xml_object(root: str, value: Mapping[str, Any]) -> bytes:
    """One object as XML (``<service_definition>…``)."""
    return bytes(etree.tostring(_element(root, value), xml_declaration=True, encoding="utf-8"))


def errors(code: int, descriptions: Sequence[str]) -> list[dict[str, Any]]:
    """The spec's error list."""
    return [{"code": code, "description": d} for d in descriptions]
