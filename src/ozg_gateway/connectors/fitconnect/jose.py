"""The JOSE parts of FIT-Connect (pure): JWE for payloads, JWS-signed Security Event Tokens.

Payloads (metadata, data, each attachment) are encrypted as JWE compact serialisation with
``RSA-OAEP-256`` key wrapping and ``A256GCM`` content encryption to the destination's public key
(RSA, at least 4,096 bits, ``key_ops`` with ``wrapKey``). Events are SETs signed with ``PS512``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwa import DeflateZipModel, JWEZipModel
from joserfc.jwk import KeySet, RSAKey

from ozg_gateway.errors import ConnectorConfigError, PermanentError

KEY_WRAP, CONTENT_ENC, SET_ALG = "RSA-OAEP-256", "A256GCM", "PS512"
MIN_KEY_BITS = 4096
EVENTS = "https://schema.fitko.de/fit-connect/events/"
# FIT-Connect allows attachments of up to 500 MB; joserfc's defaults stop at 64 KB.
MAX_PAYLOAD_BYTES = 500 * 1024 * 1024
# RFC 7516 §4.1.3: "zip": "DEF" MUST be processed. A decompression bomb must not exhaust
# memory, so inflating stops here (the payload is refused as too large).
MAX_INFLATED_BYTES = 64 * 1024 * 1024


class _BoundedDeflate(DeflateZipModel):
    """DEF with our limit on the inflated size (joserfc's own stops at 250 KB)."""

    MAX_SIZE = MAX_INFLATED_BYTES


class _Registry(jwe.JWERegistry):
    """FIT-Connect's algorithms, payload sizes and a bounded DEF."""

    max_ciphertext_length = MAX_PAYLOAD_BYTES * 4 // 3 + 4096  # base64url of the payload
    _deflate = _BoundedDeflate()

    def get_zip(self, name: str) -> JWEZipModel:
        """The bounded DEF for ``zip: DEF`` (the only zip algorithm JWE defines)."""
        if name == self._deflate.name:
            return self._deflate
        return super().get_zip(name)


_JWE = _Registry(algorithms=[KEY_WRAP, CONTENT_ENC, "DEF"])
_JWS = jws.JWSRegistry(algorithms=[SET_ALG])


def encryption_key(jwk: dict[str, Any], *, kid: str) -> RSAKey:
    """The destination's public key, after the checks FIT-Connect prescribes."""
    if jwk.get("kty") != "RSA" or jwk.get("alg") != KEY_WRAP or jwk.get("kid") != kid:
        raise ConnectorConfigError("destination key is not an RSA-OAEP-256 key with that kid")
    if "wrapKey" not in (jwk.get("key_ops") or []):
        raise ConnectorConfigError("destination key is not meant for encryption (key_ops)")
    key = RSAKey.import_key({k: v for k, v in jwk.items() if k in ("kty", "n", "e", "kid")})
    if key.raw_value.public_numbers().n.bit_length() < MIN_KEY_BITS:  # type: ignore[union-attr]
        raise ConnectorConfigError(f"destination key has fewer than {MIN_KEY_BITS} bits")
    return key


def verify_chain(jwk: dict[str, Any], *, anchors: list[x509.Certificate], now: datetime) -> None:
    """The key's ``x5c`` chain leads to one of ``anchors`` and certifies this very key.

    Raises ConnectorConfigError otherwise: a destination key nobody we trust vouches for is
    not used (fix the trust anchor or the destination, then replay).
    """
    chain = jwk.get("x5c") or []
    if not chain:
        raise ConnectorConfigError("destination key carries no x5c certificate chain")
    try:
        certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain]
    except ValueError as exc:
        raise ConnectorConfigError("destination key's x5c is not DER certificates") from exc
    verifier = (
        PolicyBuilder()
        .store(Store(anchors))
        .time(now)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(certs[0], certs[1:])
    except VerificationError as exc:
        raise ConnectorConfigError(
            "destination key's certificate chain does not lead to the configured trust anchor"
        ) from exc
    public = certs[0].public_key()
    key = RSAKey.import_key({k: v for k, v in jwk.items() if k in ("kty", "n", "e")})
    if not isinstance(public, rsa.RSAPublicKey) or (
        public.public_numbers() != key.raw_value.public_numbers()  # type: ignore[union-attr]
    ):
        raise ConnectorConfigError("destination key's certificate is for another key")


def encrypt(payload: bytes, key: RSAKey, *, content_type: str) -> str:
    """JWE compact: RSA-OAEP-256 + A256GCM, with the key id and the payload's media type."""
    header = {"alg": KEY_WRAP, "enc": CONTENT_ENC, "kid": key.kid, "cty": content_type}
    return jwe.encrypt_compact(header, payload, key, registry=_JWE)


def decrypt(token: str, key: RSAKey) -> bytes:
    """Open a JWE compact token with the private key (receiving side, simulator)."""
    try:
        plaintext = jwe.decrypt_compact(token, key, registry=_JWE).plaintext
    except (JoseError, ValueError) as exc:
        raise PermanentError("JWE does not decrypt with the destination key") from exc
    return plaintext or b""


def sign_event(payload: dict[str, Any], key: RSAKey) -> str:
    """A Security Event Token (JWS compact, PS512, typ secevent+jwt)."""
    header = {"alg": SET_ALG, "typ": "secevent+jwt", "kid": key.kid}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return jws.serialize_compact(header, body, key, registry=_JWS)


def sign_payload(payload: dict[str, Any], key: RSAKey) -> str:
    """A JWS compact (PS512) over a JSON payload (the simulator signs routes with it)."""
    header = {"alg": SET_ALG, "kid": key.kid}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return jws.serialize_compact(header, body, key, registry=_JWS)


def verify_signature(token: str, keys: dict[str, Any]) -> dict[str, Any]:
    """The JSON payload of a JWS compact (PS512) that verifies with one of ``keys`` (a JWKS)."""
    return verify_event(token, keys)


def verify_event(token: str, keys: dict[str, Any]) -> dict[str, Any]:
    """The payload of a SET whose signature verifies with one of ``keys`` (a JWKS)."""
    try:
        result = jws.deserialize_compact(token, KeySet.import_key_set(keys), registry=_JWS)  # type: ignore[arg-type]
        payload: dict[str, Any] = json.loads(result.payload)
    except (JoseError, ValueError) as exc:
        raise PermanentError("event signature does not verify") from exc
    return payload


def event_payload(
    name: str,
    *,
    submission_id: str,
    case_id: str,
    issuer: str,
    now: int,
    jti: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    """The SET payload of one FIT-Connect event (``accept-submission`` …)."""
    return {
        "$schema": "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json",
        "jti": jti,
        "iss": issuer,
        "iat": now,
        "sub": f"submission:{submission_id}",
        "txn": f"case:{case_id}",
        "events": {EVENTS + name: body},
    }


def event_kid(token: str) -> str | None:
    """The key id in a SET's protected header (which key signed it)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except (ValueError, IndexError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return str(kid) if kid else None


def event_names(payload: dict[str, Any]) -> list[str]:
    """Short names of the events in a SET (``accept-submission`` …)."""
    return [str(e).removeprefix(EVENTS) for e in (payload.get("events") or {})]


def new_key_pair(kid: str, *, signing: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A 4,096-bit RSA key as (private JWK, public JWK to register with FIT-Connect)."""
    key = RSAKey.generate_key(MIN_KEY_BITS, parameters={"kid": kid})
    alg, ops = (SET_ALG, ["verify"]) if signing else (KEY_WRAP, ["wrapKey"])
    public = {**key.as_dict(private=False), "alg": alg, "key_ops": ops}
    return {**key.as_dict(private=True), "alg": alg}, public
