"""Audit log: who did what to which resource. Ids and action names only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ozg_gateway.store.clients import Principal
from ozg_gateway.store.models import AuditEntry


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    actor_role: str,
    action: str,
    target_type: str,
    target_id: str | None,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the current transaction."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            actor_role=actor_role,
            action=action,
            target_type=target_type,
            target_id=target_id,
            request_id=request_id,
            details=details,
        )
    )


def record_by(
    session: Session,
    *,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str | None,
    at: datetime,
    request_id: str | None,
) -> None:
    """Audit entry for an API caller's action."""
    record(
        session,
        at=at,
        actor=principal.client_id,
        actor_role=principal.role.value,
        action=action,
        target_type=target_type,
        target_id=target_id,
        request_id=request_id,
    )


def recent(
    session: Session, *, limit: int = 100, action: str | None = None, before_id: int | None = None
) -> Sequence[AuditEntry]:
    """Newest entries first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return session.scalars(query).all()
