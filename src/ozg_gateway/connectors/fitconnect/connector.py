"""The FIT-Connect instance: sends submissions (sender) and picks up its destination's
(subscriber), through its client; continues where a previous attempt stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from joserfc.jwk import RSAKey
from pydantic import BaseModel, ConfigDict, Field

from ozg_gateway.connectors.contract import (
    ConnectorEnv,
    DeliveryRequest,
    DeliveryResult,
    InboundFile,
    InboundMessage,
    InboundSink,
    TrackResult,
)
from ozg_gateway.connectors.fitconnect import jose, pickup, transfer
from ozg_gateway.connectors.fitconnect.client import FitConnectClient, SubmissionConflict
from ozg_gateway.connectors.fitconnect.mapping import (
    _data_type,
    build_announcement,
    problem,
    route_destination,
    track_result,
    verify_callback,
)
from ozg_gateway.connectors.fitconnect.settings import (
    FitConnectInbound,
    FitConnectRouting,
    FitConnectSettings,
)
from ozg_gateway.connectors.fitconnect.transfer import sha512_of
from ozg_gateway.connectors.threads import BlockingCalls
from ozg_gateway.errors import ConnectorConfigError, PermanentError
from ozg_gateway.logging import get_logger
from ozg_gateway.mappings.fitconnect import build_data, build_metadata
from ozg_gateway.runtime import Clock, system_clock
from ozg_gateway.specs import FIT_CONNECT_METADATA, SpecMissing, json_validator

log = get_logger("ozg_gateway.fitconnect")


class FitConnectProgress(BaseModel):
    """What one FIT-Connect delivery remembers, so a retry continues the same submission."""

    model_config = ConfigDict(extra="forbid")

    submission_id: str | None = None
    case_id: str | None = None
    destination_id: str | None = None
    uploaded: list[str] = Field(default_factory=list)
    sha512: dict[str, str] = Field(default_factory=dict)  # of each uploaded plaintext
    submitting: bool = False  # the submit was sent; its answer may have been lost
    submitted: bool = False


class FitConnectConnector:
    """Sends cases to FIT-Connect destinations; calls run in a small thread pool."""

    def __init__(
        self,
        name: str,
        settings: FitConnectSettings,
        env: ConnectorEnv,
        *,
        clock: Clock = system_clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.specs_dir = env.specs_dir
        self._env = env
        self.client = FitConnectClient(
            name,
            api_url=settings.submission_api_url,
            auth=settings.auth,
            env=env,
            timeouts=settings.timeouts,
            tls=settings.tls,
            transport=transport,
        )
        self._calls = BlockingCalls(settings.max_connections, name=f"fit-{name}")
        self._keys = _inbound_keys(settings.inbound) if settings.inbound else None
        self._cache_lock = threading.Lock()
        self._destinations: dict[str, tuple[dict[str, Any], float]] = {}
        self._key_cache: dict[tuple[str, str], tuple[RSAKey, float]] = {}
        self._routes: dict[str, tuple[str, float]] = {}
        self._clock = clock
        self._anchors = _trust_anchors(settings.trust_anchors)

    def _destination(self, service_id: str, leika_key: str | None = None) -> str:
        """A destination configured for the offer (or for all), else the routed one."""
        destination = self.settings.destinations.get(service_id) or self.settings.destination_id
        if destination:
            return destination
        routing = self.settings.routing
        if routing is None or not leika_key:
            raise ConnectorConfigError(f"no FIT-Connect destination for offer {service_id}")
        return self._routed(routing, leika_key)

    def _routed(self, routing: FitConnectRouting, leika_key: str) -> str:
        """The destination the Routing API names for the LeiKa key and our ARS (verified)."""
        with self._cache_lock:
            now = time.monotonic()
            cached = self._routes.get(leika_key)
            if cached is not None and cached[1] > now:
                return cached[0]
            keys = self.client.signing_keys(self._env.expand(routing.signing_keys_url))
            routes = self.client.routes(
                self._env.expand(routing.routing_api_url), leika_key=leika_key, ars=routing.ars
            )
            destination = route_destination(
                routes, leika_key=leika_key, ars=routing.ars, signing_keys=keys
            )
            self._routes[leika_key] = (destination, now + routing.cache_seconds)
            return destination

    def _key(self, destination_id: str) -> RSAKey:
        """The destination's current encryption key: the destination (status, key id) and each
        key are reused for a while; a key id not seen before is fetched at once (rotation).
        One lock: concurrent deliveries wait for one fetch instead of each making their own."""
        with self._cache_lock:
            now = time.monotonic()
            cached = self._destinations.get(destination_id)
            if cached is None or cached[1] <= now:
                destination = self.client.destination(destination_id)
                cached = (destination, now + self.settings.destination_cache_seconds)
                self._destinations[destination_id] = cached
            destination = cached[0]
            if destination.get("status") != "active":
                raise PermanentError("FIT-Connect destination is not active")
            kid = str(destination["encryptionKid"])
            known = self._key_cache.get((destination_id, kid))
            if known is not None and known[1] > now:
                return known[0]
            jwk = self.client.key(destination_id, kid)
            key = jose.encryption_key(jwk, kid=kid)
            if self._anchors:
                jose.verify_chain(jwk, anchors=self._anchors, now=self._clock())
            self._key_cache[(destination_id, kid)] = (key, now + self.settings.key_cache_seconds)
            return key

    def _reply_channels(self, destination_id: str) -> set[str]:
        """The reply channels the destination lists (none listed: replies go by paper)."""
        with self._cache_lock:
            cached = self._destinations.get(destination_id)
        return set((cached[0].get("replyChannels") or {}) if cached else ())

    async def deliver(self, request: DeliveryRequest) -> DeliveryResult:
        """Announce, upload, submit — continuing where a previous attempt stopped."""
        progress = FitConnectProgress.model_validate(request.progress)
        if progress.submitted and progress.submission_id:
            return DeliveryResult(remote_reference=progress.submission_id, track=True)
        if progress.submitting and progress.submission_id and await self._arrived(progress):
            # The submit went through but its answer got lost: the event log says so (the API
            # declares no answer for sending twice, so we ask instead of trying).
            await request.remember(progress.model_copy(update={"submitted": True}))
            return DeliveryResult(remote_reference=progress.submission_id, track=True)
        leika_key = (request.document.get("service") or {}).get("leika_key")
        destination_id = await self._calls.run(self._destination, request.service_id, leika_key)
        key = await self._calls.run(self._key, destination_id)
        if progress.submission_id is None:
            created = await self._calls.run(
                self.client.create_submission,
                build_announcement(
                    request.document,
                    destination_id=destination_id,
                    attachment_ids=[a.id for a in request.attachments],
                ),
            )
            progress = FitConnectProgress(
                submission_id=created["submissionId"],
                case_id=created["caseId"],
                destination_id=destination_id,
            )
            await request.remember(progress)
        submission_id = str(progress.submission_id)
        hashes: dict[str, str] = dict(progress.sha512)
        loop = asyncio.get_running_loop()
        for attachment in request.attachments:
            if attachment.id in hashes:
                continue
            if attachment.id in progress.uploaded:  # uploaded by an attempt that kept no hash
                hashes[attachment.id] = await self._calls.run(sha512_of, attachment, loop)
                continue
            # Read, hash, encrypt and upload in one streamed pass, off the event loop.
            hashes[attachment.id] = await self._calls.run(
                transfer.upload, self.client, submission_id, attachment, key, loop
            )
            progress = progress.model_copy(
                update={
                    "uploaded": [*progress.uploaded, attachment.id],
                    "sha512": {**progress.sha512, attachment.id: hashes[attachment.id]},
                }
            )
            await request.remember(progress)
        data = build_data(request.document)
        metadata = build_metadata(
            request.document,
            data=data,
            attachment_sha512=hashes,
            offered=self._reply_channels(destination_id),
        )
        self._check_metadata(metadata)
        sealed_metadata = await self._calls.run(
            jose.encrypt, _json(metadata), key, content_type="application/json"
        )
        sealed_data = await self._calls.run(
            jose.encrypt, data, key, content_type="application/json"
        )
        await request.remember(progress.model_copy(update={"submitting": True}))
        await self._calls.run(
            self.client.submit, submission_id, metadata=sealed_metadata, data=sealed_data
        )
        await request.remember(progress.model_copy(update={"submitted": True}))
        return DeliveryResult(remote_reference=submission_id, track=True)

    def _check_metadata(self, metadata: dict[str, Any]) -> None:
        try:
            validator = json_validator(self.specs_dir, FIT_CONNECT_METADATA)
        except SpecMissing:
            return  # validated where the schema is available (tests, demo)
        errors = [e.message for e in validator.iter_errors(metadata)]
        if errors:
            raise PermanentError(f"metadata violates the FIT-Connect schema: {errors[0][:200]}")

    async def _arrived(self, progress: FitConnectProgress) -> bool:
        """Whether the case's event log has our submission's submit-submission."""
        payloads = await self._events(progress)
        mine = f"submission:{progress.submission_id}"
        return any(
            p.get("sub") == mine and "submit-submission" in jose.event_names(p) for p in payloads
        )

    async def track(self, *, reference: str, progress: Mapping[str, Any]) -> TrackResult:
        """accept-submission → green, reject-submission → red (signatures checked)."""
        payloads = await self._events(FitConnectProgress.model_validate(progress))
        mine = [p for p in payloads if p.get("sub") == f"submission:{reference}"]
        return track_result(mine)

    async def _events(self, remembered: FitConnectProgress) -> list[dict[str, Any]]:
        """The case's event log, each signature verified (platform or destination key)."""
        case_id = remembered.case_id
        if not case_id:
            raise PermanentError("no FIT-Connect case id remembered for this delivery")
        tokens = await self._calls.run(self.client.events, str(case_id))
        platform = await self._calls.run(self.client.jwks)
        platform_kids = {k.get("kid") for k in platform.get("keys", [])}
        payloads = []
        for token in tokens:
            kid = jose.event_kid(token)
            if kid in platform_kids:
                keys = platform
            else:  # signed by the destination: its signature key is among its keys
                destination = remembered.destination_id or ""
                key = await self._calls.run(self.client.key, destination, str(kid))
                if "verify" not in (key.get("key_ops") or []):
                    raise PermanentError("event signed with a key not meant for signatures")
                keys = {"keys": [key]}
            payloads.append(jose.verify_event(token, keys))
        return payloads

    # -- receiving ------------------------------------------------------------------------
    @property
    def receive_interval(self) -> float:
        """Seconds between pickups; 0 without an inbound destination."""
        return self.settings.inbound.poll_interval_seconds if self.settings.inbound else 0.0

    def inbound_offers(self) -> set[str]:
        """Every offer a received submission may become."""
        return self.settings.inbound.all_offers() if self.settings.inbound else set()

    async def receive(self, sink: InboundSink) -> int:
        """Pick up, decrypt and check each submission, commit it, then confirm with an event."""
        inbound = self.settings.inbound
        if inbound is None or self._keys is None:
            return 0
        accepted = 0
        waiting = await self._calls.run(
            self.client.pickup, inbound.destination_id, inbound.max_items
        )
        for item in waiting:
            submission_id, case_id = str(item["submissionId"]), str(item["caseId"])
            try:
                if await sink.known(submission_id):
                    # Committed before, but the confirmation got lost: confirm again.
                    await self._confirm(case_id, submission_id, "accept-submission", [])
                    continue
                accepted += await self._take(sink, inbound, submission_id, case_id)
            except PermanentError as exc:
                log.warning(
                    "FIT-Connect submission not taken", connector=self.name, error_type=exc.kind
                )
        return accepted

    async def _take(
        self, sink: InboundSink, inbound: FitConnectInbound, submission_id: str, case_id: str
    ) -> int:
        assert self._keys is not None
        decryption = self._keys[0]
        submission = await self._calls.run(self.client.submission, submission_id)
        identifier = (submission.get("serviceType") or {}).get("identifier")
        offer_id = inbound.offer_for(identifier)
        if offer_id is None:
            refused = problem("unsupported-service", "metadata", f"serviceType {identifier}")
            await self._confirm(case_id, submission_id, "reject-submission", [refused])
            await sink.reject(
                external_id=submission_id, message_type=identifier, reason=refused["title"]
            )
            return 0
        opened = await self._calls.run(
            pickup.open_submission,
            self.client,
            submission,
            decryption,
            sink.new_blob,
            self.specs_dir,
        )
        if opened.problems:
            opened.discard()
            await self._confirm(case_id, submission_id, "reject-submission", opened.problems)
            first = opened.problems[0]
            await sink.reject(
                external_id=submission_id,
                message_type=identifier,
                reason=f"{first['title']} ({first['instance']})",
            )
            return 0
        try:
            await sink.accept(
                InboundMessage(
                    external_id=submission_id,
                    offer_id=offer_id,
                    channel="fitconnect",
                    message_type=identifier,
                    sender=None,
                    files=tuple(self._files(opened, sink)),
                )
            )
        except BaseException:
            opened.discard()
            raise
        # Only after our commit: a crash before this line means a second pickup, de-duplicated.
        await self._confirm(case_id, submission_id, "accept-submission", [])
        return 1

    @staticmethod
    def _files(opened: pickup.Opened, sink: InboundSink) -> list[InboundFile]:
        """The case's files: the data (if any) first, then the attachments by their names."""
        files = []
        if opened.data is not None:
            blob = sink.new_blob()
            opened.blobs["__data__"] = blob  # discarded with the others if the commit fails
            blob.write(opened.data)
            files.append(
                InboundFile("fachdaten.json", _data_type(opened.metadata), blob, primary=True)
            )
        structure = opened.metadata.get("contentStructure") or {}
        for entry in structure.get("attachments") or []:
            attachment_id = str(entry.get("attachmentId"))
            files.append(
                InboundFile(
                    str(entry.get("filename") or attachment_id),
                    str(entry.get("mimeType") or "application/octet-stream"),
                    opened.blobs[attachment_id],
                    primary=False,
                )
            )
        return files

    async def _confirm(
        self, case_id: str, submission_id: str, name: str, problems: list[dict[str, str]]
    ) -> None:
        assert self._keys is not None
        payload = jose.event_payload(
            name,
            submission_id=submission_id,
            case_id=case_id,
            issuer=f"urn:ozg-gateway:{self.name}",
            now=int(time.time()),
            jti=str(uuid.uuid4()),
            body={"problems": problems},
        )
        token = jose.sign_event(payload, self._keys[1])
        # 409: confirmed already (by us, before a crash, or by another instance).
        with contextlib.suppress(SubmissionConflict):
            await self._calls.run(self.client.send_event, case_id, token)

    def callback(self, *, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """A callback of our destination, verified with the configured secrets."""
        inbound = self.settings.inbound
        secrets = [s.get_secret_value() for s in inbound.callback_secrets] if inbound else []
        if not secrets:
            return None
        return verify_callback(
            secrets=secrets,
            timestamp=headers.get("callback-timestamp"),
            signature=headers.get("callback-authentication"),
            body=body,
            now=now,
        )

    async def check(self, *, timeout: float) -> None:
        """GET /v1/info (public), then one configured destination with a token, so refused
        credentials show as an authentication problem."""

        def probe() -> None:
            self.client.info()
            destinations = [
                *self.settings.destinations.values(),
                self.settings.destination_id,
                self.settings.inbound.destination_id if self.settings.inbound else None,
            ]
            first = next((d for d in destinations if d), None)
            if first is not None:
                self.client.destination(first)

        await asyncio.wait_for(self._calls.run(probe), timeout)

    async def aclose(self) -> None:
        """Close connections and threads."""
        self._calls.close()
        self.client.close()


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _inbound_keys(inbound: FitConnectInbound) -> tuple[RSAKey, RSAKey]:
    """The destination's decryption key and our signing key, from their JWK files."""
    keys = []
    for path in (inbound.decryption_key, inbound.signing_key):
        try:
            keys.append(RSAKey.import_key(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise ConnectorConfigError(f"{path}: not a readable RSA JWK") from exc
    return keys[0], keys[1]


def _trust_anchors(path: Path | None) -> list[x509.Certificate]:
    """The CA certificates of a PEM file (none configured: chains are not checked)."""
    if path is None:
        return []
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConnectorConfigError(f"{path}: not a readable PEM certificate file") from exc
