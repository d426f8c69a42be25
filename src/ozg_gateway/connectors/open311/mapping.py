"""Pure parts of a GeoReport v2 call: the POST body, the created request's id, its status.

GeoReport v2 has no idempotency: a report whose answer got lost is posted again when retried.
The gateway sends its delivery key as ``Idempotency-Key`` for servers that honour it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ozg_gateway.connectors.contract import RemoteStatus
from ozg_gateway.errors import PermanentError


def build_post_body(form_fields: bytes, *, api_key: str, jurisdiction_id: str | None) -> bytes:
    """The case's form fields plus api_key and jurisdiction_id (pure)."""
    extra = [("api_key", api_key)]
    if jurisdiction_id:
        extra.append(("jurisdiction_id", jurisdiction_id))
    return form_fields + b"&" + urlencode(extra).encode()


def parse_created(body: bytes) -> str:
    """The service request id (or ``token:<token>``) from a POST answer (pure)."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise PermanentError("Open311 answer is not JSON") from exc
    first = data[0] if isinstance(data, list) and data else data
    if not isinstance(first, dict):
        raise PermanentError("Open311 answer without a service request")
    if first.get("service_request_id"):
        return str(first["service_request_id"])[:200]
    if first.get("token"):
        return f"token:{first['token']}"[:200]
    raise PermanentError("Open311 answer without service_request_id or token")


def parse_status(content: bytes) -> RemoteStatus | None:
    """``GET requests/{id}.json``: closed or open, the notes, the last change (None: no such
    request in the answer)."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    item = data[0] if isinstance(data, list) and data else None
    if not isinstance(item, dict) or item.get("status") not in ("open", "closed"):
        return None
    updated = item.get("updated_datetime")
    try:
        when = datetime.fromisoformat(str(updated)) if updated else None
    except ValueError:
        when = None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    notes = item.get("status_notes")
    return RemoteStatus(item["status"] == "closed", str(notes) if notes else None, when)
