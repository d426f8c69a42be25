"""Case document → XFall 2.0 ``MainApplication`` (namespace http://www.eu-dlr.org/x-eu-dlr.org/V2).

Pure: the output depends only on the document, so golden files need no scrubbing.

Mapping:

====================================  ==========================================================
XFall                                 case document
====================================  ==========================================================
MainApplication/@Id                   case_id
Action                                ``PARTIALAPPLICATION`` (a case with one application)
Header/Task, Header/Status            ``I`` (insert), ``NEW``
Header/ProcessType/Type, Variety      service.id, source (portal / xta / fitconnect)
Data/Name, MainReference              case_number
Data/TypeOfActivity/Id, Title         LeiKa key (else OZG id, else service id), service title
Partner @Id="applicant"               applicant: names or organisation, phone, e-mail
Partner @Id="authority"               service.office: name, AGS in Annex
Document @Id="form" Type=APPLICATION  the form data as JSON (base64 Content)
Document @Id=<attachment id>          each attachment, ExternalDocument with SHA-256 hash
PartialApplication/@Id                ``application``
  Data/PublicServiceTypeID, ...Type   LeiKa key / OZG id / service id, service title
  Data/PartnerFunction                APPLICANT, AUTHORITY
  Data/ReferredDocument               every Document
  Data/CustomData                     base64 JSON of fee, persons, identity, payment; for
                                      AEM reports the Klarschiff CustomData XML instead
                                      (Type problem/idee, Category, Latitude, Longitude)
====================================  ==========================================================
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

NS = "http://www.eu-dlr.org/x-eu-dlr.org/V2"
E = ElementMaker(namespace=NS, nsmap={"fall": NS})


# Characters XML 1.0 cannot carry (control characters, non-characters) are dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Text safe for an XML 1.0 document."""
    return _NOT_XML.sub("", value)


def _cut(value: str | None, limit: int) -> str:
    return xml_text(value or "")[:limit]


def _service_key(service: Mapping[str, Any]) -> str:
    key = service.get("leika_key") or (
        f"ozg:{service['ozg_id']}" if service.get("ozg_id") else None
    )
    return str(key or service["id"])


def _applicant(applicant: Mapping[str, Any]) -> etree._Element:
    data = E.Data(E.PartnerType("ORGANISATION" if applicant.get("organisation") else "PERSON"))
    data.append(E.PartnerLanguage("de"))
    if applicant.get("given_name"):
        data.append(E.FirstName(_cut(applicant["given_name"], 256)))
    data.append(E.LastName(_cut(applicant["family_name"], 256)))
    if applicant.get("organisation"):
        data.append(E.OrgName(_cut(applicant["organisation"], 256)))
    contact = E.Contact()
    if applicant.get("phone"):
        contact.append(E.TelNo(xml_text(applicant["phone"])))
    if applicant.get("email"):
        contact.append(E.Email(E.Address(_cut(applicant["email"], 256)), Preferred="true"))
    contact.append(E.PreferredContact("EMAIL" if applicant.get("email") else "PORTAL"))
    data.append(contact)
    return E.Partner(E.Header(E.Task("I")), data, Id="applicant")


def _authority(office: Mapping[str, Any]) -> etree._Element:
    return E.Partner(
        E.Header(E.Task("I")),
        E.Data(
            E.PartnerType("ORGANISATION"),
            E.FormOfAddress("ORGANISATION"),
            E.OrgName(_cut(office["name"], 256)),
            E.Annex(f"AGS {office['ags']}"),
        ),
        Id="authority",
    )


def _form_document(document: Mapping[str, Any]) -> etree._Element:
    content = json.dumps(document["form"], ensure_ascii=False, sort_keys=True).encode()
    return E.Document(
        E.Header(E.Task("I")),
        E.Data(
            E.Name("Antragsdaten"),
            E.Filename("antrag.json"),
            E.ContentType("application/json"),
            E.Content(base64.b64encode(content).decode()),
        ),
        Id="form",
        Type="APPLICATION",
        ExternalDocument="false",
    )


