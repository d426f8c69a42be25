"""XML signatures and encryption for the BundID profile, through maintained libraries only.

- Signatures: **signxml** (lxml + cryptography): the SP signs its AuthnRequest (RSA-SHA256)
  and verifies the IdP's (RSASSA-PSS since 2024, RSA-SHA256 before). Only what the signature
  actually covers is used afterwards (``verify`` returns that element): a signed assertion
  moved elsewhere in a document (XML signature wrapping) is refused.
- Encryption: **xmlsec** (python-xmlsec, libxmlsec1 in its wheel): the IdP's EncryptedAssertion
  (AES-GCM content, RSA-OAEP key transport) is decrypted with the SP's key; the simulator
  encrypts with the same library.

No XML cryptography is written here by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from ozg_gateway.errors import ConnectorConfigError, PermanentError

NS_DS = "http://www.w3.org/2000/09/xmldsig#"
NS_XENC = "http://www.w3.org/2001/04/xmlenc#"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
ACCEPTED_METHODS = frozenset({SignatureMethod.SHA256_RSA_MGF1, SignatureMethod.RSA_SHA256})


class SamlError(PermanentError):
    """A SAML message we do not accept; ``reason`` is for the log, never the citizen."""


@dataclass(frozen=True)
class KeyPair:
    """A private key with its certificate (SP signing or encryption, IdP in the simulator)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def key_pem(self) -> bytes:
        """PKCS#8 PEM of the private key."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert_pem(self) -> bytes:
        """PEM of the certificate."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def new_pair(name: str, *, days: int = 30) -> KeyPair:
    """A fresh RSA key with a self-signed certificate (simulator, demo, tests)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key, certificate)


def sign(element: etree._Element, pair: KeyPair, *, pss: bool = False) -> etree._Element:
    """Enveloped signature over ``element`` (by its ``ID``), placed where a
    ``<ds:Signature Id="placeholder"/>`` child stands (SAML fixes the position)."""
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.SHA256_RSA_MGF1 if pss else SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )
    signer.namespaces = {"ds": NS_DS}
    signed: etree._Element = signer.sign(
        element,
        key=pair.key_pem(),
        cert=[pair.cert_pem().decode()],
        reference_uri=f"#{element.get('ID')}",
        id_attribute="ID",
    )
    return signed


def verify(element: etree._Element, certificates: Sequence[x509.Certificate]) -> etree._Element:
    """The element the signature of ``element`` covers, if it verifies with one of the
    certificates and covers ``element`` itself; raises SamlError otherwise."""
    config = SignatureConfiguration(
        require_x509=False,
        signature_methods=ACCEPTED_METHODS,
        digest_algorithms=frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA512}),
        expect_references=1,
    )
    for certificate in certificates:
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        try:
            result = XMLVerifier().verify(
                element,
                x509_cert=pem,
                id_attribute="ID",
                expect_config=config,
                ignore_ambiguous_key_info=True,
            )
        except (InvalidSignature, InvalidInput):
            continue
        covered = result.signed_xml  # type: ignore[union-attr]
        if (
            covered is None
            or covered.get("ID") != element.get("ID")
            or (etree.QName(covered).localname != etree.QName(element).localname)
        ):
            raise SamlError("the signature covers another element (signature wrapping)")
        return covered
    raise SamlError("signature does not verify with the configured IdP certificate")


def _xmlsec() -> Any:
    """python-xmlsec, imported when first needed: its libxml2 must match lxml's (checked at
    import), and an installation without BundID must not depend on that."""
    try:
        import xmlsec
    except Exception as exc:  # xmlsec raises its own error type on a libxml2 mismatch
        raise ConnectorConfigError(f"python-xmlsec is not usable: {exc}") from exc
    return xmlsec


def decrypt(encrypted: etree._Element, pairs: Sequence[KeyPair]) -> etree._Element:
    """The plaintext element of an EncryptedAssertion (any of our encryption keys, for
    rollover); raises SamlError otherwise."""
    xmlsec = _xmlsec()
    data = encrypted.find(f"{{{NS_XENC}}}EncryptedData")
    if data is None:
        raise SamlError("EncryptedAssertion without EncryptedData")
    for pair in pairs:
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_memory(pair.key_pem(), xmlsec.constants.KeyDataFormatPem))
        context = xmlsec.EncryptionContext(manager)
        copy = etree.fromstring(etree.tostring(data))  # decrypting replaces the node in place
        try:
            plain = context.decrypt(copy)
        except xmlsec.Error:
            continue
        if isinstance(plain, etree._Element):
            return plain
        return etree.fromstring(plain)
    raise SamlError("assertion does not decrypt with our encryption key")


def encrypt(element: etree._Element, recipient: x509.Certificate) -> etree._Element:
    """``<xenc:EncryptedData>`` of ``element``: AES-256-GCM, key by RSA-OAEP (the IdP side)."""
    xmlsec = _xmlsec()
    holder = etree.Element("holder")
    holder.append(element)
    template = xmlsec.template.encrypted_data_create(
        holder,
        xmlsec.constants.TransformAes256Gcm,
        type=xmlsec.constants.TypeEncElement,
        ns="xenc",
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    pem = recipient.public_bytes(serialization.Encoding.PEM)
    manager.add_key(xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatCertPem))
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(
        xmlsec.constants.KeyDataAes, 256, xmlsec.constants.KeyDataTypeSession
    )
    result: etree._Element = context.encrypt_xml(template, element)
    return result
