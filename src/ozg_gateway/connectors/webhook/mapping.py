"""Pure parts of the webhook call: the signed request and the receiver's reference."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from ozg_gateway.connectors.contract import (
    DeliveryRequest,
)
from ozg_gateway.mappings.case_document import build_case_event

SIGNATURE_VERSION = "v1"


def build_request(
    request: DeliveryRequest,
    *,
    signers: list[Webhook],
    timestamp: datetime,
    attachment_url: str,
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of one webhook call (pure)."""
    event = build_case_event(request.document, timestamp=timestamp, attachment_url=attachment_url)
    return signed(event, msg_id=request.idempotency_key, signers=signers, timestamp=timestamp)


def signed(
    event: dict[str, Any], *, msg_id: str, signers: list[Webhook], timestamp: datetime
) -> tuple[bytes, dict[str, str]]:
    """Body and Standard Webhooks headers of one event (pure)."""
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    signatures = " ".join(s.sign(msg_id, timestamp, body) for s in signers)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "Idempotency-Key": msg_id,
    }
    return body.encode(), headers


def parse_reference(response: httpx.Response) -> str | None:
    """The receiver's reference from a JSON answer ``{"reference": ...}``, if any."""
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        data: Any = response.json()
    except ValueError:
        return None
    ref = data.get("reference") if isinstance(data, dict) else None
    return str(ref)[:200] if ref is not None else None
