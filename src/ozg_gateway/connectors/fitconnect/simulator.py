"""A FIT-Connect Submission API (v1) with destinations that decrypt, check and answer.

For tests and demo. OAuth2 client credentials at ``/token``; every API call needs the bearer
token. Request bodies are validated against the OpenAPI component schemas of
``fit-connect/submission-api.yaml`` when the specs directory is there. On submit, the
destination decrypts metadata, data and attachments with its private key, validates the
metadata against schema 1.0.0 and compares the SHA-512 hashes and attachment ids; it then
writes ``accept-submission`` or ``reject-submission`` (with problems) to the case's event log
after the platform's ``submit-submission``. All events are SETs signed by one platform key
(published at ``/.well-known/jwks.json``); real destinations sign their own events.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from joserfc.jwk import RSAKey

from ozg_gateway.connectors.fitconnect import jose
from ozg_gateway.connectors.fitconnect.conformance import ConformingAnswers
from ozg_gateway.connectors.fitconnect.jwe_stream import decrypt_stream
from ozg_gateway.connectors.fitconnect.mapping import (
    ARS_URN,
    CALLBACKS,
    LEIKA_URN,
    callback_signature,
    check_received,
    problem,
)
from ozg_gateway.errors import PermanentError
from ozg_gateway.mappings.fitconnect import SCHEMA_URN
from ozg_gateway.specs import (
    FIT_CONNECT_METADATA,
    FIT_CONNECT_ROUTING_API,
    FIT_CONNECT_SUBMISSION_API,
    SpecMissing,
    json_validator,
    openapi_validator,
)

ISSUER = "https://submission-api.simulator.invalid"


@lru_cache(maxsize=4)
def simulator_key(name: str) -> RSAKey:
    """A 4,096-bit RSA key per name, made once per process (generation takes seconds)."""
    return RSAKey.generate_key(4096, parameters={"kid": f"sim-{name}"})


def _certificate(key: RSAKey, issuer: tuple[x509.Certificate, Any] | None = None) -> str:
    """A certificate for the key (the JWK schema demands an x5c chain): self-signed, or issued
    by ``issuer`` (a test CA's certificate and private key)."""
    private = key.private_key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FIT-Connect simulator")])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(private.public_key())  # type: ignore[union-attr]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
            critical=False,
        )
    cert = builder.sign(issuer[1] if issuer else private, hashes.SHA256())  # type: ignore[arg-type]
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@dataclass
class Destination:
    """A destination with its encryption key pair."""

    destination_id: str
    key: RSAKey
    status: str = "active"
    service: str = "urn:de:fim:leika:leistung:99000000000000"
    # Set when a subscriber (this gateway, receiving) runs the destination: submissions then
    # wait for pickup and the subscriber's signed accept/reject instead of being examined here.
    subscriber_key: RSAKey | None = None
    # Callbacks to the subscriber when submissions arrive (FIT-Connect's new-submissions).
    callback_url: str | None = None
    callback_secret: str | None = None
    reply_channels: dict[str, Any] = field(default_factory=lambda: {"eMail": {"usePgp": False}})


@dataclass
class Submission:
    """What the sender has announced, uploaded and sent."""

    submission_id: str
    case_id: str
    destination_id: str
    announced: list[str]
    service_type: dict[str, Any]
    attachments: dict[str, Path] = field(default_factory=dict)  # the uploaded tokens, on disk
    submitted: bool = False
    encrypted: dict[str, str] = field(default_factory=dict)
    picked_up: bool = False
    metadata: dict[str, Any] | None = None
    data: bytes | None = None
    files: dict[str, Path] = field(default_factory=dict)  # as the destination decrypted them


