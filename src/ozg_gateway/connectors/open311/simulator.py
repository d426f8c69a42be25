"""A GeoReport v2 server (JSON) for tests and the demo, strict about ``POST requests``.

It checks what the specification demands of a new request: a valid ``api_key`` (403), a known
``service_code`` (404), one location (lat+long, address_string or address_id), a description
of at most 4,000 characters, numeric coordinates and only attributes the service defines
(400), answering errors as ``[{"code", "description"}]``. Requests can be read back with
``GET requests`` in the shape of the schema-validation repository's ``request.json``.
An ``Idempotency-Key`` sent again returns the request created first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DEFAULT_SERVICES: tuple[tuple[str, str], ...] = (
    ("001", "Straßen und Wege"),
    ("002", "Straßenbeleuchtung"),
    ("003", "Illegale Müllablagerung"),
    ("004", "Grünflächen und Spielplätze"),
    ("005", "Verkehrszeichen"),
    ("099", "Sonstiges"),
)
TYPES = {"problem": "Problem", "idee": "Idee"}  # Klarschiff: report vs. suggestion
TYPE_ATTRIBUTE = {
    "variable": True,
    "code": "typ",
    "datatype": "singlevaluelist",
    "required": False,
    "datatype_description": "Meldung oder Anregung",
    "order": 1,
    "description": "Art",
    "values": [{"key": key, "name": name} for key, name in TYPES.items()],
}


@dataclass
class Open311State:
    """Requests by id, and which id an idempotency key created."""

    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def create_open311_simulator(
    *,
    api_key: str,
    services: tuple[tuple[str, str], ...] = DEFAULT_SERVICES,
    state: Open311State | None = None,
) -> FastAPI:
    """ASGI app serving ``services.json``, ``services/{code}.json`` and ``requests``."""
    app = FastAPI(title="Open311 simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.open311 = state = state or Open311State()
    names = dict(services)

    @app.get("/services.json")
    async def list_services() -> list[dict[str, Any]]:
        return [
            {
                "service_code": code,
                "service_name": name,
                "description": name,
                "metadata": True,
                "type": "realtime",
                "keywords": "problem,idee",
                "group": "AEM",
            }
            for code, name in services
        ]

    @app.get("/services/{code}.json", response_model=None)
    async def definition(code: str) -> dict[str, Any] | JSONResponse:
        if code not in names:
            return _error(404, "service_code not found")
        return {"service_code": code, "attributes": [TYPE_ATTRIBUTE]}

    @app.post("/requests.json", response_model=None)
    async def create(request: Request) -> list[dict[str, Any]] | JSONResponse:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        if not secrets.compare_digest(fields.get("api_key", ""), api_key):
            return _error(403, "api_key invalid")
        code = fields.get("service_code", "")
        if code not in names:
            return _error(404, "service_code not found")
        lat, lon = _float(fields.get("lat")), _float(fields.get("long"))
        has_point = lat is not None and lon is not None
        if not (has_point or fields.get("address_string") or fields.get("address_id")):
            return _error(400, "a location is required: lat and long, address_string or address_id")
        if ("lat" in fields or "long" in fields) and not has_point:
            return _error(400, "lat and long must be numbers")
        if len(fields.get("description", "")) > 4000:
            return _error(400, "description longer than 4000 characters")
        attributes = {k[10:-1]: v for k, v in fields.items() if k.startswith("attribute[")}
        if set(attributes) - {"typ"} or attributes.get("typ", "problem") not in TYPES:
            return _error(400, "attribute not defined for this service")
        key = request.headers.get("idempotency-key")
        if key and key in state.by_key:
            existing = state.requests[state.by_key[key]]
            return [{"service_request_id": existing["service_request_id"], "service_notice": None}]
        request_id = f"MTL-AEM-{len(state.requests) + 1:06d}"
        now = datetime.now(UTC).isoformat(timespec="seconds")
        state.requests[request_id] = {
            "service_request_id": request_id,
            "status": "open",
            "status_notes": None,
            "service_name": names[code],
            "service_code": code,
            "description": fields.get("description"),
            "agency_responsible": "Stadt Maintal",
            "service_notice": "Vielen Dank für Ihre Meldung.",
            "requested_datetime": now,
            "updated_datetime": now,
            "expected_datetime": None,
            "address": fields.get("address_string"),
            "address_id": fields.get("address_id"),
            "zipcode": None,
            "lat": lat,
            "long": lon,
            "media_url": fields.get("media_url"),
            "_contact": {k: fields[k] for k in ("email", "first_name", "last_name") if k in fields},
        }
        if key:
            state.by_key[key] = request_id
        return [
            {
                "service_request_id": request_id,
                "service_notice": "Vielen Dank für Ihre Meldung.",
                "account_id": None,
            }
        ]

    def public(stored: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in stored.items() if not k.startswith("_")}

    @app.get("/requests/{request_id}.json", response_model=None)
    async def one(request_id: str) -> list[dict[str, Any]] | JSONResponse:
        stored = state.requests.get(request_id)
        if stored is None:
            return _error(404, "service_request_id not found")
        return [public(stored)]

    @app.get("/requests.json")
    async def many() -> list[dict[str, Any]]:
        return [public(r) for r in state.requests.values()]

    @app.post("/simulate/status/{request_id}", response_model=None)
    async def set_status(request_id: str, request: Request) -> dict[str, Any] | JSONResponse:
        """Tests and the demo play the back office: close or reopen a request, with notes."""
        stored = state.requests.get(request_id)
        if stored is None:
            return _error(404, "service_request_id not found")
        change = await request.json()
        stored["status"] = change.get("status", stored["status"])
        stored["status_notes"] = change.get("status_notes")
        stored["updated_datetime"] = datetime.now(UTC).isoformat(timespec="seconds")
        return public(stored)

    return app
