"""An eID-Server for tests and the demo: signed SOAP, sessions, scripted outcomes.

It verifies each request's signature with the configured client certificate and signs every
answer (faults included) with its own key. A session ends with the outcome a test or the
scripted eID-Client chose: ``success``, ``cancelled``, ``expired`` (card), ``wrong_pin``,
``age_false`` (age check not fulfilled).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from lxml import etree
from lxml.builder import ElementMaker

from ozg_gateway.catalog.eid_attributes import MANDATORY_OPERATIONS, ORDER
from ozg_gateway.eid.mapping import DSS, NS
from ozg_gateway.eid.wssec import SignatureRejected, SigningKey, sign_envelope, verify_envelope

E = ElementMaker(namespace=NS, nsmap={"eid": NS, "dss": DSS})
R = ElementMaker(namespace=DSS)
MAJOR = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor"
MINOR = "http://www.bsi.bund.de/eid/server/2.0/resultminor"
CLIENT_MINOR = "http://www.bsi.bund.de/ecard/api/1.1/resultminor"
OUTCOMES = {
    "cancelled": f"{CLIENT_MINOR}/sal#cancellationByUser",
    "expired": f"{MINOR}/getResult#invalidDocument",
    "wrong_pin": f"{CLIENT_MINOR}/sal#securityConditionNotSatisfied",
}

DEFAULT_PERSON: dict[str, Any] = {
    "GivenNames": "ERIKA",
    "FamilyNames": "MUSTERMANN",
    "BirthName": "GABLER",
    "DateOfBirth": "19640812",
    "PlaceOfBirth": "BERLIN",
    "PlaceOfResidence": {
        "Street": "HEIDESTRASSE 17",
        "City": "KÖLN",
        "Country": "D",
        "ZipCode": "51147",
    },
    "DocumentType": "ID",
    "IssuingState": "D",
    "Nationality": "D",
    "RestrictedID": "3b6e8c2f0d4a1e97",
}


@dataclass
class Session:
    """Server-side state of one identification."""

    operations: dict[str, str]
    age: int | None
    psk_id: str
    psk_key: str
    outcome: str | None = None
    counter: int = 0
    finished: bool = False
    person: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PERSON))


SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def _result(minor: str | None = None) -> etree._Element:
    if minor is None:
        return R.Result(R.ResultMajor(f"{MAJOR}#ok"))
    return R.Result(R.ResultMajor(f"{MAJOR}#error"), R.ResultMinor(minor))


# What this simulated server's authorization certificate lets it read (everything it knows).
_READABLE = frozenset(
    {*MANDATORY_OPERATIONS, "BirthName", "PlaceOfResidence", "RestrictedID", "AgeVerification"}
)


def _verification_rights() -> etree._Element:
    """DocumentVerificationRights: every element of OperationsSelectorType, in its order."""
    return E.DocumentVerificationRights(
        *(getattr(E, name)("ALLOWED" if name in _READABLE else "PROHIBITED") for name in ORDER)
    )


def _operation_of(raw: bytes) -> str:
    """The operation an (unverified) request asks for, to answer in its own response type."""
    try:
        root = etree.fromstring(
            raw, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return ""
    body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    first = next((e for e in (body if body is not None else []) if isinstance(e.tag, str)), None)
    return etree.QName(first).localname if first is not None else ""


def rejection(operation: str, minor: str) -> etree._Element:
    """An error answer of the asked operation's response type; a SOAP Fault where that type
    has no Result (getServerInfo) or the operation is unknown."""
    if operation == "useIDRequest":
        # Session and PSK are required by the schema even in an error answer: placeholders.
        return E.useIDResponse(
            E.Session(E.ID("00" * 16)),
            E.PSK(E.ID("0" * 16), E.Key("00" * 16)),
            _result(minor),
        )
    if operation == "getResultRequest":
        return E.getResultResponse(_result(minor))
    fault = etree.Element(
        "{http://schemas.xmlsoap.org/soap/envelope/}Fault", nsmap={"soap": SOAP11}
    )
    etree.SubElement(fault, "faultcode").text = "soap:Client"
    etree.SubElement(fault, "faultstring").text = minor
    return fault


def create_eid_simulator(*, server: SigningKey, client_certificate: x509.Certificate) -> FastAPI:
    """The eID-Server; ``app.state.sessions`` by session id, ``complete()`` ends a session."""
    app = FastAPI(title="eID-Server simulator", docs_url=None, redoc_url=None, openapi_url=None)
    sessions: dict[str, Session] = {}
    by_psk: dict[str, str] = {}
    app.state.sessions = sessions

    def answer(body: etree._Element) -> Response:
        return Response(sign_envelope(body, server, now=datetime.now(UTC)), media_type="text/xml")

    @app.post("/eid")
    async def soap(request: Request) -> Response:
        raw = await request.body()
        try:
            content = verify_envelope(raw, client_certificate, now=datetime.now(UTC))
        except SignatureRejected:
            # As real servers do: an invalid signature only yields internalError, in the
            # answer of the operation that was asked for.
            return answer(rejection(_operation_of(raw), f"{MINOR}/common#internalError"))
        kind = etree.QName(content).localname
        if kind == "useIDRequest":
            return answer(use_id(content))
        if kind == "getResultRequest":
            return answer(get_result(content))
        if kind == "getServerInfoRequest":
            return answer(
                E.getServerInfoResponse(
                    E.ServerVersion(
                        E.VersionString("Simulator 2.4.0"),
                        E.Major("2"),
                        E.Minor("4"),
                        E.Bugfix("0"),
                    ),
                    _verification_rights(),
                )
            )
        return answer(rejection(kind, f"{MINOR}/common#schemaViolation"))

    def use_id(content: etree._Element) -> etree._Element:
        ops_el = content.find(f"{{{NS}}}UseOperations")
        operations = {
            etree.QName(e).localname: e.text or "" for e in (ops_el if ops_el is not None else [])
        }
        age = content.findtext(f"{{{NS}}}AgeVerificationRequest/{{{NS}}}Age")
        session_id, psk_id, psk_key = (
            secrets.token_hex(16),
            secrets.token_hex(16),
            secrets.token_hex(32),
        )
        sessions[session_id] = Session(operations, int(age) if age else None, psk_id, psk_key)
        by_psk[psk_id] = session_id
        return E.useIDResponse(
            E.Session(E.ID(session_id)),
            E.eCardServerAddress("https://eid-server.invalid/ecardpaos"),
            E.PSK(E.ID(psk_id), E.Key(psk_key)),
            _result(),
        )

    def get_result(content: etree._Element) -> etree._Element:
        session_id = content.findtext(f"{{{NS}}}Session/{{{NS}}}ID") or ""
        counter = int(content.findtext(f"{{{NS}}}RequestCounter") or "0")
        session = sessions.get(session_id)
        if session is None or session.finished:
            return E.getResultResponse(_result(f"{MINOR}/getResult#invalidSession"))
        if counter != session.counter + 1:
            session.finished = True
            return E.getResultResponse(_result(f"{MINOR}/getResult#invalidCounter"))
        session.counter = counter
        if session.outcome is None:
            return E.getResultResponse(_result(f"{MINOR}/getResult#noResultYet"))
        session.finished = True  # one-shot, as the TR says
        if session.outcome in OUTCOMES:
            return E.getResultResponse(_result(OUTCOMES[session.outcome]))
        return _personal_data(session)

    @app.get("/client")
    async def scripted_client(tcTokenURL: str, outcome: str = "success") -> Response:
        """A scripted eID-Client (stands in for the AusweisApp): fetch the TC Token, finish the
        session with ``outcome``, send the browser to the RefreshAddress."""
        import httpx

        async with httpx.AsyncClient(timeout=10) as client:
            token = etree.fromstring((await client.get(tcTokenURL)).content)
        session_id = by_psk.get(token.findtext("SessionIdentifier") or "")
        if session_id is None:
            return JSONResponse({"error": "unknown session"}, status_code=404)
        sessions[session_id].outcome = outcome
        return RedirectResponse(token.findtext("RefreshAddress") or "/", status_code=303)

    @app.post("/simulate/complete")
    async def complete(request: Request) -> JSONResponse:
        data = await request.json()
        session_id = by_psk.get(str(data.get("psk_id")))
        if session_id is None:
            return JSONResponse({"error": "unknown session"}, status_code=404)
        sessions[session_id].outcome = str(data.get("outcome", "success"))
        return JSONResponse({"ok": True})

    return app


def _personal_data(session: Session) -> etree._Element:
    wanted = {k for k, v in session.operations.items() if v in ("REQUIRED", "ALLOWED")}
    data = E.PersonalData()
    for name in ORDER:
        if name not in wanted or name not in session.person:
            continue
        value = session.person[name]
        if name == "DateOfBirth":
            data.append(E.DateOfBirth(E.DateString(value)))
        elif name in ("PlaceOfBirth",):
            data.append(E.PlaceOfBirth(E.FreetextPlace(value)))
        elif name == "PlaceOfResidence":
            data.append(
                E.PlaceOfResidence(E.StructuredPlace(*(getattr(E, k)(v) for k, v in value.items())))
            )
        elif name == "RestrictedID":
            data.append(E.RestrictedID(E.ID(value)))
        else:
            data.append(getattr(E, name)(value))
    response = E.getResultResponse(data)
    if session.age is not None:
        fulfils = "false" if session.outcome == "age_false" else "true"
        response.append(E.FulfilsAgeVerification(E.FulfilsRequest(fulfils)))
    response.append(E.LevelOfAssuranceResult("http://bsi.bund.de/eID/LoA/hoch"))
    response.append(_result())
    return response


def demo_keys(folder: Any) -> tuple[SigningKey, SigningKey, dict[str, str]]:
    """Fresh RSA keys and self-signed certificates for the demo: (server, gateway, file paths)."""
    from pathlib import Path

    from ozg_gateway.eid.bundid.saml import new_pair

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, SigningKey] = {}
    paths: dict[str, str] = {}
    for name in ("server", "gateway"):
        pair = new_pair(f"demo-{name}", days=7)
        made[name] = SigningKey(pair.key, pair.certificate)
        key_path, cert_path = folder / f"{name}.key", folder / f"{name}.pem"
        key_path.write_bytes(pair.key_pem())
        cert_path.write_bytes(pair.cert_pem())
        paths[f"{name}_key"], paths[f"{name}_cert"] = str(key_path), str(cert_path)
    return made["server"], made["gateway"], paths
