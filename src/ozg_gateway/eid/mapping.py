"""eID-Interface messages (namespace http://bsi.bund.de/eID/): build requests, parse responses.

Requests follow the 2.0.2 schema; responses are read by local name so 2.3/2.4 servers work
(CommunityID, LevelOfAssuranceResult, partial dates, street and house number in one string).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from lxml import etree
from lxml.builder import ElementMaker

from ozg_gateway.catalog.eid_attributes import MANDATORY_OPERATIONS, ORDER
from ozg_gateway.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    PermanentError,
    TransientError,
)

NS = "http://bsi.bund.de/eID/"
DSS = "urn:oasis:names:tc:dss:1.0:core:schema"
E = ElementMaker(namespace=NS, nsmap={"eid": NS})

REQUIRED_IN_SCHEMA = (
    *MANDATORY_OPERATIONS,
    "BirthName",
    "PlaceOfResidence",
    "ResidencePermitI",
    "RestrictedID",
    "AgeVerification",
    "PlaceVerification",
)

Operation = Literal["REQUIRED", "ALLOWED", "PROHIBITED"]


@dataclass(frozen=True)
class EidPolicy:
    """What an offer may learn: attributes, and yes/no checks instead of data where enough."""

    required: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    min_age: int | None = None
    community_id: str | None = None  # place verification against the municipality

    def operations(self) -> dict[str, Operation]:
        """UseOperations: everything not needed is PROHIBITED (data minimisation)."""
        ops: dict[str, Operation] = dict.fromkeys(REQUIRED_IN_SCHEMA, "PROHIBITED")
        for name in self.allowed:
            ops[name] = "ALLOWED"
        for name in self.required:
            ops[name] = "REQUIRED"
        if self.min_age is not None:
            ops["AgeVerification"] = "REQUIRED"
        if self.community_id is not None:
            ops["PlaceVerification"] = "REQUIRED"
        unknown = set(ops) - set(ORDER)
        if unknown:
            raise ValueError(f"unknown eID attributes: {sorted(unknown)}")
        return ops

    def visible(self) -> frozenset[str]:
        """Attributes the portal may receive."""
        return self.required | self.allowed


def community_id(ags: str) -> str:
    """CommunityID (TR-03127): 0 + 276 + Land(2) + 0+Regierungsbezirk(1) + Kreis(2) + 0+Gemeinde(3).

    >>> community_id("06435019")
    '02760604350019'
    """
    if len(ags) != 8 or not ags.isdigit():
        raise ValueError("AGS must have 8 digits")
    return f"0276{ags[0:2]}0{ags[2]}{ags[3:5]}0{ags[5:8]}"


def build_use_id(policy: EidPolicy) -> etree._Element:
    """useIDRequest for a policy."""
    ops = policy.operations()
    use = E.UseOperations(*(getattr(E, name)(ops[name]) for name in ORDER if name in ops))
    request = E.useIDRequest(use)
    if policy.min_age is not None:
        request.append(E.AgeVerificationRequest(E.Age(str(policy.min_age))))
    if policy.community_id is not None:
        request.append(E.PlaceVerificationRequest(E.CommunityID(policy.community_id)))
    return request


def build_get_result(session_id: str, counter: int) -> etree._Element:
    """getResultRequest; the counter must rise by one on every call."""
    return E.getResultRequest(E.Session(E.ID(session_id)), E.RequestCounter(str(counter)))


def build_get_server_info() -> etree._Element:
    """getServerInfoRequest (health check and version switch)."""
    return E.getServerInfoRequest()


# --- responses ------------------------------------------------------------------------------
def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _find(el: etree._Element | None, *path: str) -> etree._Element | None:
    node = el
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if isinstance(c.tag, str) and _local(c) == name), None)
    return node


def _text(el: etree._Element | None, *path: str) -> str | None:
    node = _find(el, *path)
    return node.text.strip() if node is not None and node.text else None


@dataclass(frozen=True)
class Result:
    """dss:Result: major and minor URIs."""

    major: str
    minor: str | None = None

    @property
    def ok(self) -> bool:
        """ResultMajor#ok."""
        return self.major.endswith("#ok")


def parse_result(body: etree._Element) -> Result:
    """The Result element of any response."""
    node = _find(body, "Result")
    if node is None:
        raise PermanentError("eID-Server answered without Result")
    return Result(_text(node, "ResultMajor") or "", _text(node, "ResultMinor"))


@dataclass(frozen=True)
class UseIdAnswer:
    """Session, eCard server address and PSK from useIDResponse (all secrets: never log)."""

    session_id: str
    server_address: str | None
    psk_id: str
    psk_key: str


def parse_use_id(body: etree._Element) -> UseIdAnswer:
    """useIDResponse (raises for an error result)."""
    raise_for(parse_result(body))
    session = _text(body, "Session", "ID")
    psk_id, psk_key = _text(body, "PSK", "ID"), _text(body, "PSK", "Key")
    if not (session and psk_id and psk_key):
        raise PermanentError("useIDResponse lacks session or PSK")
    return UseIdAnswer(session, _text(body, "eCardServerAddress"), psk_id, psk_key)


@dataclass(frozen=True)
class Identity:
    """getResult, normalised: attributes by name, checks, level of assurance."""

    attributes: dict[str, object] = field(default_factory=dict)
    age_ok: bool | None = None
    place_ok: bool | None = None
    level: str | None = None
    allowed_by_user: dict[str, str] = field(default_factory=dict)

    def minimised(self, policy: EidPolicy) -> dict[str, object]:
        """Only what the offer may see."""
        return {k: v for k, v in self.attributes.items() if k in policy.visible()}


