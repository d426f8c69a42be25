"""Streamed JWE (attachments): interoperable with joserfc both ways, DEF processed with a
bound, cut or altered tokens refused, memory bounded by the chunk size."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from joserfc import jwe
from joserfc.jwk import RSAKey

from ozg_gateway.connectors.fitconnect import jose
from ozg_gateway.connectors.fitconnect.jwe_stream import (
    JweStreamError,
    StreamDecryptor,
    decrypt_stream,
    encrypt_stream,
)

KEY = RSAKey.generate_key(2048, parameters={"kid": "stream-test"})
PUBLIC = RSAKey.import_key({**KEY.as_dict(private=False), "kid": "stream-test"})
PLAIN = os.urandom(700_001)  # not a multiple of three: the base64 carry is exercised


def _pieces(token: bytes, size: int) -> Iterator[bytes]:
    return (token[i : i + size] for i in range(0, len(token), size))


def _chunks(data: bytes, size: int = 65_536) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def test_streamed_tokens_open_with_joserfc_and_joserfc_tokens_open_streamed() -> None:
    streamed = b"".join(encrypt_stream(_chunks(PLAIN), PUBLIC, content_type="application/pdf"))
    assert streamed.count(b".") == 4
    assert jose.decrypt(streamed.decode(), KEY) == PLAIN
    whole = jose.encrypt(PLAIN, PUBLIC, content_type="application/pdf").encode()
    for size in (3, 4, 1000, 65_536, len(whole)):  # any split of the wire bytes
        assert b"".join(decrypt_stream(_pieces(whole, size), KEY, max_plaintext=10**6)) == PLAIN
    small = jose.encrypt(PLAIN[:3000], PUBLIC, content_type="x").encode()
    assert b"".join(decrypt_stream(_pieces(small, 1), KEY, max_plaintext=3000)) == PLAIN[:3000]


def test_zip_def_is_processed_and_a_bomb_stops_at_the_bound() -> None:
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}
    text = b"Antrag auf Hallenbelegung " * 40_000
    deflated = jwe.encrypt_compact(header, text, PUBLIC, registry=jose._JWE).encode()
    assert b"".join(decrypt_stream(_pieces(deflated, 4096), KEY, max_plaintext=2 * 10**6)) == text
    bomb = jwe.encrypt_compact(header, bytes(50 * 1024 * 1024), PUBLIC, registry=jose._JWE)
    with pytest.raises(JweStreamError, match="larger than"):
        for _ in decrypt_stream(_pieces(bomb.encode(), 4096), KEY, max_plaintext=10**6):
            pass


def test_altered_cut_foreign_and_odd_tokens_are_refused() -> None:
    token = b"".join(encrypt_stream(_chunks(PLAIN), PUBLIC, content_type="x"))
    middle = len(token) // 2
    altered = (
        token[:middle]
        + (b"A" if token[middle : middle + 1] != b"A" else b"B")
        + token[middle + 1 :]
    )
    other = RSAKey.generate_key(2048)
    for bad, key, reason in (
        (altered, KEY, "tag does not verify"),
        (token[:-10], KEY, "tag"),
        (token[:middle], KEY, "ends before its tag"),
        (token, other, "does not unwrap"),
        (b"eyJhbGciOiJub25lIn0.a.b.c.d", KEY, "not RSA-OAEP-256"),
        (b"x" * 70_000, KEY, "header part too long"),
    ):
        with pytest.raises(JweStreamError, match=reason):
            for _ in decrypt_stream(_pieces(bad, 8192), key, max_plaintext=10**6):
                pass


def test_plaintext_comes_out_as_the_token_goes_in() -> None:
    """Memory stays at a chunk: each fed piece yields its plaintext at once."""
    token = b"".join(encrypt_stream(_chunks(PLAIN), PUBLIC, content_type="x"))
    decryptor = StreamDecryptor(KEY, max_plaintext=10**6)
    out = []
    for piece in _pieces(token, 50_000):
        plain = decryptor.feed(piece)
        assert len(plain) <= 50_000
        out.append(plain)
    out.append(decryptor.finish())
    assert b"".join(out) == PLAIN
