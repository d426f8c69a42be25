"""Certificate order → XML aligned with the XPersonenstand portal-to-registry-office orders.

The official XPersonenstand schema (KoSIT, namespace ``http://xpsw.domap.de/xpsw2611``) is not
available here, so this is **aligned, not conformant**: it carries the content of the
``portal2StA.*`` order messages in our own namespace, with the message type names of the
standard, for a registry-office system or a converter to map 1:1.

=================================  ==============================================================
XPersonenstand order content       this XML (namespace ``urn:ozg-gateway:xpersonenstand-aligned:1``)
=================================  ==============================================================
message type (081030 birth,        ``nachrichtenkopf/nachrichtentyp``: portal2StA.Geburt.081030,
082030 marriage, 083030 LP,        portal2StA.Ehe.082030, portal2StA.LP.083030,
084030 death)                      portal2StA.Sterbefall.084030
message id, creation time          ``nachrichtenkopf/nachrichtenUUID``, ``erstellungszeitpunkt``
sender, recipient                  ``absender`` (portal, case number), ``empfaenger`` (office, AGS)
purpose                            ``zweck``
registered event                   ``beurkundung``: art, registerart, datum, ort, registernummer
persons of the entry               ``person``: vornamen, familienname, geburtsname, geburtsdatum,
                                   geburtsort
applicant (natural person)         ``antragsteller``: names, address, contact, geburtsdatum,
                                   ``beziehung`` (§ 62 PStG), ``begruendung``
secure identification (eID)        ``antragsteller/sichereIdentifizierung`` (true/false, level)
requested copies per format        ``exemplar``: format (standard / mehrsprachig), anzahl,
 with costs in cents                kostenInCent
delivery / pick-up                 ``versand``: art, anschrift
payment                            ``zahlung``: gesamtInCent, referenz, status
attachments with size and hash     ``anlage``: dateiname, mimeType, groesse, sha256
=================================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from ozg_gateway.mappings.xfall import xml_text
from ozg_gateway.runtime import IdFactory

NS = "urn:ozg-gateway:xpersonenstand-aligned:1"
E = ElementMaker(namespace=NS, nsmap={None: NS})

MESSAGE_TYPES = {
    "geburtenregister": "portal2StA.Geburt.081030",
    "eheregister": "portal2StA.Ehe.082030",
    "lebenspartnerschaftsregister": "portal2StA.LP.083030",
    "sterberegister": "portal2StA.Sterbefall.084030",
}
REGISTER_OF = {
    "geburtsurkunde": "geburtenregister",
    "eheurkunde": "eheregister",
    "lebenspartnerschaftsurkunde": "lebenspartnerschaftsregister",
    "sterbeurkunde": "sterberegister",
}


def _el(tag: str, *children: etree._Element | None, **attrs: str) -> etree._Element:
    element: etree._Element = getattr(E, tag)(*(c for c in children if c is not None), **attrs)
    return element


def _text(tag: str, value: Any) -> etree._Element | None:
    if value is None or value == "":
        return None
    element = _el(tag)
    element.text = xml_text(str(value))
    return element


def _address(address: Mapping[str, Any] | None) -> etree._Element | None:
    if not address:
        return None
    return _el(
        "anschrift",
        _text("strasse", address.get("strasse")),
        _text("hausnummer", address.get("hausnummer")),
        _text("postleitzahl", address.get("plz")),
        _text("ort", address.get("ort")),
        _text("staat", address.get("land", "DE")),
    )


def build_order(
    document: Mapping[str, Any],
    *,
    fee_first_cents: int,
    fee_further_cents: int,
    now: datetime,
    new_id: IdFactory,
) -> bytes:
    """Order XML for a ``personenstandsurkunde`` case (clock and id factory injected)."""
    form = document["form"]
    register = REGISTER_OF.get(form["urkundenart"]) or form.get("registerart") or ""
    applicant = document.get("applicant") or {}
    identity = document.get("identity") or {}
    payment = document.get("payment") or {}
    copies = []
    first = True
    for fmt in ("standard", "mehrsprachig"):
        count = int(form["exemplare"][fmt])
        if count:
            cost = (
                fee_first_cents + (count - 1) * fee_further_cents
                if first
                else count * fee_further_cents
            )
            first = False
            copies.append(
                _el(
                    "exemplar",
                    _text("format", fmt),
                    _text("anzahl", count),
                    _text("kostenInCent", cost),
                )
            )
    root = _el(
        "bestellung",
        _el(
            "nachrichtenkopf",
            _text("nachrichtentyp", MESSAGE_TYPES.get(register, "portal2StA")),
            _text("nachrichtenUUID", new_id()),
            _text("erstellungszeitpunkt", now.isoformat()),
            _el(
                "absender",
                _text("portal", "ozg-gateway"),
                _text("vorgang", document["case_number"]),
            ),
            _el(
                "empfaenger",
                _text("behoerde", document["service"]["office"]["name"]),
                _text("ags", document["service"]["office"]["ags"]),
            ),
        ),
        _text("zweck", form["zweck"]),
        _el(
            "beurkundung",
            _text("urkundenart", form["urkundenart"]),
            _text("registerart", register),
            _text("datum", form["beurkundung"]["ereignisdatum"]),
            _text("ort", form["beurkundung"]["ereignisort"]),
            _text("registernummer", form["beurkundung"].get("registernummer")),
        ),
        *(
            _el(
                "person",
                _text("vornamen", p["vornamen"]),
                _text("familienname", p["familienname"]),
                _text("geburtsname", p.get("geburtsname")),
                _text("geburtsdatum", p.get("geburtsdatum")),
                _text("geburtsort", p.get("geburtsort")),
            )
            for p in form["personen"]
        ),
        _el(
            "antragsteller",
            _text("vornamen", applicant.get("given_name")),
            _text("familienname", applicant.get("family_name")),
            _text("geburtsdatum", form["antragsteller"]["geburtsdatum"]),
            _text("email", applicant.get("email")),
            _text("telefon", applicant.get("phone")),
            _text("beziehung", form["antragsteller"]["beziehung"]),
            _text("begruendung", form["antragsteller"].get("begruendung")),
            _el(
                "sichereIdentifizierung",
                _text("erfolgt", "true" if identity else "false"),
                _text("vertrauensniveau", identity.get("level")),
            ),
        ),
        *copies,
        _el(
            "versand",
            _text("art", form["versand"]["art"]),
            _address(form["versand"].get("anschrift")),
        ),
        _el(
            "zahlung",
            _text("gesamtInCent", document["fee"]["amount_cents"]),
            _text("referenz", payment.get("reference")),
            _text("status", payment.get("status")),
        ),
        *(
            _el(
                "anlage",
                _text("dateiname", a["filename"]),
                _text("mimeType", a["content_type"]),
                _text("groesse", a["size"]),
                _text("sha256", a["sha256"]),
            )
            for a in document.get("attachments", [])
        ),
    )
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
