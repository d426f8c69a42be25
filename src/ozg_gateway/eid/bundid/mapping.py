"""Pure parts of the BundID profile: the AuthnRequest with the AKDB extension, our SP metadata,
and what a decrypted, verified assertion says (read by attribute ``Name``, never FriendlyName).

The offer's eID policy names attributes the way the eID-Server does (``GivenNames`` …); the
table below maps them onto BundID's OIDs, so one catalogue entry serves both methods and only
the offer's attributes are requested (data minimisation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree
from lxml.builder import ElementMaker

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
AKDB = "https://www.akdb.de/request/2018/09"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

# The level of the eID path → the BundID context class asked for as the minimum.
LEVEL_CLASS = {"substantial": "STORK-QAA-Level-3", "high": "STORK-QAA-Level-4"}
CLASS_LEVEL = {
    "STORK-QAA-Level-1": "low",
    "STORK-QAA-Level-2": "low",
    "STORK-QAA-Level-3": "substantial",
    "STORK-QAA-Level-4": "high",
}
RANK = {"low": 1, "substantial": 3, "high": 4}
TRUST = {"UNTERGEORDNET": 1, "NORMAL": 2, "SUBSTANTIELL": 3, "HOCH": 4}

OID = {
    "GivenNames": "urn:oid:2.5.4.42",
    "FamilyNames": "urn:oid:2.5.4.4",
    "BirthName": "urn:oid:1.2.40.0.10.2.1.1.225566",
    "DateOfBirth": "urn:oid:1.2.40.0.10.2.1.1.55",
    "PlaceOfBirth": "urn:oid:1.3.6.1.5.5.7.9.2",
    "Nationality": "urn:oid:1.2.40.0.10.2.1.1.225577",
    "AcademicTitle": "urn:oid:0.9.2342.19200300.100.1.40",
    "DocumentType": "urn:oid:1.2.40.0.10.2.1.1.552255",
    "CommunityID": "urn:oid:1.3.6.1.4.1.25484.494450.5",
    "RestrictedID": "urn:oid:1.3.6.1.4.1.25484.494450.3",  # bPK2, the stable pseudonym
}
RESIDENCE = {
    "street": "urn:oid:2.5.4.16",
    "zip_code": "urn:oid:2.5.4.17",
    "city": "urn:oid:2.5.4.7",
    "country": "urn:oid:1.2.40.0.10.2.1.1.225599",
}
PROVED_BY = "urn:oid:1.3.6.1.4.1.25484.494450.2"
SESSION_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"

# Statuses (second-level codes included) → what the citizen reads.
STATUS_MESSAGES = {
    "RequestDenied": "Die Anmeldung wurde abgebrochen oder es fehlen Angaben, die diese "
    "Leistung braucht.",
    "AuthnFailed": "Die Anmeldung bei BundID ist fehlgeschlagen.",
    "NoAuthnContext": "Mit dieser Anmeldeart ist das nötige Vertrauensniveau nicht erreicht.",
    "RequestUnsupported": "Die Anmeldung bei BundID ist fehlgeschlagen.",
}
GENERIC_FAILURE = "Die Anmeldung bei BundID ist fehlgeschlagen. Bitte versuchen Sie es erneut."


class AssertionRefused(ValueError):
    """Why an assertion is not accepted (for the log); the citizen gets a plain message."""


@dataclass(frozen=True)
class Requested:
    """The attributes an offer's policy allows, as BundID OIDs with required/optional."""

    attributes: tuple[tuple[str, bool], ...]
    level: str  # substantial / high


def requested(
    *, required: Iterable[str], optional: Iterable[str], level: str | None, checks: Iterable[str]
) -> Requested:
    """The request for a policy: its attributes, plus what its yes/no checks need
    (``DateOfBirth`` for an age check, ``CommunityID`` for the place) — read, then dropped."""
    wanted: dict[str, bool] = {}
    for name in required:
        for oid in _oids(name):
            wanted[oid] = True
    for name in optional:
        for oid in _oids(name):
            wanted.setdefault(oid, False)
    for name in checks:
        for oid in _oids(name):
            wanted.setdefault(oid, True)
    return Requested(tuple(wanted.items()), level or "substantial")


def _oids(name: str) -> list[str]:
    if name == "PlaceOfResidence":
        return list(RESIDENCE.values())
    return [OID[name]] if name in OID else []


