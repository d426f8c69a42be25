"""XFall 2.0 ``MainApplication`` received from another platform → parts of a normalized case.

Pure and lenient: whatever an XFall container carries is taken (applicant partner, form data
document as JSON, the sender's reference, persons from JSON CustomData); what it does not
carry stays empty. The original container always travels with the case as a file.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lxml import etree

from ozg_gateway.mappings.received import CaseFields, clean_person
from ozg_gateway.mappings.xfall import NS

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _text(element: etree._Element | None, path: str) -> str | None:
    value = element.findtext(path, namespaces={"f": NS}) if element is not None else None
    return value.strip() if value and value.strip() else None


def _json(b64: str | None) -> Any:
    if not b64:
        return None
    try:
        return json.loads(base64.b64decode(b64, validate=False))
    except (binascii.Error, ValueError):
        return None


def is_xfall(data: bytes) -> bool:
    """True if ``data`` is an XML document whose root is XFall's MainApplication."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return False
    return bool(root.tag == f"{{{NS}}}MainApplication")


def parse_xfall(data: bytes) -> CaseFields:
    """Read a MainApplication (call ``is_xfall`` first)."""
    root = etree.fromstring(data, _PARSER)
    partner = root.find("f:Partner[@Id='applicant']/f:Data", namespaces={"f": NS})
    applicant = None
    if partner is not None and _text(partner, "f:LastName"):
        applicant = {
            "given_name": _text(partner, "f:FirstName"),
            "family_name": _text(partner, "f:LastName"),
            "organisation": _text(partner, "f:OrgName"),
            "email": _text(partner, "f:Contact/f:Email/f:Address"),
            "phone": _text(partner, "f:Contact/f:TelNo"),
        }
        applicant = {k: v for k, v in applicant.items() if v is not None}
    form_doc = root.find("f:Document[@Id='form']/f:Data", namespaces={"f": NS})
    form = _json(_text(form_doc, "f:Content")) if form_doc is not None else None
    custom = _json(_text(root, "f:PartialApplication/f:Data/f:CustomData"))
    persons = custom.get("persons") if isinstance(custom, dict) else None
    return CaseFields(
        reference=_text(root, "f:Data/f:MainReference") or _text(root, "f:Data/f:Name"),
        service_key=_text(root, "f:Data/f:TypeOfActivity/f:Id"),
        applicant=applicant,
        form=form if isinstance(form, dict) else {},
        persons=[
            clean_person(p) for p in persons or [] if isinstance(p, dict) and p.get("family_name")
        ],
    )