@dataclass
class FitConnectState:
    """Clients, tokens, destinations, submissions and event logs by case."""

    clients: dict[str, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    destinations: dict[str, Destination] = field(default_factory=dict)
    submissions: dict[str, Submission] = field(default_factory=dict)
    events: dict[str, list[str]] = field(default_factory=dict)
    signing_key: RSAKey = field(default_factory=lambda: simulator_key("platform-signing"))
    # Routing API: LeiKa key -> [(ARS, destination id)]; signed with ``signing_key`` unless a
    # test forges them with ``route_key``. ``route_quota`` requests until 429 (None: no limit).
    routes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # A CA (certificate, private key) that issues the destination keys' certificates (x5c);
    # None: self-signed ones.
    key_ca: tuple[x509.Certificate, Any] | None = None
    route_key: RSAKey | None = None
    route_quota: int | None = None
    routing_calls: int = 0
    # Attachments (up to 500 MB each) are kept on disk, never in memory.
    storage: Path | None = None

    def path(self, name: str) -> Path:
        """A file in the simulator's storage (a temporary directory unless one was given)."""
        if self.storage is None:
            self.storage = Path(tempfile.mkdtemp(prefix="fitconnect-simulator-"))
        self.storage.mkdir(parents=True, exist_ok=True)
        return self.storage / name


MAX_TOKEN_BYTES = 500 * 1024 * 1024 * 4 // 3 + 64 * 1024  # a 500 MB attachment as JWE


def _decrypt_file(token: Path, plain: Path, key: RSAKey) -> str:
    """Decrypt a stored token into ``plain`` in pieces; the plaintext's hex SHA-512."""
    digest = hashlib.sha512()
    with token.open("rb") as source, plain.open("wb") as out:
        pieces = iter(lambda: source.read(256 * 1024), b"")
        for chunk in decrypt_stream(pieces, key, max_plaintext=500 * 1024 * 1024):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _problem(status: int, title: str, detail: str | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def create_fitconnect_simulator(specs_dir: Path | None, state: FitConnectState) -> FastAPI:
    """ASGI app: ``/token``, ``/v1/...`` and ``/.well-known/jwks.json``."""
    app = FastAPI(title="FIT-Connect simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fitconnect = state

    def invalid(schema: str, body: Any) -> str | None:
        try:
            validator = openapi_validator(specs_dir, FIT_CONNECT_SUBMISSION_API, schema)
        except SpecMissing:
            return None
        error = next(iter(validator.iter_errors(body)), None)
        return f"{'/'.join(map(str, error.absolute_path))}: {error.message}" if error else None

    pending: set[asyncio.Task[None]] = set()  # callbacks in flight (kept referenced)

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in state.tokens

    def event(case_id: str, submission_id: str, name: str, body: dict[str, Any]) -> None:
        payload = jose.event_payload(
            name,
            submission_id=submission_id,
            case_id=case_id,
            issuer=ISSUER,
            now=int(time.time()),
            jti=str(uuid.uuid4()),
            body=body,
        )
        state.events.setdefault(case_id, []).append(jose.sign_event(payload, state.signing_key))

    def examine(sub: Submission, hashes: dict[str, str]) -> list[dict[str, str]]:
        """What the destination finds wrong with a submission (empty: accept)."""
        problems = []
        metadata = sub.metadata or {}
        try:
            validator = json_validator(specs_dir, FIT_CONNECT_METADATA)
            error = next(iter(validator.iter_errors(metadata)), None)
            if error is not None:
                problems.append(problem("schema-violation", "metadata", error.message))
        except SpecMissing:
            pass
        problems += check_received(metadata, sub.data, hashes)
        return problems

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        client, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        known = state.clients.get(client)
        if (
            form.get("grant_type") != "client_credentials"
            or known is None
            or not (secrets.compare_digest(known, secret))
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        value = secrets.token_urlsafe(24)
        state.tokens.add(value)
        return JSONResponse({"access_token": value, "token_type": "Bearer", "expires_in": 1800})

    @app.get("/v1/routes", response_model=None)
    async def routes(
        leika_key: Annotated[str, Query(alias="leikaKey", pattern=r"^99\d{12}$")],
        ars: Annotated[str | None, Query(pattern=r"^(\d{2}|\d{3}|\d{5}|\d{9}|\d{12})$")] = None,
        ags: Annotated[str | None, Query(pattern=r"^(\d{2}|\d{3}|\d{5}|\d{8})$")] = None,
        area_id: Annotated[str | None, Query(alias="areaId")] = None,
    ) -> JSONResponse:
        """The Routing API (public): signed routes for a LeiKa key and one area parameter."""
        state.routing_calls += 1
        limits = {"RateLimit-Limit": "100", "RateLimit-Reset": "2"}
        if state.route_quota is not None:
            if state.route_quota <= 0:
                return JSONResponse(  # the routing API file declares application/json here
                    {"type": "about:blank", "title": "Too Many Requests", "status": 429},
                    status_code=429,
                    headers={**limits, "RateLimit-Remaining": "0"},
                )
            state.route_quota -= 1
        if sum(p is not None for p in (ars, ags, area_id)) != 1:
            return _problem(400, "Bad Request", "exactly one of ars, ags, areaId")
        signer = state.route_key or state.signing_key
        found = [d for a, d in state.routes.get(leika_key, []) if a == ars]
        body = {
            "count": len(found),
            "offset": 0,
            "totalCount": len(found),
            "routes": [
                {
                    "destinationId": destination_id,
                    "destinationSignature": jose.sign_payload(
                        {
                            "submissionHost": "fit-connect-simulator",
                            "iss": "fit-connect-simulator",
                            "destinationId": destination_id,
                            "iat": int(time.time()),
                            "jti": str(uuid.uuid4()),
                            "services": [
                                {
                                    "gebietIDs": [ARS_URN + str(ars)],
                                    "leistungIDs": [LEIKA_URN + leika_key],
                                }
                            ],
                        },
                        signer,
                    ),
                    "destinationName": "Stadt Maintal (Simulator)",
                }
                for destination_id in found
            ],
        }
        error = invalid_routing("route-result", body)
        if error:
            return _problem(500, "Simulator answer violates routing-api.yaml", error)
        remaining = str(state.route_quota if state.route_quota is not None else 99)
        return JSONResponse(body, headers={**limits, "RateLimit-Remaining": remaining})

    def invalid_routing(schema: str, body: Any) -> str | None:
        try:
            validator = openapi_validator(specs_dir, FIT_CONNECT_ROUTING_API, schema)
        except SpecMissing:
            return None
        error = next(iter(validator.iter_errors(body)), None)
        return f"{'/'.join(map(str, error.absolute_path))}: {error.message}" if error else None

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        public = state.signing_key.as_dict(private=False)
        signing = {**public, "alg": jose.SET_ALG, "key_ops": ["verify"]}
        return {"keys": [{**signing, "x5c": [_certificate(state.signing_key)]}]}

    # Public as the API file declares (no security): /v1/info and a destination's keys.
    @app.get("/v1/info", response_model=None)
    async def info() -> dict[str, Any]:
        return {"version": {"major": 1, "minor": 1, "patch": 3}}

    @app.get("/v1/destinations/{destination_id}", response_model=None)
    async def destination(destination_id: str, request: Request) -> dict[str, Any] | JSONResponse:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        found = state.destinations.get(destination_id)
        if found is None:
            return _problem(404, "Destination not found")
        return {
            "destinationId": found.destination_id,
            "encryptionKid": found.key.kid,
            "metadataVersions": ["1.0.0"],
            "services": [
                {
                    "identifier": found.service,
                    "regions": ["DE06435019"],
                    # Fachdaten schemas are the sender's: every JSON one is accepted here.
                    "submissionSchemas": [
                        {"schemaUri": f"{SCHEMA_URN}any", "mimeType": "application/json"}
                    ],
                }
            ],
            "status": found.status,
            **({"replyChannels": found.reply_channels} if found.reply_channels else {}),
        }

    @app.get("/v1/destinations/{destination_id}/keys/{kid}", response_model=None)
    async def key(destination_id: str, kid: str) -> dict[str, Any] | JSONResponse:
        found = state.destinations.get(destination_id)
        signer = found.subscriber_key if found else None
        if found is not None and signer is not None and signer.kid == kid:
            return {
                **signer.as_dict(private=False),
                "alg": jose.SET_ALG,
                "key_ops": ["verify"],
                "x5c": [_certificate(signer)] if signer.is_private else [],
            }
        if found is None or found.key.kid != kid:
            return _problem(404, "Key not found")
        public = found.key.as_dict(private=False)
        return {
            **public,
            "alg": jose.KEY_WRAP,
            "key_ops": ["wrapKey"],
            "x5c": [_certificate(found.key, state.key_ca)],
        }

    @app.post("/v1/submissions", response_model=None)
    async def create(request: Request) -> JSONResponse:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        body = await request.json()
        error = invalid("CreateSubmission", body)
        if error:
            return _problem(400, "Bad Request", error)
        if body["destinationId"] not in state.destinations:
            return _problem(404, "Destination not found")
        sub = Submission(
            submission_id=str(uuid.uuid4()),
            case_id=body.get("caseId") or str(uuid.uuid4()),
            destination_id=body["destinationId"],
            announced=list(body["announcedAttachments"]),
            service_type=body["serviceType"],
        )
        state.submissions[sub.submission_id] = sub
        created = {
            "destinationId": sub.destination_id,
            "submissionId": sub.submission_id,
            "caseId": sub.case_id,
        }
        return JSONResponse(created, status_code=201)

    @app.put("/v1/submissions/{submission_id}/attachments/{attachment_id}")
    async def attachment(submission_id: str, attachment_id: str, request: Request) -> Response:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        # Only the statuses the API file declares for this operation.
        sub = state.submissions.get(submission_id)
        if sub is None or sub.submitted:
            return _problem(403, "Forbidden", "no open submission of yours with this id")
        if attachment_id not in sub.announced:
            return _problem(422, "Unprocessable Entity", "attachment not announced")
        if not request.headers.get("content-type", "").startswith("application/jose"):
            return _problem(415, "Unsupported Media Type")
        target = state.path(f"{submission_id}-{attachment_id}.jwe")
        dots, size = 0, 0
        with target.open("wb") as out:  # streamed to disk: 500 MB never sit in memory
            async for chunk in request.stream():
                dots, size = dots + chunk.count(b"."), size + len(chunk)
                if size > MAX_TOKEN_BYTES:
                    break
                out.write(chunk)
        if size > MAX_TOKEN_BYTES:
            target.unlink()
            return _problem(413, "Content Too Large", "attachments are limited to 500 MB")
        if dots != 4:
            target.unlink()
            return _problem(400, "Bad Request", "not a JWE in compact serialisation")
        sub.attachments[attachment_id] = target
        return Response(status_code=204)

    @app.put("/v1/submissions/{submission_id}", response_model=None)
    async def submit(submission_id: str, request: Request) -> JSONResponse:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        sub = state.submissions.get(submission_id)
        if sub is None:
            return _problem(404, "Submission not found")
        if sub.submitted:  # the API file declares no status of its own for this
            return _problem(400, "Bad Request", "submission already sent")
        body = await request.json()
        error = invalid("SubmitSubmission", body)
        if error:
            return _problem(400, "Bad Request", error)
        missing = [a for a in sub.announced if a not in sub.attachments]
        if missing:
            return _problem(422, "Unprocessable Entity", "announced attachments not uploaded")
        destination = state.destinations[sub.destination_id]
        sub.encrypted = {k: body[k] for k in ("encryptedMetadata", "encryptedData") if k in body}
        sub.submitted = True
        event(sub.case_id, sub.submission_id, "submit-submission", {})
        if destination.subscriber_key is None:
            await asyncio.to_thread(decide, sub, destination)
        elif destination.callback_url and destination.callback_secret:
            task = asyncio.create_task(
                announce(destination.callback_url, destination.callback_secret, sub)
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
        return JSONResponse(reduced(sub), status_code=202)

    async def announce(url: str, secret: str, sub: Submission) -> None:
        """The new-submissions callback, signed as FIT-Connect signs it (best effort)."""
        body = json.dumps(
            {
                "type": CALLBACKS + "new-submissions",
                "submissions": [
                    {
                        "destinationId": sub.destination_id,
                        "submissionId": sub.submission_id,
                        "caseId": sub.case_id,
                    }
                ],
            }
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "callback-timestamp": timestamp,
            "callback-authentication": callback_signature(secret, timestamp, body),
        }
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=5) as client:
                await client.post(url, content=body, headers=headers)

    def reduced(sub: Submission) -> dict[str, Any]:
        return {
            "destinationId": sub.destination_id,
            "submissionId": sub.submission_id,
            "caseId": sub.case_id,
            "attachments": sub.announced,
            "serviceType": sub.service_type,
        }

    def decide(sub: Submission, destination: Destination) -> None:
        """The destination's own check (no subscriber): decrypt, examine, accept or reject."""
        body = sub.encrypted
        hashes: dict[str, str] = {}
        try:
            sub.metadata = json.loads(jose.decrypt(body["encryptedMetadata"], destination.key))
            sealed = body.get("encryptedData")
            sub.data = jose.decrypt(sealed, destination.key) if sealed else None
            for attachment_id, token in sub.attachments.items():
                plain = sub.files[attachment_id] = token.with_suffix(".bin")
                hashes[attachment_id] = _decrypt_file(token, plain, destination.key)
        except (PermanentError, ValueError):
            sub.metadata = None
        problems = (
            examine(sub, hashes)
            if sub.metadata is not None
            else [problem("encryption-issue", "metadata")]
        )
        if problems:
            event(sub.case_id, sub.submission_id, "reject-submission", {"problems": problems})
        else:
            event(sub.case_id, sub.submission_id, "accept-submission", {"problems": []})

    @app.get("/v1/submissions", response_model=None)
    async def pickup(
        request: Request,
        destination_id: Annotated[str, Query(alias="destinationId")],
        limit: int = 100,
    ) -> Any:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        waiting = [
            {
                "destinationId": s.destination_id,
                "submissionId": s.submission_id,
                "caseId": s.case_id,
            }
            for s in state.submissions.values()
            if s.destination_id == destination_id and s.submitted and not s.picked_up
        ][:limit]
        return {
            "count": len(waiting),
            "offset": 0,
            "totalCount": len(waiting),
            "submissions": waiting,
        }

    @app.get("/v1/submissions/{submission_id}", response_model=None)
    async def get_submission(submission_id: str, request: Request) -> Any:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        sub = state.submissions.get(submission_id)
        if sub is None or not sub.submitted:
            return _problem(404, "Submission not found")
        return {**reduced(sub), **sub.encrypted}

    @app.get("/v1/submissions/{submission_id}/attachments/{attachment_id}")
    async def get_attachment(submission_id: str, attachment_id: str, request: Request) -> Response:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        sub = state.submissions.get(submission_id)
        token = sub.attachments.get(attachment_id) if sub else None
        if token is None:
            return _problem(404, "Attachment not found")
        return FileResponse(token, media_type="application/jose")

    @app.post("/v1/cases/{case_id}/events")
    async def post_event(case_id: str, request: Request) -> Response:
        """A subscriber's signed accept-submission / reject-submission."""
        if not authorised(request):
            return _problem(401, "Unauthorized")
        token = (await request.body()).decode().strip()
        subs_of_case = [s for s in state.submissions.values() if s.case_id == case_id]
        for sub in subs_of_case:
            key = state.destinations[sub.destination_id].subscriber_key
            if key is None:
                continue
            try:
                payload = jose.verify_event(token, {"keys": [key.as_dict(private=False)]})
            except PermanentError:
                continue
            if payload.get("sub") != f"submission:{sub.submission_id}":
                continue
            names = jose.event_names(payload)
            if not {"accept-submission", "reject-submission"} & set(names):
                return _problem(422, "Unprocessable Entity", "not an accept or reject event")
            if sub.picked_up:
                return _problem(409, "Conflict", "submission already accepted or rejected")
            sub.picked_up = True
            state.events.setdefault(case_id, []).append(token)
            return Response(status_code=204)
        return _problem(422, "Unprocessable Entity", "event does not verify for this case")

    @app.get("/v1/cases/{case_id}/events", response_model=None)
    async def events(case_id: str, request: Request) -> dict[str, Any] | JSONResponse:
        if not authorised(request):
            return _problem(401, "Unauthorized")
        log = state.events.get(case_id, [])
        return {"count": len(log), "offset": 0, "totalCount": len(log), "eventLog": log}

    app.add_middleware(ConformingAnswers, specs_dir=specs_dir)
    return app