def build_authn_request(
    *,
    request_id: str,
    issued_at: datetime,
    sso_url: str,
    acs_url: str,
    entity_id: str,
    wanted: Requested,
    display_name: str,
    online_service_id: str,
    classic_ui: str,
    authn_methods: Mapping[str, bool],
) -> etree._Element:
    """The unsigned AuthnRequest; ``<ds:Signature Id="placeholder"/>`` marks where the
    signature goes (after Issuer, as the schema orders it)."""
    p = ElementMaker(namespace=SAMLP, nsmap={"samlp": SAMLP, "saml": SAML})
    a = ElementMaker(namespace=SAML)
    k = ElementMaker(namespace=AKDB, nsmap={"akdb": AKDB, "classic-ui": classic_ui})
    c = ElementMaker(namespace=classic_ui)
    extension = k.AuthenticationRequest(
        k.RequestedAttributes(
            *(
                k.RequestedAttribute(Name=oid, RequiredAttribute="true" if need else "false")
                for oid, need in wanted.attributes
            )
        ),
        k.DisplayInformation(
            c.Version(
                c.OrganizationDisplayName(display_name),
                c.OnlineServiceId(online_service_id),
            )
        ),
        Version="2",
    )
    if authn_methods:
        methods = k.AuthnMethods(
            *(
                k.Method(k.Enabled("true" if on else "false"), Name=name)
                for name, on in authn_methods.items()
            )
        )
        extension.insert(0, methods)
    signature_slot = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
    return p.AuthnRequest(
        a.Issuer(entity_id),
        signature_slot,
        p.Extensions(extension),
        p.NameIDPolicy(Format=TRANSIENT, AllowCreate="true"),
        p.RequestedAuthnContext(
            a.AuthnContextClassRef(LEVEL_CLASS.get(wanted.level, LEVEL_CLASS["substantial"])),
            Comparison="minimum",
        ),
        ID=request_id,
        Version="2.0",
        IssueInstant=_instant(issued_at),
        Destination=sso_url,
        ForceAuthn="true",
        IsPassive="false",
        ProtocolBinding=POST_BINDING,
        AssertionConsumerServiceURL=acs_url,
    )


def build_metadata(
    *,
    entity_id: str,
    acs_url: str,
    signing_pem: Iterable[str],
    encryption_pem: Iterable[str],
    display_name: str,
) -> etree._Element:
    """SP metadata: no ``validUntil``, no ``ID`` (BundID's rules); every current and next key."""
    m = ElementMaker(namespace=MD, nsmap={"md": MD, "ds": DS})
    d = ElementMaker(namespace=DS)

    def descriptor(use: str, pem: str) -> etree._Element:
        body = "".join(line for line in pem.splitlines() if "-----" not in line)
        return m.KeyDescriptor(d.KeyInfo(d.X509Data(d.X509Certificate(body))), use=use)

    keys = [descriptor("signing", p) for p in signing_pem]
    keys += [descriptor("encryption", p) for p in encryption_pem]
    return m.EntityDescriptor(
        m.SPSSODescriptor(
            *keys,
            m.NameIDFormat(TRANSIENT),
            m.AssertionConsumerService(
                Binding=POST_BINDING, Location=acs_url, index="0", isDefault="true"
            ),
            AuthnRequestsSigned="true",
            WantAssertionsSigned="true",
            protocolSupportEnumeration=SAMLP,
        ),
        m.Organization(
            m.OrganizationName(display_name, {"{http://www.w3.org/XML/1998/namespace}lang": "de"}),
            m.OrganizationDisplayName(
                display_name, {"{http://www.w3.org/XML/1998/namespace}lang": "de"}
            ),
            m.OrganizationURL(entity_id, {"{http://www.w3.org/XML/1998/namespace}lang": "de"}),
        ),
        entityID=entity_id,
    )


