"""WS-Security: our signatures verify; unsigned, wrongly signed, tampered, wrapped and expired
responses are rejected."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from ozg_gateway.eid.mapping import build_get_result
from ozg_gateway.eid.wssec import (
    SOAP,
    WSSE,
    SignatureRejected,
    SigningKey,
    sign_envelope,
    verify_envelope,
)

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def _key(cn: str) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key, cert)


SERVER = _key("eid-server.test")
OTHER = _key("attacker.test")


def _signed() -> bytes:
    return sign_envelope(build_get_result("00" * 16, 1), SERVER, now=NOW)


def test_round_trip() -> None:
    content = verify_envelope(_signed(), SERVER.certificate, now=NOW)
    assert etree.QName(content).localname == "getResultRequest"


def test_unsigned_and_foreign_signatures_are_rejected() -> None:
    unsigned = etree.tostring(
        etree.fromstring(
            f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><x/></soap:Body></soap:Envelope>'
        )
    )
    with pytest.raises(SignatureRejected, match="not signed"):
        verify_envelope(unsigned, SERVER.certificate, now=NOW)
    foreign = sign_envelope(build_get_result("00" * 16, 1), OTHER, now=NOW)
    with pytest.raises(SignatureRejected, match="does not verify"):
        verify_envelope(foreign, SERVER.certificate, now=NOW)


def test_tampered_body_is_rejected() -> None:
    tampered = _signed().replace(b"<eid:RequestCounter>1<", b"<eid:RequestCounter>2<")
    with pytest.raises(SignatureRejected, match="digest"):
        verify_envelope(tampered, SERVER.certificate, now=NOW)


def test_signature_wrapping_is_rejected() -> None:
    doc = etree.fromstring(_signed())
    body = doc.find(f"{{{SOAP}}}Body")
    assert body is not None
    # Classic wrapping: hide the signed Body in the header, put an evil Body in its place.
    wrapper = etree.SubElement(doc.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security"), "Wrapper")  # type: ignore[arg-type]
    wrapper.append(copy.deepcopy(body))
    evil = etree.Element(f"{{{SOAP}}}Body")
    etree.SubElement(evil, "evil").text = "give me everything"
    doc.replace(body, evil)
    with pytest.raises(SignatureRejected, match="cover the Body"):
        verify_envelope(etree.tostring(doc), SERVER.certificate, now=NOW)
    # Duplicate ids pointing at two Bodies are refused as ambiguous.
    doc2 = etree.fromstring(_signed())
    body2 = doc2.find(f"{{{SOAP}}}Body")
    assert body2 is not None
    doc2.find(f"{{{SOAP}}}Header").append(copy.deepcopy(body2))  # type: ignore[union-attr]
    with pytest.raises(SignatureRejected, match="ambiguous"):
        verify_envelope(etree.tostring(doc2), SERVER.certificate, now=NOW)


def test_expired_timestamp_is_rejected() -> None:
    with pytest.raises(SignatureRejected, match="expired"):
        verify_envelope(_signed(), SERVER.certificate, now=NOW + dt.timedelta(minutes=6))


def test_request_references_by_issuer_serial() -> None:
    doc = etree.fromstring(_signed())
    serial = doc.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509SerialNumber")
    assert serial == str(SERVER.certificate.serial_number)
    assert doc.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate") is None
