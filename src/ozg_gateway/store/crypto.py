"""Encryption at rest: AES-256-GCM with the key id stored in every ciphertext.

Record format (``seal``)::

    0x01 | len(key_id) | key_id | nonce (12) | ciphertext+tag

Blob format (``BlobSealer``): a header ``OZGB1 | len(key_id) | key_id`` followed by chunks of
``nonce (12) | u32 length | ciphertext+tag``. Each chunk authenticates its index and whether
it is the last one, so chunks cannot be reordered, dropped or truncated unnoticed.

Associated data binds a ciphertext to its row and column (e.g. ``submission:<id>:form``), so a
ciphertext copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterator, Mapping
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ozg_gateway.errors import ConfigurationError, GatewayError

_VERSION = 1
_BLOB_MAGIC = b"OZGB1"
CHUNK_SIZE = 64 * 1024


class DecryptionError(GatewayError):
    """Ciphertext is corrupt, tampered with, bound to other data, or its key is unknown."""


class Keyring:
    """Named AES-256 keys; new data is sealed with the active key, any known key opens."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ConfigurationError(f"active_key_id {active_key_id!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ConfigurationError(f"encryption_keys.{key_id}: need 32 bytes")
            if not 0 < len(key_id.encode()) < 256:
                raise ConfigurationError("encryption key ids must be 1..255 bytes")
        self._aead = {kid: AESGCM(k) for kid, k in keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def from_base64(cls, keys: Mapping[str, str], active_key_id: str) -> Keyring:
        """Build from base64 strings as they appear in the configuration."""
        try:
            raw = {kid: base64.b64decode(v, validate=True) for kid, v in keys.items()}
        except ValueError as exc:
            raise ConfigurationError("encryption_keys: values must be base64") from exc
        return cls(raw, active_key_id)

    def seal(self, plaintext: bytes, *, aad: str) -> bytes:
        """Encrypt a record with the active key."""
        kid = self.active_key_id.encode()
        nonce = os.urandom(12)
        ct = self._aead[self.active_key_id].encrypt(nonce, plaintext, aad.encode())
        return bytes([_VERSION, len(kid)]) + kid + nonce + ct

    def open(self, sealed: bytes, *, aad: str) -> bytes:
        """Decrypt a record sealed by :meth:`seal`."""
        kid, offset = _parse_key_id(sealed)
        nonce = sealed[offset : offset + 12]
        try:
            return self._aead_for(kid).decrypt(nonce, sealed[offset + 12 :], aad.encode())
        except InvalidTag as exc:
            raise DecryptionError("record authentication failed") from exc

    def seal_json(self, value: Any, *, aad: str) -> bytes:
        """Encrypt a JSON-serialisable value."""
        return self.seal(json.dumps(value, separators=(",", ":")).encode(), aad=aad)

    def open_json(self, sealed: bytes, *, aad: str) -> Any:
        """Decrypt a value sealed by :meth:`seal_json`."""
        return json.loads(self.open(sealed, aad=aad))

    def needs_rotation(self, sealed: bytes) -> bool:
        """True when the record is sealed with a key other than the active one."""
        return key_id_of(sealed) != self.active_key_id

    def _aead_for(self, kid: str) -> AESGCM:
        try:
            return self._aead[kid]
        except KeyError as exc:
            raise DecryptionError(f"unknown key id {kid!r}") from exc


def key_id_of(sealed: bytes) -> str:
    """Key id a record was sealed with."""
    return _parse_key_id(sealed)[0]


def _parse_key_id(sealed: bytes) -> tuple[str, int]:
    if len(sealed) < 2 or sealed[0] != _VERSION:
        raise DecryptionError("not a sealed record")
    end = 2 + sealed[1]
    return sealed[2:end].decode(), end


class BlobSealer:
    """Streaming encryption of files in fixed-size, individually authenticated chunks."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def writer(self, fh: IO[bytes], *, aad: str) -> SealedWriter:
        """Return a writer that encrypts into ``fh`` with the active key."""
        return SealedWriter(fh, self._keyring, aad)

    def read(self, fh: IO[bytes], *, aad: str) -> Iterator[bytes]:
        """Yield the plaintext chunks of a sealed blob."""
        header = fh.read(len(_BLOB_MAGIC) + 1)
        if header[:-1] != _BLOB_MAGIC:
            raise DecryptionError("not a sealed blob")
        kid = fh.read(header[-1]).decode()
        aead = self._keyring._aead_for(kid)
        index = 0
        while True:
            head = fh.read(17)
            if len(head) != 17:
                raise DecryptionError("blob truncated")
            nonce, (length,), last = head[:12], struct.unpack(">I", head[12:16]), head[16]
            ct = fh.read(length)
            try:
                yield aead.decrypt(nonce, ct, _chunk_aad(aad, index, bool(last)))
            except InvalidTag as exc:
                raise DecryptionError("blob chunk authentication failed") from exc
            if last:
                return
            index += 1

    @staticmethod
    def key_id(fh: IO[bytes]) -> str:
        """Key id of a sealed blob (reads the header)."""
        header = fh.read(len(_BLOB_MAGIC) + 1)
        if header[:-1] != _BLOB_MAGIC:
            raise DecryptionError("not a sealed blob")
        return fh.read(header[-1]).decode()


def _chunk_aad(aad: str, index: int, last: bool) -> bytes:
    return f"{aad}|{index}|{int(last)}".encode()


class SealedWriter:
    """File-like sink: buffers one chunk, encrypts it, writes it; ``close`` seals the end."""

    def __init__(self, fh: IO[bytes], keyring: Keyring, aad: str) -> None:
        self._fh = fh
        self._aead = keyring._aead_for(keyring.active_key_id)
        self._aad = aad
        self._buf = bytearray()
        self._index = 0
        kid = keyring.active_key_id.encode()
        fh.write(_BLOB_MAGIC + bytes([len(kid)]) + kid)

    def write(self, data: bytes) -> None:
        """Append plaintext."""
        self._buf += data
        while len(self._buf) > CHUNK_SIZE:
            self._emit(bytes(self._buf[:CHUNK_SIZE]), last=False)
            del self._buf[:CHUNK_SIZE]

    def close(self) -> None:
        """Write the final chunk (possibly empty)."""
        self._emit(bytes(self._buf), last=True)
        self._buf.clear()

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, chunk, _chunk_aad(self._aad, self._index, last))
        self._fh.write(nonce + struct.pack(">I", len(ct)) + bytes([int(last)]) + ct)
        self._index += 1
