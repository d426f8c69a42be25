"""Opaque keyset cursors: ``(timestamp, id)`` encoded as URL-safe base64."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from ozg_gateway.errors import FieldError, validation_problem


def encode(at: datetime, row_id: str) -> str:
    """Cursor after the row ``(at, row_id)``."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, str] | None:
    """Position of a cursor; 422 if it was not made by :func:`encode`."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|", 1)
        return datetime.fromisoformat(at), row_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise validation_problem(
            [FieldError("#query:cursor", "invalid_cursor", "Ungültiger Cursor.")]
        ) from None
