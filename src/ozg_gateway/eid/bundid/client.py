"""The BundID service provider: signed AuthnRequests out, encrypted and signed assertions in.

BundID is reached through the citizen's browser (HTTP-POST binding); the SP never calls it
server to server, so this "client" holds keys and does the cryptography, nothing else.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.eid.bundid import mapping, saml
from ozg_gateway.eid.bundid.saml import KeyPair, SamlError
from ozg_gateway.eid.bundid.settings import BundIdSettings
from ozg_gateway.eid.wssec import SigningKey
from ozg_gateway.errors import ConnectorConfigError, PermanentError

ACS_PATH = "/v1/identifications/bundid/acs"
MAX_RESPONSE_BYTES = 512 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class LoginFailed(PermanentError):
    """BundID's answer is not a usable login; ``message`` is for the citizen (German)."""

    def __init__(self, reason: str, message: str = mapping.GENERIC_FAILURE) -> None:
        super().__init__(reason)
        self.message = message


@dataclass(frozen=True)
class LoginForm:
    """What the browser posts to BundID."""

    sso_url: str
    saml_request: str  # base64 of the signed AuthnRequest


def _pair(key_path: Path, cert_path: Path) -> KeyPair:
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConnectorConfigError(f"{key_path} / {cert_path}: not a readable key pair") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConnectorConfigError(f"{key_path}: not an RSA key")
    return KeyPair(key, cert)


def _pem(path: Path) -> str:
    try:
        return (
            x509.load_pem_x509_certificate(path.read_bytes())
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )
    except (OSError, ValueError) as exc:
        raise ConnectorConfigError(f"{path}: not a readable PEM certificate") from exc


class BundIdClient:
    """Signs, encrypts-for and verifies per the configured keys."""

    def __init__(self, name: str, settings: BundIdSettings, env: ConnectorEnv) -> None:
        self.name = name
        self.settings = settings
        self.sso_url = env.expand(settings.sso_url)
        self.acs_url = env.public_base_url.rstrip("/") + ACS_PATH
        self.signing = _pair(settings.signing_key, settings.signing_certificate)
        following = settings.next_signing_certificate
        self.next_signing = [_pem(following)] if following is not None else []
        self.decryption = [_pair(settings.encryption_key, settings.encryption_certificate)]
        if settings.next_encryption_key and settings.next_encryption_certificate:
            self.decryption.append(
                _pair(settings.next_encryption_key, settings.next_encryption_certificate)
            )
        try:
            self.idp = [
                x509.load_pem_x509_certificate(p.read_bytes()) for p in settings.idp_certificates
            ]
        except (OSError, ValueError) as exc:
            raise ConnectorConfigError("idp_certificates: not readable PEM certificates") from exc

    @property
    def signing_key(self) -> SigningKey:
        """Our signing key (it also signs the identification report in the case)."""
        return SigningKey(self.signing.key, self.signing.certificate)

    def login_form(self, *, request_id: str, wanted: mapping.Requested, now: datetime) -> LoginForm:
        """The signed AuthnRequest for one identification."""
        request = mapping.build_authn_request(
            request_id=request_id,
            issued_at=now,
            sso_url=self.sso_url,
            acs_url=self.acs_url,
            entity_id=self.settings.entity_id,
            wanted=wanted,
            display_name=self.settings.organization_display_name,
            online_service_id=self.settings.online_service_id,
            classic_ui=self.settings.classic_ui_namespace,
            authn_methods=self.settings.authn_methods,
        )
        signed = saml.sign(request, self.signing)
        xml = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        return LoginForm(self.sso_url, base64.b64encode(xml).decode())

    def metadata(self) -> bytes:
        """Our SP metadata (current and next encryption certificates during a rollover)."""
        pem = [self.signing.cert_pem().decode(), *self.next_signing]
        encryption = [p.cert_pem().decode() for p in self.decryption]
        document = mapping.build_metadata(
            entity_id=self.settings.entity_id,
            acs_url=self.acs_url,
            signing_pem=pem,
            encryption_pem=encryption,
            display_name=self.settings.organization_display_name,
        )
        return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))

    def consume(
        self, saml_response: str, *, request_id: str, now: datetime
    ) -> mapping.BundIdIdentity:
        """Decrypt, verify and check a posted SAMLResponse for ``request_id``."""
        try:
            raw = base64.b64decode(saml_response, validate=True)
        except ValueError as exc:
            raise LoginFailed("SAMLResponse is not base64") from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise LoginFailed("SAMLResponse too large")
        try:
            root = etree.fromstring(raw, _PARSER)
            head = mapping.read_response(root)
        except (etree.XMLSyntaxError, mapping.AssertionRefused) as exc:
            raise LoginFailed(f"unreadable response: {exc}") from exc
        if head.in_response_to != request_id:
            raise LoginFailed("response answers another request")
        if head.destination != self.acs_url or head.issuer != self.settings.idp_entity_id:
            raise LoginFailed("response for another destination or from another issuer")
        if head.status != mapping.SUCCESS or head.encrypted is None:
            raise LoginFailed(f"status {head.status}", mapping.status_message(head))
        try:
            assertion = saml.decrypt(head.encrypted, self.decryption)
            covered = saml.verify(assertion, self.idp)
            return mapping.read_assertion(
                covered,
                mapping.Expected(
                    request_id=request_id,
                    acs_url=self.acs_url,
                    entity_id=self.settings.entity_id,
                    idp_entity_id=self.settings.idp_entity_id,
                    now=now,
                    skew=timedelta(seconds=self.settings.clock_skew_seconds),
                ),
            )
        except (SamlError, mapping.AssertionRefused) as exc:
            raise LoginFailed(str(exc)) from exc

    def health(self) -> None:
        """Our certificates and the IdP's are within their validity (nothing to call)."""
        now = datetime.now().astimezone()
        for cert in [
            self.signing.certificate,
            *(p.certificate for p in self.decryption),
            *self.idp,
        ]:
            if cert.not_valid_after_utc <= now:
                raise ConnectorConfigError("a BundID certificate has expired")

    def close(self) -> None:
        """Nothing to close: BundID is reached through the browser."""
