"""API clients: keys are shown once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ozg_gateway.errors import not_found
from ozg_gateway.store.models import ApiClient

KEY_PREFIX = "ozg_"


class Role(StrEnum):
    """What a client may do."""

    portal = "portal"
    backoffice = "backoffice"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    client_id: str
    role: Role
    offers: frozenset[str] | None = None  # None: no restriction

    def may_see_offer(self, offer_id: str) -> bool:
        """Back-office clients are limited to their configured offers."""
        return self.offers is None or offer_id in self.offers


def hash_key(key: str) -> str:
    """Hash of an API key (keys are random, so a plain SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def return_prefix_problem(prefix: str, *, allow_loopback_http: bool = False) -> str | None:
    """Why ``prefix`` cannot be an allowed return-URL prefix, or None if it can.

    A prefix names a scheme, a host and a path ending in ``/``: ``https://portal.example/``
    or ``https://portal.example/eid/``. An empty prefix, or one like ``https://portal.example``
    (which ``https://portal.example.evil.org`` starts with), would send one-time codes to any
    host. Plain http only for loopback, and only in demo mode.
    """
    parts = urlsplit(prefix)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "absolute https URL expected, e.g. https://portal.example/"
    if parts.scheme == "http" and not (allow_loopback_http and parts.hostname in _LOOPBACK):
        return "https required (http only for 127.0.0.1/localhost in demo mode)"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "no user, query or fragment allowed"
    if not parts.path.endswith("/"):
        return "the path must end with '/', e.g. https://portal.example/"
    return None


def add_client(
    session: Session,
    *,
    client_id: str,
    name: str,
    role: Role,
    now: datetime,
    offers: Sequence[str] | None = None,
    key: str | None = None,
    return_urls: Sequence[str] | None = None,
    allow_loopback_http: bool = False,
    status_url: str | None = None,
) -> tuple[ApiClient, str]:
    """Create a client; return it with its plaintext key (shown once). A portal's
    ``status_url`` receives signed status webhooks.

    Raises ValueError for a return-URL prefix or status URL that :func:`return_prefix_problem`
    refuses (https, or http on loopback in demo mode).
    """
    for prefix in return_urls or ():
        problem = return_prefix_problem(prefix, allow_loopback_http=allow_loopback_http)
        if problem:
            raise ValueError(f"return URL {prefix!r}: {problem}")
    if status_url:
        problem = return_prefix_problem(
            status_url.rsplit("/", 1)[0] + "/", allow_loopback_http=allow_loopback_http
        )
        if problem:
            raise ValueError(f"status URL {status_url!r}: {problem}")
    key = key or new_key()
    client = ApiClient(
        id=client_id,
        name=name,
        role=role.value,
        key_hash=hash_key(key),
        key_hint=key[:10],
        offers=list(offers) if offers else None,
        return_urls=list(return_urls) if return_urls else None,
        status_url=status_url,
        created_at=now,
        revoked_at=None,
    )
    session.add(client)
    session.flush()
    return client, key


def list_clients(session: Session) -> Sequence[ApiClient]:
    """All clients, oldest first."""
    return session.scalars(select(ApiClient).order_by(ApiClient.created_at)).all()


def revoke_client(session: Session, *, client_id: str, now: datetime) -> ApiClient:
    """Revoke a client's key; idempotent."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise not_found("Der Client")
    if client.revoked_at is None:
        client.revoked_at = now
    return client


def authenticate(session: Session, *, key: str) -> Principal | None:
    """Principal for an active key, or None."""
    client = session.scalar(select(ApiClient).where(ApiClient.key_hash == hash_key(key)))
    if client is None or client.revoked_at is not None:
        return None
    offers = frozenset(client.offers) if client.offers is not None else None
    return Principal(client_id=client.id, role=Role(client.role), offers=offers)


def return_url_allowed(session: Session, *, client_id: str, url: str) -> bool:
    """Whether ``url`` starts with one of the client's allowed return prefixes."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    client = session.get(ApiClient, client_id)
    prefixes = (client.return_urls if client else None) or []
    return any(_under(parts, urlsplit(prefix)) for prefix in prefixes if prefix)


def _under(url: SplitResult, prefix: SplitResult) -> bool:
    """Same scheme and host, path inside the prefix's path (never a mere string prefix)."""
    return (
        url.scheme == prefix.scheme
        and url.netloc.lower() == prefix.netloc.lower()
        and not url.username
        and url.path.startswith(prefix.path or "/")
        and (prefix.path or "/").endswith("/")
    )
