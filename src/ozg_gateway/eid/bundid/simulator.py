"""A BundID-like identity provider for tests and the demo (``simulate bundid``, ``/demo/bundid``).

``POST /sso`` takes the SP's signed AuthnRequest (HTTP-POST binding) and checks it as BundID
does: the signature against the registered SP certificate and the AKDB extension version 2
with display name, online service id and requested attributes. A malformed request is sent
to ``/sso/error?idp.code=…`` with BundID's codes. A good one shows a page where the tester
picks a person, the method (eID, ELSTER, user name) and the outcome (success, cancel, a
required attribute missing). The answer is a Response with one assertion, signed
(RSASSA-PSS) and encrypted to the SP (AES-256-GCM, RSA-OAEP), posted to the assertion
consumer service by an auto-submitting form; only the requested attributes, each with its
``akdb:TrustLevel``.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from cryptography import x509
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from lxml import etree
from lxml.builder import ElementMaker

from ozg_gateway.eid.bundid import saml
from ozg_gateway.eid.bundid.mapping import (
    AKDB,
    BEARER,
    DS,
    OID,
    PROVED_BY,
    RESIDENCE,
    SAML,
    SAMLP,
    SUCCESS,
    TRANSIENT,
)
from ozg_gateway.eid.bundid.saml import KeyPair, SamlError
from ozg_gateway.specs import SpecMissing, xml_schema

METHODS = {  # method → (AuthnContextClassRef, TrustLevel of its attributes, rank)
    "eID": ("STORK-QAA-Level-4", "HOCH", 4),
    "Elster": ("STORK-QAA-Level-3", "SUBSTANTIELL", 3),
    "Benutzername": ("STORK-QAA-Level-1", "NORMAL", 1),
}
PERSONS: dict[str, dict[str, str]] = {
    "erika": {
        OID["GivenNames"]: "Erika",
        OID["FamilyNames"]: "Mustermann",
        OID["BirthName"]: "Gabler",
        OID["DateOfBirth"]: "1964-08-12",
        OID["PlaceOfBirth"]: "Berlin",
        OID["Nationality"]: "DE",
        OID["RestrictedID"]: "bPK2-3b6e8c2f0d4a1e97",
        OID["CommunityID"]: "0276060435019",
        RESIDENCE["street"]: "Klosterhofstraße 4",
        RESIDENCE["zip_code"]: "63477",
        RESIDENCE["city"]: "Maintal",
        RESIDENCE["country"]: "DE",
    },
    "max": {
        OID["GivenNames"]: "Max",
        OID["FamilyNames"]: "Meier",
        OID["DateOfBirth"]: "2012-03-01",
        OID["PlaceOfBirth"]: "Hanau",
        OID["RestrictedID"]: "bPK2-7c1d2e3f4a5b6c7d",
        OID["CommunityID"]: "0276060435014",
        RESIDENCE["street"]: "Marktplatz 1",
        RESIDENCE["zip_code"]: "63450",
        RESIDENCE["city"]: "Hanau",
        RESIDENCE["country"]: "DE",
    },
}
_CHOICE = """<p>{display} möchte Sie identifizieren.</p>
<form method="post" action="sso/answer"><input type="hidden" name="nonce" value="{nonce}">
<p><label for="person">Person</label> <select id="person" name="person">{people}</select></p>
<p><label for="method">Anmeldeart</label> <select id="method" name="method">
<option value="eID">Online-Ausweis (eID)</option>
<option value="Elster">ELSTER-Zertifikat</option>
<option value="Benutzername">Benutzername und Passwort</option></select></p>
<p><label for="outcome">Ergebnis</label> <select id="outcome" name="outcome">
<option value="success">Erfolgreich anmelden</option>
<option value="cancel">Abbrechen</option>
<option value="missing">Pflichtangabe fehlt</option></select></p>
<p><button>Weiter</button></p></form>"""
_POST_BACK = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>Weiterleitung</title></head><body>
<form method="post" action="{acs}"><input type="hidden" name="SAMLResponse" value="{response}">
<input type="hidden" name="RelayState" value="{relay}">
<noscript><button>Weiter</button></noscript></form>
<script nonce="{nonce}">document.forms[0].submit();</script></body></html>"""
PROTOCOL_XSD = "bundid/saml-schema-protocol-2.0.xsd"
LEVELS = {"STORK-QAA-Level-1": 1, "STORK-QAA-Level-3": 3, "STORK-QAA-Level-4": 4}


@dataclass
class Pending:
    """A checked AuthnRequest waiting for the tester's choice."""

    request_id: str
    acs_url: str
    relay_state: str
    attributes: list[tuple[str, bool]]
    minimum: int


@dataclass
class IdpState:
    """Pending logins and what was answered (tests look)."""

    pending: dict[str, Pending] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)


def _idp_code(code: str) -> RedirectResponse:
    return RedirectResponse(f"sso/error?idp.code={code}", status_code=303)


