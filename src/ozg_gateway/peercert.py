"""Expose the TLS client certificate to ASGI apps served by uvicorn (simulators only).

uvicorn does not pass the peer certificate to the app. This protocol puts the SHA-256 of the
client certificate (DER) into the request state, where ``request.state`` can read it.
"""

from __future__ import annotations

import asyncio
import hashlib

from starlette.requests import Request
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

STATE_KEY = "tls_client_cert_sha256"


class PeerCertProtocol(HttpToolsProtocol):
    """httptools protocol that records the client certificate's fingerprint per connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Remember the fingerprint for every request on this connection."""
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        fingerprint = hashlib.sha256(der).hexdigest() if der else None
        self.app_state = {**self.app_state, STATE_KEY: fingerprint}


def client_cert_sha256(request: Request) -> str | None:
    """Hex SHA-256 of the client certificate, if the connection presented one."""
    value = getattr(request.state, STATE_KEY, None)
    return value if isinstance(value, str) else None


def cert_sha256(pem_or_der: bytes) -> str:
    """Hex SHA-256 of a certificate given as PEM or DER (to write into an accounts file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = (
        x509.load_pem_x509_certificate(pem_or_der)
        if pem_or_der.lstrip().startswith(b"-----")
        else x509.load_der_x509_certificate(pem_or_der)
    )
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