def _instant(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: str | None) -> datetime:
    if not value:
        raise AssertionRefused("a required time is missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class ResponseHead:
    """The unencrypted frame of a Response: whom it answers and how it ended."""

    in_response_to: str | None
    destination: str | None
    issuer: str | None
    status: str
    sub_status: str | None
    encrypted: etree._Element | None


def read_response(root: etree._Element) -> ResponseHead:
    """The Response's frame (no trust yet: the assertion inside is what gets verified)."""
    if root.tag != f"{{{SAMLP}}}Response":
        raise AssertionRefused("not a SAML Response")
    code = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    inner = code.find(f"{{{SAMLP}}}StatusCode") if code is not None else None
    encrypted = root.findall(f"{{{SAML}}}EncryptedAssertion")
    if len(encrypted) > 1 or root.findall(f"{{{SAML}}}Assertion"):
        raise AssertionRefused("exactly one encrypted assertion is accepted")
    return ResponseHead(
        in_response_to=root.get("InResponseTo"),
        destination=root.get("Destination"),
        issuer=root.findtext(f"{{{SAML}}}Issuer"),
        status=(code.get("Value") if code is not None else None) or "",
        sub_status=inner.get("Value") if inner is not None else None,
        encrypted=encrypted[0] if encrypted else None,
    )


def status_message(head: ResponseHead) -> str:
    """The citizen's words for a response that did not succeed."""
    for value in (head.sub_status, head.status):
        short = (value or "").rsplit(":", 1)[-1]
        if short in STATUS_MESSAGES:
            return STATUS_MESSAGES[short]
    return GENERIC_FAILURE


@dataclass
class BundIdIdentity:
    """A verified assertion, read: attributes by our names with each one's trust level."""

    attributes: dict[str, object] = field(default_factory=dict)
    trust: dict[str, int] = field(default_factory=dict)
    level: str | None = None
    proved_by: str | None = None
    assertion_id: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Expected:
    """What the assertion must match."""

    request_id: str
    acs_url: str
    entity_id: str
    idp_entity_id: str
    now: datetime
    skew: timedelta


def read_assertion(assertion: etree._Element, expected: Expected) -> BundIdIdentity:
    """The verified assertion's content, after every check a SAML SP owes (raises
    AssertionRefused): issuer, bearer confirmation, recipient, InResponseTo, time window,
    audience."""
    now, skew = expected.now, expected.skew
    if assertion.findtext(f"{{{SAML}}}Issuer") != expected.idp_entity_id:
        raise AssertionRefused("assertion from another issuer")
    data = assertion.find(
        f"{{{SAML}}}Subject/{{{SAML}}}SubjectConfirmation[@Method='{BEARER}']"
        f"/{{{SAML}}}SubjectConfirmationData"
    )
    if data is None:
        raise AssertionRefused("no bearer subject confirmation")
    if data.get("Recipient") != expected.acs_url:
        raise AssertionRefused("assertion for another recipient")
    if data.get("InResponseTo") != expected.request_id:
        raise AssertionRefused("assertion answers another request")
    if _time(data.get("NotOnOrAfter")) <= now - skew:
        raise AssertionRefused("subject confirmation expired")
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    if conditions is None:
        raise AssertionRefused("assertion without conditions")
    if conditions.get("NotBefore") and _time(conditions.get("NotBefore")) > now + skew:
        raise AssertionRefused("assertion not yet valid")
    expires = _time(conditions.get("NotOnOrAfter"))
    if expires <= now - skew:
        raise AssertionRefused("assertion expired")
    audiences = [
        a.text for a in conditions.findall(f"{{{SAML}}}AudienceRestriction/{{{SAML}}}Audience")
    ]
    if expected.entity_id not in audiences:
        raise AssertionRefused("assertion for another audience")
    identity = BundIdIdentity(assertion_id=assertion.get("ID") or "", expires_at=expires)
    context = assertion.findtext(
        f"{{{SAML}}}AuthnStatement/{{{SAML}}}AuthnContext/{{{SAML}}}AuthnContextClassRef"
    )
    identity.level = CLASS_LEVEL.get((context or "").strip())
    values = _attributes(assertion)
    by_oid = {oid: name for name, oid in OID.items()}
    for oid, (value, trust) in values.items():
        if oid in by_oid:
            name = by_oid[oid]
            identity.attributes[name] = _typed(name, value)
            identity.trust[name] = trust
    residence = {key: values[oid][0] for key, oid in RESIDENCE.items() if oid in values}
    if residence:
        identity.attributes["PlaceOfResidence"] = residence
        identity.trust["PlaceOfResidence"] = min(
            values[oid][1] for oid in RESIDENCE.values() if oid in values
        )
    identity.proved_by = values.get(PROVED_BY, (None, 0))[0]
    return identity


def _attributes(assertion: etree._Element) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    path = f"{{{SAML}}}AttributeStatement/{{{SAML}}}Attribute"
    for attribute in assertion.findall(path):
        name = attribute.get("Name")
        value = attribute.findtext(f"{{{SAML}}}AttributeValue")
        if name and value is not None:
            trust = TRUST.get(attribute.get(f"{{{AKDB}}}TrustLevel") or "", 0)
            out[name] = (value.strip(), trust)
    return out


def _typed(name: str, value: str) -> object:
    """The eID-Server's shapes, so results of both methods read alike."""
    if name == "DateOfBirth":
        return {"date": value, "partial": None}
    if name == "PlaceOfBirth":
        return {"freetext": value}
    return value
