"""Key rotation: re-encrypt sealed columns and blobs with the active key, in small batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ozg_gateway.store import idempotency
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.blobs import BlobStore
from ozg_gateway.store.crypto import Keyring
from ozg_gateway.store.db import Database
from ozg_gateway.store.models import (
    Attachment,
    Base,
    Case,
    CaseStatusUpdate,
    IdempotencyRecord,
    Identification,
    Submission,
)

BATCH = 200

# model -> [(column attribute, associated data for a row)]
_SEALED: list[tuple[type[Base], list[tuple[str, Callable[[Any], str]]]]] = [
    (
        Submission,
        [
            ("form_sealed", lambda r: subs.form_aad(r.id)),
            ("applicant_sealed", lambda r: subs.applicant_aad(r.id)),
            ("identity_sealed", lambda r: subs.identity_aad(r.id)),
        ],
    ),
    (Attachment, [("filename_sealed", lambda r: subs.filename_aad(r.id))]),
    (Case, [("payload_sealed", lambda r: subs.case_aad(r.id))]),
    (CaseStatusUpdate, [("note_sealed", lambda r: subs.status_note_aad(r.case_id))]),
    (
        Identification,
        [
            ("session_sealed", lambda r: f"identification:{r.id}:session"),
            ("identity_sealed", lambda r: f"identification:{r.id}:identity"),
        ],
    ),
    (
        IdempotencyRecord,
        [("response_sealed", lambda r: idempotency.record_aad(r.client_id, r.key))],
    ),
]


def _reseal(keyring: Keyring, row: Any, column: str, aad: str) -> bool:
    sealed = getattr(row, column)
    if sealed is None or not keyring.needs_rotation(sealed):
        return False
    setattr(row, column, keyring.seal(keyring.open(sealed, aad=aad), aad=aad))
    return True


def rotate_keys(*, db: Database, keyring: Keyring, blobs: BlobStore) -> dict[str, int]:
    """Re-encrypt everything not sealed with the active key; safe to run again after a stop."""
    counts: dict[str, int] = {}
    for model, columns in _SEALED:
        name = model.__tablename__
        counts[name] = 0
        offset = 0
        while True:
            with db.writing() as session:
                pk = model.__mapper__.primary_key
                rows = session.scalars(select(model).order_by(*pk).offset(offset).limit(BATCH))
                batch = list(rows)
                for row in batch:
                    changed = [_reseal(keyring, row, col, aad(row)) for col, aad in columns]
                    counts[name] += any(changed)
            if len(batch) < BATCH:
                break
            offset += BATCH
    with db.reading() as session:
        refs = list(session.scalars(select(Attachment.blob_ref)))
    counts["blobs"] = sum(blobs.rotate(ref) for ref in refs)
    return counts
