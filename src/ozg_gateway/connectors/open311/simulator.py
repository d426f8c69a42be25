"""A GeoReport v2 server for tests and the demo, strict about ``POST requests``.

It checks what the specification demands of a new request: a valid ``api_key`` (403; in the
query string or the body, as the spec's swagger declares), a known ``service_code`` (404),
one location (lat+long, address_string or address_id), a description of at most 4,000
characters, numeric coordinates and only attributes the service defines (400). Every
endpoint answers in JSON or XML by its ``.json``/``.xml`` suffix (``formats`` narrows that,
like servers that offer XML only), errors as the spec's error list. ``GET requests`` honours
the spec's filters: ``service_request_id`` (overrides the others), ``service_code``,
``start_date``, ``end_date``, ``status``. An ``Idempotency-Key`` sent again returns the
request created first; ``POST /simulate/status/{id}`` plays the back office.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ozg_gateway.mappings import georeport

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


def _answer(fmt: str, root: str, item: str, body: Any, status: int = 200) -> Response:
    """``body`` in the asked format: a list (``<root><item>…``) or one object (``<root>``)."""
    if fmt == "json":
        return JSONResponse(body, status_code=status)
    if isinstance(body, list):
        content = georeport.xml(root, item, body)
    else:
        content = georeport.xml_object(root, body)
    return Response(content, status_code=status, media_type="text/xml; charset=utf-8")


def _error(fmt: str, status: int, description: str) -> Response:
    return _answer(fmt, "errors", "error", georeport.errors(status, [description]), status)


def _when(value: str | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _filtered(requests: Sequence[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    """The spec's ``GET requests`` filters; ``service_request_id`` overrides the others."""
    if query.get("service_request_id"):
        wanted = set(query["service_request_id"].split(","))
        return [r for r in requests if r["service_request_id"] in wanted]
    codes = set(query["service_code"].split(",")) if query.get("service_code") else None
    states = set(query["status"].split(",")) if query.get("status") else None
    start, end = _when(query.get("start_date")), _when(query.get("end_date"))
    out = []
    for r in requests:
        at = _when(r["requested_datetime"])
        if codes is not None and r["service_code"] not in codes:
            continue
        if states is not None and r["status"] not in states:
            continue
        if at is not None and ((start and at < start) or (end and at > end)):
            continue
        out.append(r)
    return out


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
    formats: tuple[str, ...] = ("json", "xml"),
) -> FastAPI:
    """ASGI app serving ``services``, ``services/{code}`` and ``requests`` (.json / .xml)."""
    app = FastAPI(title="Open311 simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.open311 = state = state or Open311State()
    names = dict(services)

    def unknown(fmt: str) -> Response | None:
        return None if fmt in formats else _error("json", 404, f"format {fmt} not offered")

    @app.get("/services.{fmt}", response_model=None)
    async def list_services(fmt: str) -> Response:
        listing = [
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
        return unknown(fmt) or _answer(fmt, "services", "service", listing)

    @app.get("/services/{code}.{fmt}", response_model=None)
    async def definition(code: str, fmt: str) -> Response:
        if (refused := unknown(fmt)) is not None:
            return refused
        if code not in names:
            return _error(fmt, 404, "service_code not found")
        body = {"service_code": code, "attributes": [TYPE_ATTRIBUTE]}
        return _answer(fmt, "service_definition", "", body)

    @app.post("/requests.{fmt}", response_model=None)
    async def create(request: Request, fmt: str) -> Response:
        if (refused := unknown(fmt)) is not None:
            return refused
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        given = fields.get("api_key") or request.query_params.get("api_key", "")
        if not secrets.compare_digest(given, api_key):
            return _error(fmt, 403, "api_key invalid")
        problem = _invalid(fields, names)
        if problem is not None:
            return _error(fmt, *problem)
        key = request.headers.get("idempotency-key")
        if key and key in state.by_key:
            existing = state.requests[state.by_key[key]]
            created = [
                {"service_request_id": existing["service_request_id"], "service_notice": None}
            ]
            return _answer(fmt, "service_requests", "request", created)
        request_id = f"MTL-AEM-{len(state.requests) + 1:06d}"
        state.requests[request_id] = _stored(request_id, fields, names)
        if key:
            state.by_key[key] = request_id
        created = [
            {
                "service_request_id": request_id,
                "service_notice": "Vielen Dank für Ihre Meldung.",
                "account_id": None,
            }
        ]
        return _answer(fmt, "service_requests", "request", created)

    def public(stored: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in stored.items() if not k.startswith("_")}

    @app.get("/requests/{request_id}.{fmt}", response_model=None)
    async def one(request_id: str, fmt: str) -> Response:
        if (refused := unknown(fmt)) is not None:
            return refused
        stored = state.requests.get(request_id)
        if stored is None:
            return _error(fmt, 404, "service_request_id not found")
        return _answer(fmt, "service_requests", "request", [public(stored)])

    @app.get("/requests.{fmt}", response_model=None)
    async def many(request: Request, fmt: str) -> Response:
        if (refused := unknown(fmt)) is not None:
            return refused
        listed = _filtered([public(r) for r in state.requests.values()], request.query_params)
        return _answer(fmt, "service_requests", "request", listed)

    @app.post("/simulate/status/{request_id}", response_model=None)
    async def set_status(request_id: str, request: Request) -> Response:
        """Tests and the demo play the back office: close or reopen a request, with notes."""
        stored = state.requests.get(request_id)
        if stored is None:
            return _error("json", 404, "service_request_id not found")
        change = await request.json()
        stored["status"] = change.get("status", stored["status"])
        stored["status_notes"] = change.get("status_notes")
        stored["updated_datetime"] = datetime.now(UTC).isoformat(timespec="seconds")
        return JSONResponse(public(stored))

    return app


def _invalid(fields: Mapping[str, str], names: Mapping[str, str]) -> tuple[int, str] | None:
    """What the spec refuses in a new request: (status, description), or None."""
    if fields.get("service_code", "") not in names:
        return 404, "service_code not found"
    lat, lon = _float(fields.get("lat")), _float(fields.get("long"))
    has_point = lat is not None and lon is not None
    if not (has_point or fields.get("address_string") or fields.get("address_id")):
        return 400, "a location is required: lat and long, address_string or address_id"
    if ("lat" in fields or "long" in fields) and not has_point:
        return 400, "lat and long must be numbers"
    if len(fields.get("description", "")) > 4000:
        return 400, "description longer than 4000 characters"
    attributes = {k[10:-1]: v for k, v in fields.items() if k.startswith("attribute[")}
    if set(attributes) - {"typ"} or attributes.get("typ", "problem") not in TYPES:
        return 400, "attribute not defined for this service"
    return None


def _stored(request_id: str, fields: Mapping[str, str], names: Mapping[str, str]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "service_request_id": request_id,
        "status": "open",
        "status_notes": None,
        "service_name": names[fields["service_code"]],
        "service_code": fields["service_code"],
        "description": fields.get("description"),
        "agency_responsible": "Stadt Maintal",
        "service_notice": "Vielen Dank für Ihre Meldung.",
        "requested_datetime": now,
        "updated_datetime": now,
        "expected_datetime": None,
        "address": fields.get("address_string"),
        "address_id": fields.get("address_id"),
        "zipcode": None,
        "lat": _float(fields.get("lat")),
        "long": _float(fields.get("long")),
        "media_url": fields.get("media_url"),
        "_contact": {k: fields[k] for k in ("email", "first_name", "last_name") if k in fields},
    }
