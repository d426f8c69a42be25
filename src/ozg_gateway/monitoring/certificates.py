"""When the certificates in the connectors' configuration expire (client, server, signing).

Every certificate file a connector's settings name is read: PEM files (one or more
certificates, e.g. a CA bundle) and PKCS#12 containers with their password. A file that cannot
be read is skipped here: the connector's own check reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import BaseModel, SecretStr

from ozg_gateway.http import TlsSettings


@dataclass(frozen=True)
class Expiry:
    """One certificate of one connector's configuration."""

    connector: str
    setting: str  # where in the settings, e.g. ``tls.client_cert``
    subject: str
    not_after: datetime


def _paths(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Path, SecretStr | None]]:
    """(setting, file, PKCS#12 password) of every path-valued setting, recursively."""
    for name, value in model:
        where = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from _paths(value, f"{where}.")
        elif isinstance(value, Path):
            is_p12 = isinstance(model, TlsSettings) and name == "pkcs12"
            yield where, value, model.pkcs12_password if is_p12 else None  # type: ignore[attr-defined]


def _certificates(path: Path, password: SecretStr | None) -> list[x509.Certificate]:
    data = path.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificates(data)
    if path.suffix.lower() in (".p12", ".pfx"):
        secret = password.get_secret_value().encode() if password else None
        _, cert, extra = pkcs12.load_key_and_certificates(data, secret)
        return [c for c in [cert, *(extra or [])] if c is not None]
    return []


def expiries(settings: Mapping[str, BaseModel]) -> list[Expiry]:
    """Every certificate named by the given connector settings, soonest expiry first."""
    found = []
    for connector, model in settings.items():
        for where, path, password in _paths(model):
            try:
                certs = _certificates(path, password)
            except (OSError, ValueError):
                continue
            for cert in certs:
                found.append(
                    Expiry(
                        connector, where, cert.subject.rfc4514_string(), cert.not_valid_after_utc
                    )
                )
    return sorted(found, key=lambda e: e.not_after)
