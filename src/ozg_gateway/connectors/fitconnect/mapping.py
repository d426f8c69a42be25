"""Pure parts of FIT-Connect: the announcement, the event log as a transport report, checks
of a received submission."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ozg_gateway.connectors.contract import (
    TrackResult,
)
from ozg_gateway.connectors.fitconnect import jose
from ozg_gateway.errors import PermanentError
from ozg_gateway.mappings.fitconnect import service_identifier


def build_announcement(
    document: Mapping[str, Any], *, destination_id: str, attachment_ids: list[str]
) -> dict[str, Any]:
    """Body of ``POST /v1/submissions`` (pure)."""
    service = document["service"]
    return {
        "destinationId": destination_id,
        "announcedAttachments": attachment_ids,
        "serviceType": {"name": service["title"], "identifier": service_identifier(service)},
    }


def track_result(payloads: list[dict[str, Any]]) -> TrackResult:
    """Green on accept-submission, red on reject-submission, else still open (pure)."""
    for payload in reversed(payloads):
        names = jose.event_names(payload)
        if "accept-submission" in names:
            return TrackResult("green")
        if "reject-submission" in names:
            event = (payload.get("events") or {}).get(jose.EVENTS + "reject-submission") or {}
            problems = event.get("problems") or []
            reasons = "; ".join(
                f"{p.get('title') or problem_kind(p)} ({p.get('instance') or '-'})"
                for p in problems
            )
            return TrackResult("red", reasons or "rejected by the destination")
    return TrackResult("open")


PROBLEMS = "https://schema.fitko.de/fit-connect/events/problems/"
# What a receiver tells the sender in reject-submission: the kind of problem, a German title
# for the people who read the event log, and where (metadata, data, attachment:<id>).
PROBLEM_TITLES = {
    "encryption-issue": "Entschlüsselung fehlgeschlagen",
    "syntax-violation": "Inhalt ist kein gültiges JSON",
    "schema-violation": "Metadaten verletzen das Metadatenschema",
    "unsupported-service": "Leistung wird von diesem Zustellpunkt nicht angeboten",
    "missing-data": "Angekündigte Fachdaten fehlen",
    "missing-schema": "Fachdaten ohne Beschreibung in contentStructure",
    "hash-mismatch": "Hashwert stimmt nicht überein",
    "missing-attachments": "Angekündigte Anlagen fehlen",
    "attachments-mismatch": "Anlagen weichen von der Ankündigung ab",
}


def problem(kind: str, instance: str, detail: str | None = None) -> dict[str, str]:
    """One problem of a reject-submission event (pure)."""
    entry = {"type": PROBLEMS + kind, "title": PROBLEM_TITLES[kind], "instance": instance}
    if detail:
        entry["detail"] = detail[:300]
    return entry


def problem_kind(entry: Mapping[str, Any]) -> str:
    """The short kind of a problem (``hash-mismatch``), whichever way its type is written."""
    return str(entry.get("type") or "").removeprefix(PROBLEMS)


def check_received(
    metadata: dict[str, Any], data: bytes | None, attachment_sha512: Mapping[str, str]
) -> list[dict[str, str]]:
    """What is wrong with a received submission: hashes and attachment list (pure).

    ``data`` None: the submission has no ``encryptedData``. That is valid (metadata 1.0.0 makes
    ``contentStructure.data`` optional) as long as the metadata announces no data either.
    ``attachment_sha512``: the hex SHA-512 of each received attachment's plaintext (computed
    while it streamed in).
    """
    problems = []
    structure = metadata.get("contentStructure") or {}
    announced = structure.get("data")
    if data is None:
        if announced:
            problems.append(problem("missing-data", "data"))
    elif not announced:
        problems.append(problem("missing-schema", "data"))
    elif hashlib.sha512(data).hexdigest() != (announced.get("hash") or {}).get("content"):
        problems.append(problem("hash-mismatch", "data"))
    listed = {str(a.get("attachmentId")): a for a in structure.get("attachments") or []}
    missing = sorted(set(listed) - set(attachment_sha512))
    if missing:
        problems.append(problem("missing-attachments", "metadata", ", ".join(missing)))
    if set(attachment_sha512) - set(listed):
        problems.append(problem("attachments-mismatch", "metadata"))
    for attachment_id, digest in attachment_sha512.items():
        expected = ((listed.get(attachment_id) or {}).get("hash") or {}).get("content")
        if attachment_id in listed and digest != expected:
            problems.append(problem("hash-mismatch", f"attachment:{attachment_id}"))
    return problems


def _data_type(metadata: dict[str, Any]) -> str:
    schema = ((metadata.get("contentStructure") or {}).get("data") or {}).get("submissionSchema")
    return str((schema or {}).get("mimeType") or "application/json")


CALLBACKS = "https://schema.fitko.de/fit-connect/submission-api/callbacks/"
CALLBACK_MAX_AGE_SECONDS = 300


def callback_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA512 over ``"{timestamp}.{body}"`` (what ``callback-authentication`` holds)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha512).hexdigest()


def verify_callback(
    *, secrets: list[str], timestamp: str | None, signature: str | None, body: bytes, now: float
) -> str | None:
    """The callback's short type (``new-submissions``, ``new-events``) if it is authentic and
    fresh, else None: the HMAC of one of ``secrets`` (compared in constant time) and a
    timestamp not older than five minutes (nor from the future beyond that)."""
    if not timestamp or not signature or not timestamp.isdigit():
        return None
    if abs(now - int(timestamp)) > CALLBACK_MAX_AGE_SECONDS:
        return None
    given = signature.strip().lower()
    if not any(
        hmac.compare_digest(given, callback_signature(secret, timestamp, body))
        for secret in secrets
    ):
        return None
    try:
        kind = json.loads(body).get("type", "")
    except (ValueError, AttributeError):
        return None
    return str(kind).removeprefix(CALLBACKS) or None


LEIKA_URN = "urn:de:fim:leika:leistung:"
ARS_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"


def route_destination(
    routes: dict[str, Any], *, leika_key: str, ars: str, signing_keys: dict[str, Any]
) -> str:
    """The destination of the first route whose ``destinationSignature`` verifies (PS512, with
    FIT-Connect's signing keys) and names this destination, LeiKa key and ARS in one service;
    PermanentError when there is none (a forged or foreign route is never used)."""
    for route in routes.get("routes") or []:
        destination_id = str(route.get("destinationId") or "")
        try:
            claims = jose.verify_signature(
                str(route.get("destinationSignature") or ""), signing_keys
            )
        except PermanentError:
            continue
        if claims.get("destinationId") != destination_id:
            continue
        for service in claims.get("services") or []:
            if LEIKA_URN + leika_key in (service.get("leistungIDs") or []) and ARS_URN + ars in (
                service.get("gebietIDs") or []
            ):
                return destination_id
    raise PermanentError(f"no route with a valid signature for LeiKa {leika_key} and ARS {ars}")
