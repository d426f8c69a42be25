"""An XBezahldienste provider for tests and the demo: REST API, paypage, scripted behaviour."""

from __future__ import annotations

import asyncio
import base64
import html
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response


@dataclass
class Behaviour:
    """Configurable misbehaviour."""

    create_status: int | None = None  # answer every create with this HTTP status
    create_delay: float = 0.0  # seconds before answering a create
    status_delay: float = 0.0  # seconds before answering a status GET
    status_answers: int = 0  # status GETs answered so far (tests see whether one came back)
    late_payment: set[str] = field(default_factory=set)  # transaction ids paid on next GET


@dataclass
class SimTransaction:
    """Provider-side state of one transaction."""

    request: dict[str, Any]
    transaction_id: str
    originator: str = "x"
    endpoint: str = "x"
    status: str = "INITIAL"
    method: str | None = None
    reference: str | None = None
    updated: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def _problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "status": status,
            "title": code,
            "detail": detail,
            "functionalCode": code,
        },
        status_code=status,
        media_type="application/problem+json",
    )


_ID = re.compile(r"^[\w-]{1,36}$", re.ASCII)


_PURPOSE = re.compile(r"^[\w\s-]{0,27}$")


def request_problem(data: object) -> str | None:
    """What makes a PaymentRequest invalid per XBezahldienste 1.0.0, or None."""
    if not isinstance(data, dict):
        return "body is not a PaymentRequest object"
    if not isinstance(data.get("requestId"), str) or not _ID.match(data["requestId"]):
        return "requestId: 1-36 characters of [A-Za-z0-9_-]"
    if data.get("currency") != "EUR":
        return "currency: only EUR"
    if not _PURPOSE.match(str(data.get("purpose", ""))):
        return "purpose: at most 27 letters, digits, spaces or hyphens"
    items = data.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 99:
        return "items: 1 to 99 entries"
    try:
        total = sum(
            Decimal(str(i["totalNetAmount"])) + Decimal(str(i["totalTaxAmount"])) for i in items
        )
        gross = Decimal(str(data.get("grosAmount")))
    except (KeyError, TypeError, ArithmeticError):
        return "items: amounts missing or not decimal"
    if total != gross:
        return "CALCULATION_ERROR"
    return None


