"""Outbound HTTP: explicit timeouts, no redirects, verified TLS with optional client certs.

There is deliberately no switch to turn certificate verification off.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path
from typing import Annotated

import httpx
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from ozg_gateway import __version__
from ozg_gateway.errors import ConnectorConfigError

USER_AGENT = f"ozg-gateway/{__version__}"


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://", "{public_base_url}")):
        raise ValueError("must be an http(s) URL")
    return value


# A configured URL of an external system: http(s), or starting with {public_base_url}.
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class TlsSettings(BaseModel):
    """Client certificate (PEM pair or PKCS#12) and trust anchors for mutual TLS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_bundle: Path | None = Field(default=None, description="PEM file of trusted CAs.")
    client_cert: Path | None = None
    client_key: Path | None = None
    client_key_password: SecretStr | None = None
    pkcs12: Path | None = None
    pkcs12_password: SecretStr | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> TlsSettings:
        if self.pkcs12 and (self.client_cert or self.client_key):
            raise ValueError("use either pkcs12 or client_cert/client_key, not both")
        if bool(self.client_cert) != bool(self.client_key):
            raise ValueError("client_cert and client_key go together")
        return self


class Timeouts(BaseModel):
    """Explicit timeouts in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=30.0, gt=0)
    write: float = Field(default=30.0, gt=0)
    pool: float = Field(default=5.0, gt=0)

    def httpx(self) -> httpx.Timeout:
        """As an httpx timeout."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def ssl_context(tls: TlsSettings | None) -> ssl.SSLContext:
    """Verifying TLS context with the configured trust anchors and client identity."""
    try:
        ctx = ssl.create_default_context(
            cafile=str(tls.ca_bundle) if tls and tls.ca_bundle else None
        )
        if tls is None:
            return ctx
        if tls.client_cert and tls.client_key:
            password = (
                tls.client_key_password.get_secret_value() if tls.client_key_password else None
            )
            ctx.load_cert_chain(str(tls.client_cert), str(tls.client_key), password=password)
        elif tls.pkcs12:
            _load_pkcs12(ctx, tls.pkcs12, tls.pkcs12_password)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ConnectorConfigError(f"TLS configuration unusable: {type(exc).__name__}") from exc
    return ctx


def _load_pkcs12(ctx: ssl.SSLContext, path: Path, password: SecretStr | None) -> None:
    secret = password.get_secret_value().encode() if password else None
    key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), secret)
    if key is None or cert is None:
        raise ValueError("PKCS#12 file lacks key or certificate")
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    pem += cert.public_bytes(Encoding.PEM)
    for extra_cert in extra or []:
        pem += extra_cert.public_bytes(Encoding.PEM)
    # ssl can only load from files: use a private temporary file, removed at once.
    fd, name = tempfile.mkstemp(suffix=".pem")
    try:
        os.write(fd, pem)
        os.close(fd)
        ctx.load_cert_chain(name)
    finally:
        os.unlink(name)


def sync_client(
    *,
    timeouts: Timeouts,
    tls: TlsSettings | None = None,
    max_connections: int = 16,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A thread-safe Client that never follows redirects and always verifies certificates."""
    return httpx.Client(
        timeout=timeouts.httpx(),
        follow_redirects=False,
        verify=ssl_context(tls),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    )
