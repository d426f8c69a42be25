"""Pure parts of a GeoReport v2 call: the POST body, the created request's id, its status —
in JSON or in the spec's XML (``<service_requests><request>…``), which some servers offer only.

GeoReport v2 has no idempotency: a report whose answer got lost is posted again when retried.
The gateway sends its delivery key as ``Idempotency-Key`` for servers that honour it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from lxml import etree

from ozg_gateway.connectors.contract import RemoteStatus
from ozg_gateway.errors import PermanentError

Format = Literal["json", "xml"]
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def build_post_body(form_fields: bytes, *, api_key: str, jurisdiction_id: str | None) -> bytes:
    """The case's form fields plus api_key and jurisdiction_id (pure)."""
    extra = [("api_key", api_key)]
    if jurisdiction_id:
        extra.append(("jurisdiction_id", jurisdiction_id))
    return form_fields + b"&" + urlencode(extra).encode()


def _first(body: bytes, fmt: Format) -> dict[str, Any] | None:
    """The first object of a list answer, as a flat dict of strings (None: not readable)."""
    if fmt == "xml":
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            return None
        item = root[0] if len(root) else None
        if item is None:
            return None
        return {child.tag: child.text for child in item if isinstance(child.tag, str)}
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    first = data[0] if isinstance(data, list) and data else data
    return first if isinstance(first, dict) else None


def parse_created(body: bytes, fmt: Format = "json") -> str:
    """The service request id (or ``token:<token>``) from a POST answer (pure)."""
    first = _first(body, fmt)
    if first is None:
        raise PermanentError(f"Open311 answer is not {fmt.upper()} with a service request")
    if first.get("service_request_id"):
        return str(first["service_request_id"])[:200]
    if first.get("token"):
        return f"token:{first['token']}"[:200]
    raise PermanentError("Open311 answer without service_request_id or token")


def parse_status(content: bytes, fmt: Format = "json") -> RemoteStatus | None:
    """``GET requests/{id}``: closed or open, the notes, the last change (None: no such
    request in the answer)."""
    item = _first(content, fmt)
    if item is None or item.get("status") not in ("open", "closed"):
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
