"""Attachments in and out, streamed (run in the connector's threads): read, hash, encrypt and
upload in one pass; download, decrypt, hash and write in one pass. Memory stays at a few
chunks whatever the size (FIT-Connect allows 500 MB per attachment)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from joserfc.jwk import RSAKey

from ozg_gateway.connectors.contract import AttachmentRef
from ozg_gateway.connectors.fitconnect.client import FitConnectClient
from ozg_gateway.connectors.fitconnect.jwe_stream import StreamDecryptor, encrypt_stream
from ozg_gateway.connectors.threads import blocking_chunks

MAX_ATTACHMENT_BYTES = 500 * 1024 * 1024  # FIT-Connect's limit per attachment
TAG_CHARS = 22  # base64url of the 128-bit GCM tag


class _Digest:
    """SHA-512 in a thread of its own: hashlib releases the GIL, so hashing runs beside the
    encryption and the I/O instead of after them (a third of the time otherwise)."""

    def __init__(self) -> None:
        self._sha = hashlib.sha512()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=16)  # bounds memory
        self._thread = threading.Thread(target=self._run, name="sha512", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._sha.update(chunk)

    def update(self, chunk: bytes) -> None:
        """Hash ``chunk`` (bytes are immutable: sharing them with the thread is safe)."""
        self._queue.put(chunk)

    def close(self) -> str:
        """The hex digest of everything given; ends the thread."""
        self._queue.put(None)
        self._thread.join()
        return self._sha.hexdigest()


def _hashing(chunks: Iterable[bytes], digest: _Digest) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def sha512_of(attachment: AttachmentRef, loop: asyncio.AbstractEventLoop) -> str:
    """The hex SHA-512 of an attachment's plaintext (for one uploaded by an earlier attempt)."""
    digest = hashlib.sha512()
    for chunk in blocking_chunks(attachment.open, loop):
        digest.update(chunk)
    return digest.hexdigest()


def upload(
    client: FitConnectClient,
    submission_id: str,
    attachment: AttachmentRef,
    key: RSAKey,
    loop: asyncio.AbstractEventLoop,
) -> str:
    """Encrypt and PUT one attachment as it is read; return its plaintext's hex SHA-512."""
    digest = _Digest()
    try:
        plain = _hashing(blocking_chunks(attachment.open, loop), digest)
        token = encrypt_stream(plain, key, content_type=attachment.content_type)
        head = next(token)  # header, wrapped key and iv: the rest has a known length
        length = len(head) + (4 * attachment.size + 2) // 3 + 1 + TAG_CHARS
        client.upload_attachment(
            submission_id, attachment.id, itertools.chain([head], token), length=length
        )
    finally:
        hexdigest = digest.close()
    return hexdigest


def download(
    client: FitConnectClient,
    submission_id: str,
    attachment_id: str,
    key: RSAKey,
    blob: Any,
) -> str:
    """GET, decrypt and write one attachment into ``blob``; return the plaintext's SHA-512.

    Raises JweStreamError (a PermanentError) when it does not decrypt; the blob then holds
    unverified bytes and must be discarded.
    """
    decryptor = StreamDecryptor(key, max_plaintext=MAX_ATTACHMENT_BYTES)
    digest = _Digest()

    def into(chunk: bytes) -> None:
        plain = decryptor.feed(chunk)
        if plain:
            digest.update(plain)
            blob.write(plain)

    try:
        client.download_attachment(submission_id, attachment_id, into)
        last = decryptor.finish()
        digest.update(last)
        blob.write(last)
    finally:
        hexdigest = digest.close()
    return hexdigest
