"""JWE compact serialisation as a stream (pure): attachments of up to 500 MB never sit in memory.

joserfc (used for metadata, data and events) holds a whole token in memory. A JWE compact token
is five base64url parts, ``header.key.iv.ciphertext.tag``, and AES-GCM runs incrementally, so
an attachment is encrypted and decrypted in chunks: ``encrypt_stream`` yields the token piece by
piece while the plaintext is read, :class:`StreamDecryptor` turns token bytes into plaintext as
they arrive. The tag is only known at the end: a caller writes the plaintext somewhere
provisional (a pending blob) and keeps it only when :meth:`StreamDecryptor.finish` returns.

The cryptography is the ``cryptography`` package's (RSA-OAEP with SHA-256, AES-256-GCM,
zlib for ``zip: DEF``); only the framing is here. Tokens from joserfc decrypt here and
tokens from here decrypt with joserfc (tests check both ways).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import pybase64
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from joserfc.jwk import RSAKey

from ozg_gateway.errors import PermanentError

KEY_WRAP, CONTENT_ENC = "RSA-OAEP-256", "A256GCM"
_OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)
_HEAD_LIMIT = 64 * 1024  # header, wrapped key and iv together; anything longer is not ours
_INFLATE_STEP = 1024 * 1024


class JweStreamError(PermanentError):
    """The token is not a JWE we can open (framing, algorithms, key, tag or size)."""


# pybase64 (SIMD) rather than the standard library's base64: at hundreds of MB the standard
# decoder alone would halve the throughput.
def _b64(data: bytes) -> bytes:
    return pybase64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    try:
        return pybase64.b64decode(text + b"=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except ValueError as exc:
        raise JweStreamError("JWE part is not base64url") from exc


def encrypt_stream(chunks: Iterable[bytes], key: RSAKey, *, content_type: str) -> Iterator[bytes]:
    """The JWE compact token of the plaintext ``chunks`` (RSA-OAEP-256 + A256GCM), in pieces."""
    public = key.raw_value if isinstance(key.raw_value, rsa.RSAPublicKey) else key.public_key
    assert isinstance(public, rsa.RSAPublicKey)
    header = {"alg": KEY_WRAP, "enc": CONTENT_ENC, "kid": key.kid, "cty": content_type}
    protected = _b64(json.dumps(header, separators=(",", ":")).encode())
    cek, iv = os.urandom(32), os.urandom(12)
    encryptor = Cipher(algorithms.AES(cek), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(protected)  # RFC 7516 §5.1 step 14: AAD = header
    yield protected + b"." + _b64(public.encrypt(cek, _OAEP)) + b"." + _b64(iv) + b"."
    carry = b""
    for chunk in chunks:
        carry += encryptor.update(chunk)
        whole = len(carry) // 3 * 3  # base64 without padding needs groups of three bytes
        if whole:
            yield _b64(carry[:whole])
            carry = carry[whole:]
    carry += encryptor.finalize()
    yield _b64(carry) + b"." + _b64(encryptor.tag)


class StreamDecryptor:
    """Token bytes in (``feed``), plaintext out; ``finish`` checks the tag.

    ``max_plaintext`` bounds what comes out (after inflating ``zip: DEF``): a decompression
    bomb ends in an error, not a full disk.
    """

    def __init__(self, key: RSAKey, *, max_plaintext: int) -> None:
        private = key.raw_value
        if not isinstance(private, rsa.RSAPrivateKey):
            raise JweStreamError("decrypting needs the private key")
        self._private = private
        self._max = max_plaintext
        self._head = b""  # until the ciphertext starts
        self._text = b""  # base64url of ciphertext not yet decoded (< 4 chars, or the tag)
        self._decryptor: Any = None
        self._inflate: Any = None
        self._in_tag = False
        self._out = 0
        self.header: dict[str, Any] = {}

    def feed(self, data: bytes) -> bytes:
        """Plaintext for these token bytes (provisional until ``finish``)."""
        if self._decryptor is None:
            self._head += data
            if self._head.count(b".") < 3:
                if len(self._head) > _HEAD_LIMIT:
                    raise JweStreamError("JWE header part too long")
                return b""
            data = self._start()
        if self._in_tag:
            self._text += data
            return b""
        end = data.find(b".")
        if end >= 0:
            self._in_tag = True
            cipher, self._text = self._text + data[:end], data[end + 1 :]
            return self._plain(self._decryptor.update(_unb64(cipher)))
        text = self._text + data
        whole = len(text) // 4 * 4
        self._text = text[whole:]
        return self._plain(self._decryptor.update(_unb64(text[:whole])))

    def _start(self) -> bytes:
        protected, wrapped, iv, rest = self._head.split(b".", 3)
        try:
            self.header = json.loads(_unb64(protected))
        except ValueError as exc:
            raise JweStreamError("JWE header is not JSON") from exc
        if not isinstance(self.header, dict) or (
            self.header.get("alg"),
            self.header.get("enc"),
        ) != (KEY_WRAP, CONTENT_ENC):
            raise JweStreamError("JWE is not RSA-OAEP-256 with A256GCM")
        if self.header.get("zip") not in (None, "DEF"):
            raise JweStreamError("JWE zip is not DEF")
        try:
            cek = self._private.decrypt(_unb64(wrapped), _OAEP)
        except ValueError as exc:
            raise JweStreamError("JWE key does not unwrap with the destination key") from exc
        if len(cek) != 32:
            raise JweStreamError("JWE content key is not 256 bits")
        self._decryptor = Cipher(algorithms.AES(cek), modes.GCM(_unb64(iv))).decryptor()
        self._decryptor.authenticate_additional_data(protected)
        if self.header.get("zip") == "DEF":  # RFC 7516 §4.1.3: raw DEFLATE (RFC 1951)
            self._inflate = zlib.decompressobj(wbits=-15)
        self._head = b""
        return rest

    def _plain(self, data: bytes) -> bytes:
        if self._inflate is None:
            return self._count(data)
        out = []
        while data:
            try:
                piece = self._inflate.decompress(data, _INFLATE_STEP)
            except zlib.error as exc:
                raise JweStreamError("JWE zip content is not DEFLATE") from exc
            out.append(self._count(piece))
            data = self._inflate.unconsumed_tail
        return b"".join(out)

    def _count(self, data: bytes) -> bytes:
        self._out += len(data)
        if self._out > self._max:
            raise JweStreamError(f"JWE plaintext larger than {self._max} bytes")
        return data

    def finish(self) -> bytes:
        """The last plaintext; raises JweStreamError if the token is cut off or was altered."""
        if self._decryptor is None or not self._in_tag:
            raise JweStreamError("JWE ends before its tag")
        tag = _unb64(self._text.strip())
        if len(tag) != 16:
            raise JweStreamError("JWE tag is not 128 bits")
        try:
            last = self._decryptor.finalize_with_tag(tag)
        except Exception as exc:  # cryptography's InvalidTag
            raise JweStreamError("JWE tag does not verify (altered or wrong key)") from exc
        tail = self._plain(last)
        if self._inflate is not None:
            tail += self._count(self._inflate.flush())
            if not self._inflate.eof:
                raise JweStreamError("JWE zip content ends early")
        return tail


def decrypt_stream(token: Iterable[bytes], key: RSAKey, *, max_plaintext: int) -> Iterator[bytes]:
    """Plaintext pieces of a streamed token; the last piece comes only after the tag verified."""
    decryptor = StreamDecryptor(key, max_plaintext=max_plaintext)
    for data in token:
        piece = decryptor.feed(data)
        if piece:
            yield piece
    yield decryptor.finish()
