"""Settings of an eID-Server instance: URL, our signing key and certificate, the server's."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.eid.wssec import SigningKey
from ozg_gateway.errors import ConnectorConfigError
from ozg_gateway.http import Timeouts, TlsSettings


class EidSettings(BaseModel):
    """eID-Server endpoint, our signing identity and the server's certificate."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="eID-Interface endpoint; may contain {public_base_url}.")
    signing_key: Path = Field(description="PEM RSA key that signs our requests.")
    signing_key_password: SecretStr | None = None
    signing_certificate: Path
    server_certificate: Path = Field(description="PEM certificate that signs the responses.")
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=20, write=20)


def load_signing_key(settings: EidSettings) -> SigningKey:
    """Our RSA key and certificate from the configured files."""
    password = (
        settings.signing_key_password.get_secret_value().encode()
        if settings.signing_key_password
        else None
    )
    try:
        key = load_pem_private_key(settings.signing_key.read_bytes(), password)
        cert = x509.load_pem_x509_certificate(settings.signing_certificate.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConnectorConfigError("eID signing key or certificate unusable") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConnectorConfigError("the eID signing key must be RSA")
    return SigningKey(key, cert)