def create_simulator(
    *,
    username: str | None = None,
    password: str | None = None,
    oauth_clients: dict[str, str] | None = None,
    behaviour: Behaviour | None = None,
    endpoints: set[tuple[str, str]] | None = None,
) -> FastAPI:
    """The provider; with credentials set, requests must authenticate (Basic or Bearer).

    ``endpoints`` (originatorId, endPointId) are the configured pairs; others are answered with
    NO_VALID_ORIGINATOR_OR_ENDPOINT (None: any well-formed pair).
    """
    app = FastAPI(title="XBezahldienste simulator", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict[str, SimTransaction] = {}
    by_request: dict[str, str] = {}
    tokens: set[str] = set()
    lock = threading.Lock()
    app.state.transactions = state
    app.state.behaviour = behaviour = behaviour or Behaviour()

    def authorised(request: Request) -> bool:
        if username is None and not oauth_clients:
            return True
        header = request.headers.get("authorization", "")
        if header.startswith("Basic ") and username is not None:
            expected = base64.b64encode(f"{username}:{password}".encode()).decode()
            return secrets.compare_digest(header[6:], expected)
        return header.startswith("Bearer ") and header[7:] in tokens

    def unknown_pair(a: str, b: str) -> JSONResponse | None:
        if _ID.match(a) and _ID.match(b) and (endpoints is None or (a, b) in endpoints):
            return None
        return _problem(404, "NO_VALID_ORIGINATOR_OR_ENDPOINT", "unknown originator or endpoint")

    def body_of(tx: SimTransaction, base: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "transactionId": tx.transaction_id,
            "transactionUrl": f"{base}/paymenttransaction/{tx.originator}/{tx.endpoint}/"
            f"{tx.transaction_id}",
            "transactionTimestamp": tx.updated,
            "status": tx.status,
        }
        if tx.status == "INITIAL":
            info["transactionRedirectUrl"] = f"{base}/paypage/{tx.transaction_id}"
        if tx.method:
            info["paymentMethod"] = tx.method
        if tx.reference:
            info["transactionReference"] = tx.reference
        return {"paymentRequest": tx.request, "paymentInformation": info}

    def base_of(request: Request) -> str:
        # Mounted under a prefix (the demo's /demo/epay), links must keep it.
        base = str(request.base_url).rstrip("/")
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return base if base.endswith(root) else base + root

    @app.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        client = str(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials" or (oauth_clients or {}).get(
            client
        ) != form.get("client_secret"):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        value = secrets.token_urlsafe(24)
        tokens.add(value)
        return JSONResponse({"access_token": value, "token_type": "Bearer", "expires_in": 300})

    @app.get("/status/{a}/{b}")
    async def status(request: Request, a: str, b: str) -> Response:
        if not authorised(request):
            return Response(status_code=403)
        return unknown_pair(a, b) or Response(status_code=200)

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> HTMLResponse:
        """What a demo user sees at the simulator's root: the payments and their paypages."""
        rows = "".join(
            f"<li><a href='{base_of(request)}/paypage/{tid}'>"
            f"{html.escape(str(tx.request.get('purpose', '')))}</a> — "
            f"{Decimal(str(tx.request.get('grosAmount'))):.2f} EUR — {tx.status}</li>"
            for tid, tx in reversed(list(state.items()))
        )
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Bezahldienst (Simulator)</title>"
            "<h1>Bezahldienst (Simulator)</h1><p>Zahlungen, die das Gateway angelegt hat; "
            "die Bezahlseite öffnet sich sonst aus dem Portal.</p>"
            f"<ul>{rows or '<li>Noch keine Zahlung.</li>'}</ul>"
        )

    @app.post("/paymenttransaction/{a}/{b}")
    async def create(request: Request, a: str, b: str) -> JSONResponse:
        if not authorised(request):
            return _problem(403, "FORBIDDEN", "not authorised")
        if behaviour.create_delay:
            await asyncio.sleep(behaviour.create_delay)
        if behaviour.create_status:
            return _problem(behaviour.create_status, "UNSPECIFIED", "simulated failure")
        refused = unknown_pair(a, b)
        if refused is not None:
            return refused
        try:
            data = await request.json()
        except ValueError:
            return _problem(400, "VALIDATION_ERROR", "body is not JSON")
        problem = request_problem(data)
        if problem == "CALCULATION_ERROR":
            return _problem(400, "CALCULATION_ERROR", "items do not add up")
        if problem is not None:
            return _problem(400, "VALIDATION_ERROR", problem)
        with lock:
            if data["requestId"] in by_request:
                return _problem(409, "PAYMENT_EXISTS", "requestId already used")
            tx = SimTransaction(
                request=data, transaction_id=str(uuid.uuid4()), originator=a, endpoint=b
            )
            state[tx.transaction_id] = tx
            by_request[data["requestId"]] = tx.transaction_id
        return JSONResponse(body_of(tx, base_of(request)))

    @app.get("/paymenttransaction/{a}/{b}/{tid}")
    async def get(request: Request, a: str, b: str, tid: str) -> JSONResponse:
        if not authorised(request):
            return _problem(403, "FORBIDDEN", "not authorised")
        refused = unknown_pair(a, b)
        if refused is not None:
            return refused
        tx = state.get(tid)
        if tx is None or (tx.originator, tx.endpoint) != (a, b):
            return _problem(404, "VALIDATION_ERROR", "unknown transaction")
        if behaviour.status_delay:
            await asyncio.sleep(behaviour.status_delay)
        if tid in behaviour.late_payment:
            _settle(tx, "PAYED")
        behaviour.status_answers += 1
        return JSONResponse(body_of(tx, base_of(request)))

    @app.get("/paypage/{tid}", response_class=HTMLResponse)
    async def paypage(tid: str) -> HTMLResponse:
        tx = state.get(tid)
        if tx is None:
            return HTMLResponse("<h1>Unbekannte Zahlung</h1>", status_code=404)
        buttons = "".join(
            f"<form method=post action='{tid}/{action}' style='display:inline'>"
            f"<button name=b value={action}>{label}</button></form> "
            for action, label in (
                ("pay", "Bezahlen"),
                ("cancel", "Abbrechen"),
                ("fail", "Fehlschlag"),
            )
        )
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Bezahlseite (Simulator)</title>"
            "<body style='font-family:sans-serif'><h1>Bezahlseite (Simulator)</h1>"
            f"<p>{html.escape(str(tx.request.get('description', '')))}</p>"
            f"<p>Verwendungszweck: {html.escape(str(tx.request.get('purpose', '')))}</p>"
            f"<p><b>Betrag: {Decimal(str(tx.request.get('grosAmount'))):.2f} EUR</b></p>"
            f"<p>Status: {tx.status}</p>{buttons if tx.status == 'INITIAL' else ''}"
        )

    @app.post("/paypage/{tid}/{action}")
    async def decide(tid: str, action: str) -> Response:
        tx = state.get(tid)
        if tx is None or tx.status != "INITIAL" or action not in ("pay", "cancel", "fail"):
            return HTMLResponse("<h1>Nicht möglich</h1>", status_code=409)
        _settle(tx, {"pay": "PAYED", "cancel": "CANCELED", "fail": "FAILED"}[action])
        return RedirectResponse(str(tx.request["redirectUrl"]), status_code=303)

    return app


def _settle(tx: SimTransaction, status: str) -> None:
    tx.status = status
    tx.updated = datetime.now(UTC).isoformat()
    if status == "PAYED":
        tx.method = "CREDITCARD"
        tx.reference = f"KZ-{tx.transaction_id[:8].upper()}"


def pay(app: FastAPI, transaction_id: str, status: str = "PAYED") -> None:
    """Settle a transaction as a person on the paypage would (tests)."""
    _settle(app.state.transactions[transaction_id], status)