def _check(root: etree._Element, sp_signing: x509.Certificate) -> str | None:
    """BundID's ``idp.code`` for what is wrong with a request, or None."""
    if root.find(f"{{{DS}}}Signature") is None:
        return "saml-request-not-signed"
    try:
        saml.verify(root, [sp_signing])
    except SamlError:
        return "saml-request-signature-invalid"
    extension = root.find(f"{{{SAMLP}}}Extensions/{{{AKDB}}}AuthenticationRequest")
    if extension is None:
        return "akdb-extension-missing"
    if extension.get("Version") != "2":
        return "akdb-extension-v1-deprecated"
    requested = extension.findall(f"{{{AKDB}}}RequestedAttributes/{{{AKDB}}}RequestedAttribute")
    if not requested:
        return "requested-attributes-empty"
    if any(not r.get("Name") for r in requested):
        return "requested-attributes-missing-name"
    names = [e for e in extension.iter() if etree.QName(e).localname == "OrganizationDisplayName"]
    if not names or not (names[0].text or "").strip():
        return "organization-display-name-missing"
    methods = extension.find(f"{{{AKDB}}}AuthnMethods")
    if methods is not None and not any(
        (m.findtext(f"{{{AKDB}}}Enabled") or "") == "true" for m in methods
    ):
        return "empty-authentication-methods"
    return None


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>{body}"
        "</main></body></html>"
    )


