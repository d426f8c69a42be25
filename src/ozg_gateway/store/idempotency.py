"""Idempotency records: the first successful response to a keyed POST, sealed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ozg_gateway.store.crypto import Keyring
from ozg_gateway.store.models import IdempotencyRecord


def record_aad(client_id: str, key: str) -> str:
    """Associated data of a stored response."""
    return f"idempotency:{client_id}:{key}"


def find(session: Session, *, client_id: str, key: str) -> IdempotencyRecord | None:
    """Stored record for a client's key."""
    return session.get(IdempotencyRecord, (client_id, key))


def remember(
    session: Session,
    *,
    keyring: Keyring,
    client_id: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
    now: datetime,
) -> None:
    """Store the response in the caller's transaction; a racing duplicate fails its commit."""
    session.add(
        IdempotencyRecord(
            client_id=client_id,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response_sealed=keyring.seal_json(body, aad=record_aad(client_id, key)),
            created_at=now,
        )
    )


def stored_body(keyring: Keyring, record: IdempotencyRecord) -> Any:
    """Decrypt a stored response body."""
    return keyring.open_json(record.response_sealed, aad=record_aad(record.client_id, record.key))
