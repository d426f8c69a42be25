"""Admin console sessions: an admin key is exchanged once for a random session token.

The browser holds the token in an HttpOnly cookie; the database holds only its SHA-256, so a
leaked table opens no session. Sessions end on logout, after an idle time and after an
absolute lifetime, whichever comes first; every instance sees the same sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ozg_gateway.store.models import ConsoleSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, *, client_id: str, now: datetime) -> str:
    """Open a session for an admin client; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_hash(token), client_id=client_id, created_at=now, last_seen_at=now
        )
    )
    return token


def resume(
    session: Session, *, token: str, now: datetime, idle: timedelta, absolute: timedelta
) -> ConsoleSession | None:
    """The live session of a token (its idle clock restarted), or None when it has ended."""
    row = session.get(ConsoleSession, _hash(token), with_for_update=True)
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        row.ended_at = now
        return None
    row.last_seen_at = now
    return row


def end(session: Session, *, token: str, now: datetime) -> ConsoleSession | None:
    """Log out: the token opens nothing any more."""
    row = session.get(ConsoleSession, _hash(token), with_for_update=True)
    if row is not None and row.ended_at is None:
        row.ended_at = now
        return row
    return None


def purge(session: Session, *, before: datetime) -> int:
    """Forget sessions that ended or started before ``before``."""
    result = session.execute(
        delete(ConsoleSession).where(
            (ConsoleSession.created_at < before) | (ConsoleSession.ended_at < before)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def csrf_token(token: str) -> str:
    """The CSRF token of a session: derived from the session token, so nothing is stored and
    a page of one session is useless to another."""
    return hmac.new(token.encode(), b"ozg-console-csrf", hashlib.sha256).hexdigest()


def csrf_ok(token: str, presented: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token."""
    return presented is not None and hmac.compare_digest(csrf_token(token), presented)
