"""A reference webhook receiver, as a back-office system would implement one.

It verifies the Standard Webhooks signature (any of the configured secrets, timestamp within
five minutes), de-duplicates by ``webhook-id`` and answers with its own reference. The demo
mounts it at ``/demo/backoffice`` so a newcomer can watch cases arrive; tests use it as the
receiving end of real HTTP deliveries.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    """One distinct event (by webhook-id)."""

    webhook_id: str
    reference: str
    case_number: str
    service_title: str
    received_at: datetime
    event: dict[str, Any]
    deliveries: int = 1


@dataclass
class ReceiverStore:
    """Thread-safe, in-memory record of what arrived."""

    events: dict[str, Received] = field(default_factory=dict)
    rejected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, webhook_id: str, event: dict[str, Any]) -> Received:
        """Record an event; a repeated webhook-id only counts the repetition."""
        with self._lock:
            known = self.events.get(webhook_id)
            if known is not None:
                known.deliveries += 1
                return known
            data = event.get("data", {})
            item = Received(
                webhook_id=webhook_id,
                reference=f"EING-{len(self.events) + 1:06d}",
                case_number=str(data.get("case_number", "?")),
                service_title=str(data.get("service", {}).get("title", "?")),
                received_at=datetime.now(UTC),
                event=event,
            )
            self.events[webhook_id] = item
            return item

    @property
    def duplicates(self) -> int:
        """How many deliveries repeated an already received webhook-id."""
        with self._lock:
            return sum(e.deliveries - 1 for e in self.events.values())


def create_receiver(secrets: Sequence[str], store: ReceiverStore | None = None) -> FastAPI:
    """ASGI app with ``POST /webhook``, ``GET /health``, ``GET /`` (HTML) and ``GET /events``."""
    verifiers = [Webhook(s) for s in secrets]
    app = FastAPI(title="Demo back office", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store or ReceiverStore()

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        headers = dict(request.headers)
        for verifier in verifiers:
            try:
                event = verifier.verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        else:
            app.state.store.rejected += 1
            return JSONResponse({"error": "signature"}, status_code=401)
        item = app.state.store.add(headers["webhook-id"], event)
        return JSONResponse({"reference": item.reference})

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/events")
    async def events() -> list[dict[str, Any]]:
        return [
            {
                "webhook_id": e.webhook_id,
                "reference": e.reference,
                "case_number": e.case_number,
                "deliveries": e.deliveries,
            }
            for e in app.state.store.events.values()
        ]

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        rows = "".join(
            f"<tr><td>{html.escape(e.received_at.strftime('%H:%M:%S'))}</td>"
            f"<td>{html.escape(e.case_number)}</td><td>{html.escape(e.service_title)}</td>"
            f"<td>{html.escape(e.reference)}</td><td>{e.deliveries}</td></tr>"
            for e in reversed(list(app.state.store.events.values()))
        )
        return (
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3>"
            "<title>Demo-Fachverfahren</title><body style='font-family:sans-serif'>"
            "<h1>Demo-Fachverfahren: eingegangene Fälle</h1>"
            "<table border=1 cellpadding=4><tr><th>Eingang</th><th>Fall</th><th>Leistung</th>"
            f"<th>Unser Zeichen</th><th>Zustellungen</th></tr>{rows}</table>"
        )

    return app
