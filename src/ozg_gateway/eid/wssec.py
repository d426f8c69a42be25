"""WS-Security for the eID-Interface: signed requests, strictly verified responses.

Signing (asymmetric binding as TR-03130 requires): a ``wsu:Timestamp`` and the SOAP ``Body``
get ``wsu:Id``s; one ``ds:Signature`` (exclusive C14N, RSA-SHA256, SHA-256 digests) references
both; the key is referenced by issuer and serial number, not embedded.

Verification accepts a response only if the signature verifies with the *configured* eID-Server
certificate and its references cover the envelope's own Body and the Timestamp (looked up by
position, not only by Id, so a signed Body moved elsewhere — signature wrapping — fails), and the
Timestamp has not expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from lxml.builder import ElementMaker

from ozg_gateway.errors import PermanentError

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
WSU_ID = f"{{{WSU}}}Id"

S = ElementMaker(namespace=SOAP, nsmap={"soap": SOAP})
SEC = ElementMaker(namespace=WSSE, nsmap={"wsse": WSSE, "wsu": WSU})
U = ElementMaker(namespace=WSU, nsmap={"wsu": WSU})
D = ElementMaker(namespace=DS, nsmap={"ds": DS})


class SignatureRejected(PermanentError):
    """A response without a valid signature of the configured eID-Server."""


@dataclass(frozen=True)
class SigningKey:
    """Our private key and certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _digest(element: etree._Element) -> str:
    return base64.b64encode(hashlib.sha256(_c14n(element)).digest()).decode()


def _reference(uri: str, digest: str) -> etree._Element:
    return D.Reference(
        D.Transforms(D.Transform(Algorithm=EXC_C14N)),
        D.DigestMethod(Algorithm=SHA256),
        D.DigestValue(digest),
        URI=uri,
    )


def sign_envelope(
    body_content: etree._Element, key: SigningKey, *, now: datetime, ttl: int = 300
) -> bytes:
    """SOAP 1.1 envelope with ``body_content``, signed over Body and Timestamp."""
    timestamp = U.Timestamp(
        U.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        U.Expires((now + timedelta(seconds=ttl)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    )
    timestamp.set(WSU_ID, "TS-1")
    body = S.Body(body_content)
    body.set(WSU_ID, "Body-1")
    security = SEC.Security(timestamp)
    security.set(f"{{{SOAP}}}mustUnderstand", "1")
    envelope = S.Envelope(S.Header(security), body)
    # Digests are computed in the final document context (exclusive C14N makes them stable).
    signed_info = D.SignedInfo(
        D.CanonicalizationMethod(Algorithm=EXC_C14N),
        D.SignatureMethod(Algorithm=RSA_SHA256),
        _reference("#Body-1", _digest(body)),
        _reference("#TS-1", _digest(timestamp)),
    )
    signature = D.Signature(signed_info)
    security.append(signature)
    value = key.key.sign(_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())
    cert = key.certificate
    signature.append(D.SignatureValue(base64.b64encode(value).decode()))
    signature.append(
        D.KeyInfo(
            SEC.SecurityTokenReference(
                D.X509Data(
                    D.X509IssuerSerial(
                        D.X509IssuerName(cert.issuer.rfc4514_string()),
                        D.X509SerialNumber(str(cert.serial_number)),
                    )
                )
            )
        )
    )
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def verify_envelope(xml: bytes, certificate: x509.Certificate, *, now: datetime) -> etree._Element:
    """Verify a signed response; return the Body's first child. Raises SignatureRejected."""
    try:
        envelope = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SignatureRejected("response is not XML") from exc
    body = envelope.find(f"{{{SOAP}}}Body")
    security = envelope.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security")
    if body is None or security is None:
        raise SignatureRejected("response is not signed")
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    signatures = security.findall(f"{{{DS}}}Signature")
    if timestamp is None or len(signatures) != 1:
        raise SignatureRejected("response lacks timestamp or has no single signature")
    signed_info = signatures[0].find(f"{{{DS}}}SignedInfo")
    value = signatures[0].findtext(f"{{{DS}}}SignatureValue")
    if signed_info is None or not value:
        raise SignatureRejected("signature incomplete")
    _check_algorithms(signed_info)
    references = _resolve(envelope, signed_info)
    # Anti-wrapping: the references must resolve to *this* envelope's Body and Timestamp.
    covered = {id(target) for _, target in references}
    if id(body) not in covered or id(timestamp) not in covered:
        raise SignatureRejected("signature does not cover the Body and the Timestamp")
    for ref, target in references:
        if not hmac.compare_digest(ref.findtext(f"{{{DS}}}DigestValue") or "", _digest(target)):
            raise SignatureRejected("digest mismatch")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureRejected("server certificate has no RSA key")
    try:
        public_key.verify(
            base64.b64decode(value), _c14n(signed_info), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise SignatureRejected(
            "signature does not verify with the eID-Server certificate"
        ) from exc
    expires = timestamp.findtext(f"{{{WSU}}}Expires")
    if not expires or datetime.fromisoformat(expires.replace("Z", "+00:00")) < now:
        raise SignatureRejected("response timestamp expired")
    content = next((c for c in body if isinstance(c.tag, str)), None)
    if content is None:
        raise SignatureRejected("empty Body")
    return content


def _check_algorithms(signed_info: etree._Element) -> None:
    method = signed_info.find(f"{{{DS}}}SignatureMethod")
    c14n = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    if method is None or method.get("Algorithm") != RSA_SHA256:
        raise SignatureRejected("signature algorithm must be RSA-SHA256")
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise SignatureRejected("canonicalization must be exclusive C14N")


def _resolve(
    envelope: etree._Element, signed_info: etree._Element
) -> list[tuple[etree._Element, etree._Element]]:
    """(Reference, target) pairs; ids must be unique, digests SHA-256."""
    ids: dict[str, list[etree._Element]] = {}
    for el in envelope.iter():
        if isinstance(el.tag, str) and el.get(WSU_ID):
            ids.setdefault(el.get(WSU_ID, ""), []).append(el)
    found = []
    for ref in signed_info.findall(f"{{{DS}}}Reference"):
        uri = ref.get("URI", "")
        if not uri.startswith("#"):
            raise SignatureRejected("only same-document references are accepted")
        targets = ids.get(uri[1:], [])
        if len(targets) != 1:
            raise SignatureRejected("reference target missing or ambiguous")
        method = ref.find(f"{{{DS}}}DigestMethod")
        if method is None or method.get("Algorithm") != SHA256:
            raise SignatureRejected("digests must be SHA-256")
        found.append((ref, targets[0]))
    return found
