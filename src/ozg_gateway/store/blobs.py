"""Attachment bytes on the filesystem, encrypted, behind a small interface.

A blob is written to ``tmp/`` first and moved into place by ``place`` just before its database
row commits; if the commit fails the caller deletes it. A crash in between leaves an orphan
file, never a row without bytes. Blob refs are opaque strings.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from ozg_gateway.store.crypto import BlobSealer, Keyring, SealedWriter


class BlobStore(Protocol):
    """Where attachment bytes live; the database keeps only refs and hashes."""

    def begin(self, ref: str) -> PendingBlob:
        """Start writing a new blob."""
        ...

    def read(self, ref: str) -> Iterator[bytes]:
        """Yield the plaintext of a committed blob."""
        ...

    def read_pending(self, pending: PendingBlob) -> Iterator[bytes]:
        """Yield the plaintext of a finished blob before it is placed."""
        ...

    def delete(self, ref: str) -> None:
        """Remove a committed blob (missing blobs are ignored)."""
        ...

    def rotate(self, ref: str) -> bool:
        """Re-encrypt a blob with the active key; False if it already used it."""
        ...


class PendingBlob:
    """A blob being written: tracks size and SHA-256 of the plaintext."""

    def __init__(
        self, ref: str, tmp_path: Path, final_path: Path, writer: SealedWriter, fh: IO[bytes]
    ) -> None:
        self.ref = ref
        self._tmp, self._final, self._writer, self._fh = tmp_path, final_path, writer, fh
        self.size = 0
        self._sha = hashlib.sha256()
        self._placed = False

    @property
    def tmp_path(self) -> Path:
        """Where the finished, not yet placed blob lies (sealed)."""
        return self._tmp

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the plaintext written so far."""
        return self._sha.hexdigest()

    def write(self, data: bytes) -> None:
        """Append plaintext bytes."""
        self.size += len(data)
        self._sha.update(data)
        self._writer.write(data)

    def finish(self) -> None:
        """Flush the last chunk and fsync; the blob is complete but not yet committed."""
        self._writer.close()
        fh = self._fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()

    def place(self) -> None:
        """Move the finished blob into place; do this before committing its database row."""
        self._final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, self._final)
        self._placed = True

    def discard(self) -> None:
        """Drop the blob, finished or not, placed or not (its row did not commit)."""
        if not self._fh.closed:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)
        if self._placed:
            self._final.unlink(missing_ok=True)


class FilesystemBlobStore:
    """Blobs under ``<data_dir>/blobs/<ab>/<ref>``, sealed with the keyring."""

    def __init__(self, root: Path, keyring: Keyring) -> None:
        self.root = root
        self._sealer = BlobSealer(keyring)
        self._keyring = keyring
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, ref: str) -> Path:
        if not ref.replace("-", "").isalnum():
            raise ValueError("invalid blob ref")
        return self.root / ref[:2] / ref

    def begin(self, ref: str) -> PendingBlob:
        """Start writing a new blob."""
        tmp = self.root / "tmp" / ref
        fh = tmp.open("wb")
        writer = self._sealer.writer(fh, aad=f"blob:{ref}")
        return PendingBlob(ref, tmp, self._path(ref), writer, fh)

    def read_pending(self, pending: PendingBlob) -> Iterator[bytes]:
        """Yield the plaintext of a finished blob that is not placed yet."""
        with pending.tmp_path.open("rb") as fh:
            yield from self._sealer.read(fh, aad=f"blob:{pending.ref}")

    def read(self, ref: str) -> Iterator[bytes]:
        """Yield the plaintext of a committed blob."""
        with self._path(ref).open("rb") as fh:
            yield from self._sealer.read(fh, aad=f"blob:{ref}")

    def delete(self, ref: str) -> None:
        """Remove a committed blob."""
        self._path(ref).unlink(missing_ok=True)

    def rotate(self, ref: str) -> bool:
        """Re-encrypt a blob with the active key, replacing the file atomically."""
        path = self._path(ref)
        with path.open("rb") as fh:
            if BlobSealer.key_id(fh) == self._keyring.active_key_id:
                return False
        pending = self.begin(ref)
        try:
            for chunk in self.read(ref):
                pending.write(chunk)
            pending.finish()
            pending.place()
        except BaseException:
            pending.discard()
            raise
        return True