def _attachment(att: Mapping[str, Any]) -> etree._Element:
    return E.Document(
        E.Header(
            E.Task("I"),
            E.External(E.HashAlgorithm("SHA-256"), E.HashValue(att["sha256"])),
        ),
        E.Data(
            E.Name(_cut(att.get("purpose") or att["filename"], 128)),
            E.Filename(_cut(att["filename"], 128)),
            E.ContentType(_cut(att["content_type"], 128)),
        ),
        Id=att["id"][:36],
        Type="DOCUMENT",
        ExternalDocument="true",
        ExternalDocumentId=att["id"],
    )


def klarschiff_custom_data(document: Mapping[str, Any], service_code: str | None) -> bytes:
    """Klarschiff's CustomData (Type, Category, Latitude, Longitude) for an AEM report."""
    form = document["form"]
    position = form.get("position") or {}
    category = int(service_code) if service_code and service_code.isdigit() else 0
    root = etree.Element("CustomData")
    for name, value in (
        ("Type", "idee" if form.get("art") == "anregung" else "problem"),
        ("Category", str(max(-128, min(127, category)))),
        ("Latitude", repr(float(position.get("lat", 0.0)))),
        ("Longitude", repr(float(position.get("lon", 0.0)))),
    ):
        etree.SubElement(root, name).text = value
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _custom_data(document: Mapping[str, Any], klarschiff_category: str | None) -> bytes:
    if klarschiff_category is not None:
        return klarschiff_custom_data(document, klarschiff_category)
    extra = {k: document.get(k) for k in ("fee", "persons", "identity", "payment")}
    return json.dumps(extra, ensure_ascii=False, sort_keys=True).encode()


def build_xfall(document: Mapping[str, Any], *, klarschiff_category: str | None = None) -> bytes:
    """XFall 2.0 container for a normalized case (UTF-8 XML with declaration).

    For AEM reports pass the category's service code as ``klarschiff_category``: CustomData
    then carries Klarschiff's Type/Category/Latitude/Longitude instead of JSON.
    """
    service = document["service"]
    key = _service_key(service)
    attachments = list(document.get("attachments", []))
    root = E.MainApplication(
        E.Action("PARTIALAPPLICATION"),
        E.Header(
            E.Task("I"),
            E.Status("NEW"),
            E.ProcessType(E.Type(service["id"]), E.Variety(document["source"])),
        ),
        E.Data(
            E.Name(_cut(document["case_number"], 512)),
            E.TypeOfActivity(E.Id(xml_text(key)), E.Title(xml_text(service["title"]))),
            E.Description(_cut(service["title"], 256)),
            E.MainReference(_cut(document["case_number"], 256)),
        ),
        Id=document["case_id"][:36],
    )
    partners = []
    if document.get("applicant"):
        root.append(_applicant(document["applicant"]))
        partners.append(("applicant", "APPLICANT"))
    root.append(_authority(service["office"]))
    partners.append(("authority", "AUTHORITY"))
    root.append(_form_document(document))
    for att in attachments:
        root.append(_attachment(att))
    data = E.Data(
        E.PartialReference(_cut(document["case_number"], 256)),
        E.PublicServiceTypeID(key[:36]),
        E.PublicServiceType(_cut(service["title"], 256)),
    )
    for partner_id, role in partners:
        data.append(
            E.PartnerFunction(
                E.Header(E.Task("I")), E.Data(E.PartnerID(partner_id), E.PartnerRole(role))
            )
        )
    for doc_id in ["form", *(a["id"][:36] for a in attachments)]:
        data.append(E.ReferredDocument(Id=doc_id))
    data.append(
        E.CustomData(base64.b64encode(_custom_data(document, klarschiff_category)).decode())
    )
    root.append(
        E.PartialApplication(E.Header(E.Task("I"), E.Status("NEW")), data, Id="application")
    )
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