def create_bundid_simulator(
    *,
    idp: KeyPair,
    entity_id: str,
    sp_signing: x509.Certificate,
    sp_encryption: x509.Certificate,
    sp_entity_id: str,
    state: IdpState | None = None,
    specs_dir: Path | None = None,
) -> FastAPI:
    """ASGI app: ``POST /sso``, the choice page, ``POST /sso/answer``, ``GET /sso/error``.

    With ``specs_dir`` every AuthnRequest is also validated against
    saml-schema-protocol-2.0.xsd (``idp.code=saml-request-invalid`` if it is not).
    """
    app = FastAPI(title="BundID simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.bundid = state = state or IdpState()
    try:
        schema = xml_schema(specs_dir, PROTOCOL_XSD) if specs_dir is not None else None
    except SpecMissing:
        schema = None  # a specs directory without the SAML schemas: signature checks only

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return _page(
            "BundID (Simulator)",
            f"<p>Identity Provider <code>{escape(entity_id)}</code>. Service Provider "
            f"<code>{escape(sp_entity_id)}</code> schickt seine signierte AuthnRequest per "
            "HTTP-POST an <code>sso</code>; Anmeldungen beginnen im Portal.</p>",
        )

    @app.post("/sso", response_model=None)
    async def sso(request: Request) -> Response:
        form = await request.form()
        try:
            root = etree.fromstring(
                base64.b64decode(str(form.get("SAMLRequest", ""))),
                etree.XMLParser(resolve_entities=False, no_network=True),
            )
        except (ValueError, etree.XMLSyntaxError):
            return _idp_code("saml-request-invalid")
        if schema is not None and not schema.validate(root):
            return _idp_code("saml-request-invalid")
        code = _check(root, sp_signing)
        if code is not None:
            return _idp_code(code)
        extension = root.find(f"{{{SAMLP}}}Extensions/{{{AKDB}}}AuthenticationRequest")
        assert extension is not None
        wanted = [
            (str(r.get("Name")), r.get("RequiredAttribute") == "true")
            for r in extension.iter(f"{{{AKDB}}}RequestedAttribute")
        ]
        context = root.findtext(f"{{{SAMLP}}}RequestedAuthnContext/{{{SAML}}}AuthnContextClassRef")
        nonce = secrets.token_urlsafe(16)
        state.pending[nonce] = Pending(
            request_id=str(root.get("ID")),
            acs_url=str(root.get("AssertionConsumerServiceURL")),
            relay_state=str(form.get("RelayState", "")),
            attributes=wanted,
            minimum=LEVELS.get((context or "").strip(), 3),
        )
        display = next(
            (
                e.text
                for e in extension.iter()
                if etree.QName(e).localname == "OrganizationDisplayName"
            ),
            "",
        )
        people = "".join(
            f'<option value="{k}">{escape(v[OID["GivenNames"]])} '
            f"{escape(v[OID['FamilyNames']])}</option>"
            for k, v in PERSONS.items()
        )
        return _page(
            "BundID – Anmeldung (Simulator)",
            _CHOICE.format(display=escape(display or ""), nonce=nonce, people=people),
        )

    @app.get("/sso/error")
    async def error(request: Request) -> HTMLResponse:
        code = request.query_params.get("idp.code", "")
        return _page(
            "BundID – Fehler (Simulator)", f"<p>Fehlercode: <code>{escape(code)}</code></p>"
        )

    @app.post("/sso/answer", response_class=HTMLResponse)
    async def answer(request: Request) -> HTMLResponse:
        form = await request.form()
        pending = state.pending.pop(str(form.get("nonce", "")), None)
        if pending is None:
            return _page(
                "BundID – Fehler (Simulator)", "<p>Anmeldung unbekannt oder schon beendet.</p>"
            )
        response = build_response(
            idp=idp,
            entity_id=entity_id,
            pending=pending,
            person=PERSONS.get(str(form.get("person")), PERSONS["erika"]),
            method=str(form.get("method", "eID")),
            outcome=str(form.get("outcome", "success")),
            sp_encryption=sp_encryption,
            sp_entity_id=sp_entity_id,
            now=datetime.now(UTC),
        )
        state.answered.append(pending.request_id)
        encoded = base64.b64encode(etree.tostring(response)).decode()
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(
            _POST_BACK.format(
                acs=escape(pending.acs_url),
                response=encoded,
                relay=escape(pending.relay_state),
                nonce=nonce,
            ),
            headers={"Content-Security-Policy": f"default-src 'none'; script-src 'nonce-{nonce}'"},
        )

    return app


def build_response(
    *,
    idp: KeyPair,
    entity_id: str,
    pending: Pending,
    person: dict[str, str],
    method: str,
    outcome: str,
    sp_encryption: x509.Certificate,
    sp_entity_id: str,
    now: datetime,
    audience: str | None = None,
    lifetime: timedelta = timedelta(minutes=5),
) -> etree._Element:
    """The Response BundID would post for this choice (tests vary audience and lifetime)."""
    p = ElementMaker(namespace=SAMLP, nsmap={"samlp": SAMLP, "saml": SAML})
    a = ElementMaker(namespace=SAML, nsmap={"saml": SAML, "akdb": AKDB})
    context, trust, rank = METHODS.get(method, METHODS["eID"])
    missing = outcome == "missing" or any(
        need and oid not in person for oid, need in pending.attributes
    )
    frame: dict[str, Any] = {
        "ID": f"_{uuid.uuid4().hex}",
        "Version": "2.0",
        "IssueInstant": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Destination": pending.acs_url,
        "InResponseTo": pending.request_id,
    }
    if outcome == "cancel" or missing or rank < pending.minimum:
        sub = (
            "NoAuthnContext" if rank < pending.minimum and outcome == "success" else "RequestDenied"
        )
        return p.Response(
            a.Issuer(entity_id),
            p.Status(
                p.StatusCode(
                    p.StatusCode(Value=f"urn:oasis:names:tc:SAML:2.0:status:{sub}"),
                    Value="urn:oasis:names:tc:SAML:2.0:status:Responder",
                ),
                p.StatusMessage("IDP_REQUIRED_ATTRIBUTES_MISSING" if missing else sub),
            ),
            **frame,
        )
    until = (now + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
    wanted = {oid for oid, _ in pending.attributes}
    values = [(oid, person[oid]) for oid in person if oid in wanted]
    values.append((PROVED_BY, method))
    assertion = a.Assertion(
        a.Issuer(entity_id),
        etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS}),
        a.Subject(
            a.NameID(secrets.token_hex(16), Format=TRANSIENT),
            a.SubjectConfirmation(
                a.SubjectConfirmationData(
                    InResponseTo=pending.request_id, NotOnOrAfter=until, Recipient=pending.acs_url
                ),
                Method=BEARER,
            ),
        ),
        a.Conditions(
            a.AudienceRestriction(a.Audience(audience or sp_entity_id)),
            NotBefore=(now - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            NotOnOrAfter=until,
        ),
        a.AuthnStatement(
            a.AuthnContext(a.AuthnContextClassRef(context)),
            AuthnInstant=frame["IssueInstant"],
            SessionIndex=secrets.token_hex(8),
        ),
        a.AttributeStatement(
            *(
                a.Attribute(
                    a.AttributeValue(value),
                    {f"{{{AKDB}}}TrustLevel": trust},
                    Name=oid,
                    NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
                )
                for oid, value in values
            )
        ),
        ID=f"_{uuid.uuid4().hex}",
        Version="2.0",
        IssueInstant=frame["IssueInstant"],
    )
    signed = saml.sign(assertion, idp, pss=True)
    encrypted = a.EncryptedAssertion(saml.encrypt(signed, sp_encryption))
    return p.Response(
        a.Issuer(entity_id), p.Status(p.StatusCode(Value=SUCCESS)), encrypted, **frame
    )


@dataclass(frozen=True)
class DemoKeys:
    """The simulator's IdP key and the SP keys it knows, with the files the gateway reads."""

    idp: KeyPair
    signing: KeyPair
    encryption: KeyPair
    files: dict[str, str]


def demo_keys(folder: Path) -> DemoKeys:
    """Fresh keys for a demo run (IdP, SP signing, SP encryption) written as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {name: saml.new_pair(f"demo-bundid-{name}") for name in ("idp", "signing", "encryption")}
    files: dict[str, str] = {}
    for name, pair in made.items():
        key, cert = folder / f"{name}.key", folder / f"{name}.pem"
        key.write_bytes(pair.key_pem())
        cert.write_bytes(pair.cert_pem())
        files[f"{name}_key"], files[f"{name}_cert"] = str(key), str(cert)
    return DemoKeys(made["idp"], made["signing"], made["encryption"], files)
