"""Encryption at rest."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozg_gateway.store.crypto import CHUNK_SIZE, BlobSealer, DecryptionError, Keyring, key_id_of

K1, K2 = os.urandom(32), os.urandom(32)


def test_seal_roundtrip_and_key_id() -> None:
    ring = Keyring({"k1": K1}, "k1")
    sealed = ring.seal(b"Erika Mustermann", aad="row:1")
    assert b"Erika" not in sealed
    assert key_id_of(sealed) == "k1"
    assert ring.open(sealed, aad="row:1") == b"Erika Mustermann"


def test_aad_binds_ciphertext_to_its_row() -> None:
    ring = Keyring({"k1": K1}, "k1")
    sealed = ring.seal(b"x", aad="row:1")
    with pytest.raises(DecryptionError):
        ring.open(sealed, aad="row:2")


def test_tampering_and_unknown_key_detected() -> None:
    ring = Keyring({"k1": K1}, "k1")
    sealed = bytearray(ring.seal(b"secret", aad="a"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.open(bytes(sealed), aad="a")
    other = Keyring({"k2": K2}, "k2")
    with pytest.raises(DecryptionError, match="unknown key"):
        other.open(ring.seal(b"x", aad="a"), aad="a")


def test_rotation_keeps_old_keys_readable() -> None:
    old = Keyring({"k1": K1}, "k1")
    sealed = old.seal(b"x", aad="a")
    new = Keyring({"k1": K1, "k2": K2}, "k2")
    assert new.needs_rotation(sealed)
    assert new.open(sealed, aad="a") == b"x"
    assert not new.needs_rotation(new.seal(b"x", aad="a"))


@given(st.binary(max_size=3 * CHUNK_SIZE + 17), st.integers(min_value=1, max_value=70000))
def test_blob_roundtrip_any_size_and_write_pattern(data: bytes, step: int) -> None:
    sealer = BlobSealer(Keyring({"k1": K1}, "k1"))
    out = io.BytesIO()
    writer = sealer.writer(out, aad="blob:x")
    for i in range(0, len(data), step):
        writer.write(data[i : i + step])
    writer.close()
    out.seek(0)
    assert b"".join(sealer.read(out, aad="blob:x")) == data


def _sealed_blob(data: bytes) -> tuple[BlobSealer, bytes]:
    sealer = BlobSealer(Keyring({"k1": K1}, "k1"))
    out = io.BytesIO()
    writer = sealer.writer(out, aad="blob:x")
    writer.write(data)
    writer.close()
    return sealer, out.getvalue()


def test_blob_truncation_detected() -> None:
    sealer, raw = _sealed_blob(os.urandom(CHUNK_SIZE * 2 + 10))
    # Drop the final chunk: the remaining chunks are intact but none is marked last.
    chunk_total = 12 + 4 + 1 + CHUNK_SIZE + 16
    header = 5 + 1 + 2
    truncated = raw[: header + 2 * chunk_total]
    with pytest.raises(DecryptionError):
        b"".join(sealer.read(io.BytesIO(truncated), aad="blob:x"))


def test_blob_bound_to_its_ref() -> None:
    sealer, raw = _sealed_blob(b"data")
    with pytest.raises(DecryptionError):
        b"".join(sealer.read(io.BytesIO(raw), aad="blob:y"))