def _date(node: etree._Element | None) -> dict[str, object] | None:
    if node is None:
        return None
    text = _text(node, "DateString") or ""
    value = _text(node, "DateValue")
    complete = value or (text if len(text) == 8 and text.isdigit() else None)
    iso = None
    if complete:
        digits = complete.replace("-", "")
        iso = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    return {"date": iso, "partial": None if iso else text}


def _place(node: etree._Element | None) -> dict[str, object] | None:
    if node is None:
        return None
    structured = _find(node, "StructuredPlace")
    if structured is not None:
        return {
            "street": _text(structured, "Street"),  # street and house number in one string
            "city": _text(structured, "City"),
            "state": _text(structured, "State"),
            "country": _text(structured, "Country"),
            "zip_code": _text(structured, "ZipCode"),
        }
    free = _text(node, "FreetextPlace")
    return {"freetext": free} if free else {"no_place_info": _text(node, "NoPlaceInfo")}


_SIMPLE = (
    "DocumentType",
    "IssuingState",
    "DateOfExpiry",
    "GivenNames",
    "FamilyNames",
    "ArtisticName",
    "AcademicTitle",
    "Nationality",
    "BirthName",
    "ResidencePermitI",
    "CommunityID",
    "MunicipalityID",
)


def parse_get_result(body: etree._Element) -> Identity:
    """getResultResponse, leniently (2.0.2 to 2.4); raises NoResultYet while pending."""
    raise_for(parse_result(body))
    data = _find(body, "PersonalData")
    attributes: dict[str, object] = {}
    for name in _SIMPLE:
        value = _text(data, name)
        if value is not None:
            attributes[name] = value
    for name in ("DateOfBirth",):
        parsed = _date(_find(data, name))
        if parsed:
            attributes[name] = parsed
    for name in ("PlaceOfBirth", "PlaceOfResidence"):
        parsed_place = _place(_find(data, name))
        if parsed_place:
            attributes[name] = parsed_place
    restricted = _text(data, "RestrictedID", "ID")
    if restricted:
        attributes["RestrictedID"] = restricted
    allowed = _find(body, "OperationsAllowedByUser")
    return Identity(
        attributes=attributes,
        age_ok=_bool(_text(body, "FulfilsAgeVerification", "FulfilsRequest")),
        place_ok=_bool(_text(body, "FulfilsPlaceVerification", "FulfilsRequest")),
        level=_text(body, "LevelOfAssuranceResult"),
        allowed_by_user={
            _local(c): (c.text or "").strip()
            for c in (allowed if allowed is not None else [])
            if isinstance(c.tag, str)
        },
    )


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


# --- result codes ---------------------------------------------------------------------------
MINOR = "http://www.bsi.bund.de/eid/server/2.0/resultminor"


class NoResultYet(TransientError):
    """getResult: the citizen has not finished yet; ask again with counter + 1."""


class EidError(ConnectorError):
    """Base for eID failures that carry a message for the citizen."""


# minor suffix → (error class, message for the citizen)
RESULT_MINORS: dict[str, tuple[type[ConnectorError], str]] = {
    "/getResult#noResultYet": (NoResultYet, "Die Identifizierung läuft noch."),
    "/common#internalError": (
        TransientError,
        "Der eID-Dienst hat einen Fehler gemeldet. Bitte später erneut versuchen.",
    ),
    "/common#schemaViolation": (PermanentError, "Die Anfrage an den eID-Dienst war fehlerhaft."),
    "/useID#invalidPSK": (PermanentError, "Die Anfrage an den eID-Dienst war fehlerhaft."),
    "/useID#tooManyOpenSessions": (
        TransientError,
        "Der eID-Dienst ist ausgelastet. Bitte gleich erneut versuchen.",
    ),
    "/useID#missingArgument": (PermanentError, "Die Anfrage an den eID-Dienst war unvollständig."),
    "/useID#missingTerminalRights": (
        ConnectorConfigError,
        "Diese Angaben dürfen nicht ausgelesen werden.",
    ),
    "/getResult#invalidSession": (
        PermanentError,
        "Die Sitzung ist abgelaufen. Bitte neu beginnen.",
    ),
    "/getResult#invalidCounter": (PermanentError, "Die Sitzung ist ungültig. Bitte neu beginnen."),
    "/getResult#deniedDocument": (PermanentError, "Dieser Ausweis wird nicht akzeptiert."),
    "/getResult#invalidDocument": (PermanentError, "Der Ausweis ist ungültig oder gesperrt."),
}
CLIENT_MINORS: dict[str, str] = {
    "cancellationByUser": "Sie haben den Vorgang abgebrochen.",
    "trustedChannelEstablishmentFailed": "Keine Verbindung zum Ausweis möglich.",
}


def user_message(minor: str | None) -> str:
    """A message for the citizen for any minor code (unknown ones get a generic text)."""
    for suffix, (_, message) in RESULT_MINORS.items():
        if minor and minor.endswith(suffix):
            return message
    for key, message in CLIENT_MINORS.items():
        if minor and minor.endswith(key):
            return message
    return "Die Identifizierung ist fehlgeschlagen."


def raise_for(result: Result) -> None:
    """Map a non-ok result to the error taxonomy (the minor URI is kept for support)."""
    if result.ok:
        return
    for suffix, (cls, _) in RESULT_MINORS.items():
        if result.minor and result.minor.endswith(suffix):
            raise cls(f"eID result {suffix}", code=result.minor)
    if result.minor and "denied" in result.minor.lower():
        raise ConnectorAuthError("eID access denied", code=result.minor)
    raise PermanentError("eID error", code=result.minor)


def operations_of(mapping: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Stable order of an operations mapping (for logs-free diagnostics and tests)."""
    return sorted(mapping.items())
