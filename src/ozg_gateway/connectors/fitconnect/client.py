"""FIT-Connect Submission API v1 client (sender side), I/O only: OAuth2, destinations, keys,
submissions, attachments, events, the platform's JWKS."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.connectors.oauth import OAuth2, TokenCache
from ozg_gateway.connectors.translate import error_for_response, send, streaming
from ozg_gateway.errors import ConnectorAuthError, PermanentError
from ozg_gateway.http import Timeouts, TlsSettings, sync_client

JWKS_SECONDS = 3600.0  # the platform's signing keys change rarely
CHUNK_BYTES = 256 * 1024  # attachments stream through in pieces of this size


class SubmissionConflict(PermanentError):
    """409: the submission was already sent (a retry after a lost answer)."""


class FitConnectClient:
    """Safe to use from several threads."""

    def __init__(
        self,
        name: str,
        *,
        api_url: str,
        auth: OAuth2,
        env: ConnectorEnv,
        timeouts: Timeouts,
        tls: TlsSettings | None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.base = env.expand(api_url).rstrip("/")
        self._http = sync_client(timeouts=timeouts, tls=tls, transport=transport)
        self._tokens = TokenCache(auth, self._http, env.expand)
        self._jwks: tuple[dict[str, Any], float] | None = None
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._tokens.bearer()}", **kwargs.pop("headers", {})}
        response = send(self._http, method, f"{self.base}{path}", headers=headers, **kwargs)
        self._raise_for(response)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code == 409:
            raise SubmissionConflict("FIT-Connect answered 409 Conflict", status=409)
        error = error_for_response(response, what="FIT-Connect")
        if error is not None:
            if isinstance(error, ConnectorAuthError):
                self._tokens.forget()
            raise error

    def destination(self, destination_id: str) -> dict[str, Any]:
        """PublicDestination: status, encryptionKid, services, metadata versions."""
        data: dict[str, Any] = self._call("GET", f"/v1/destinations/{destination_id}").json()
        return data

    def key(self, destination_id: str, kid: str) -> dict[str, Any]:
        """The destination's public encryption key (JWK)."""
        data: dict[str, Any] = self._call(
            "GET", f"/v1/destinations/{destination_id}/keys/{kid}"
        ).json()
        return data

    def create_submission(self, body: dict[str, Any]) -> dict[str, Any]:
        """Announce a submission (destination, attachment ids, service)."""
        data: dict[str, Any] = self._call("POST", "/v1/submissions", json=body).json()
        return data

    def upload_attachment(
        self, submission_id: str, attachment_id: str, token: Iterable[bytes], *, length: int
    ) -> None:
        """PUT one encrypted attachment (JWE compact), streamed as it is encrypted."""
        self._call(
            "PUT",
            f"/v1/submissions/{submission_id}/attachments/{attachment_id}",
            content=token,
            headers={"Content-Type": "application/jose", "Content-Length": str(length)},
        )

    def submit(self, submission_id: str, *, metadata: str, data: str | None) -> None:
        """Send the submission with its encrypted metadata and data (None: attachments only)."""
        body = {"encryptedMetadata": metadata}
        if data is not None:
            body["encryptedData"] = data
        self._call("PUT", f"/v1/submissions/{submission_id}", json=body)

    def events(self, case_id: str) -> list[str]:
        """The case's event log (signed SETs), oldest first."""
        data = self._call("GET", f"/v1/cases/{case_id}/events").json()
        return [str(e) for e in data.get("eventLog", [])]

    # -- receiving (as a destination's subscriber) ------------------------------------------
    def pickup(self, destination_id: str, limit: int) -> list[dict[str, Any]]:
        """Submissions waiting for pickup at our destination."""
        params = {"destinationId": destination_id, "limit": limit, "offset": 0}
        data = self._call("GET", "/v1/submissions", params=params).json()
        return [dict(s) for s in data.get("submissions", [])]

    def submission(self, submission_id: str) -> dict[str, Any]:
        """One submission with its encrypted metadata and data."""
        data: dict[str, Any] = self._call("GET", f"/v1/submissions/{submission_id}").json()
        return data

    def download_attachment(
        self, submission_id: str, attachment_id: str, into: Callable[[bytes], None]
    ) -> None:
        """One encrypted attachment (JWE compact), handed to ``into`` piece by piece."""
        url = f"{self.base}/v1/submissions/{submission_id}/attachments/{attachment_id}"
        headers = {"Authorization": f"Bearer {self._tokens.bearer()}"}
        with streaming(self._http, "GET", url, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                self._raise_for(response)
            for chunk in response.iter_bytes(CHUNK_BYTES):
                into(chunk)

    def send_event(self, case_id: str, token: str) -> None:
        """Post a signed event (accept-submission / reject-submission) to the case."""
        self._call(
            "POST",
            f"/v1/cases/{case_id}/events",
            content=token.encode(),
            headers={"Content-Type": "application/jose"},
        )

    def routes(self, routing_url: str, *, leika_key: str, ars: str) -> dict[str, Any]:
        """GET {routing}/v1/routes?leikaKey=…&ars=… (public); 429 waits for RateLimit-Reset."""
        response = send(
            self._http,
            "GET",
            f"{routing_url.rstrip('/')}/v1/routes",
            params={"leikaKey": leika_key, "ars": ars},
        )
        error = error_for_response(response, what="FIT-Connect routing")
        if error is not None:
            reset = response.headers.get("ratelimit-reset")
            if response.status_code == 429 and reset and reset.isdigit():
                error.retry_after = max(error.retry_after or 0, float(reset))
            raise error
        data: dict[str, Any] = response.json()
        return data

    def signing_keys(self, url: str) -> dict[str, Any]:
        """A JWKS (FIT-Connect's keys that sign routes)."""
        response = send(self._http, "GET", url)
        error = error_for_response(response, what="FIT-Connect signing keys")
        if error is not None:
            raise error
        keys: dict[str, Any] = response.json()
        return keys

    def jwks(self) -> dict[str, Any]:
        """The platform's signing keys (cached)."""
        with self._lock:
            if self._jwks and self._jwks[1] > time.monotonic():
                return self._jwks[0]
        keys: dict[str, Any] = send(self._http, "GET", f"{self.base}/.well-known/jwks.json").json()
        with self._lock:
            self._jwks = (keys, time.monotonic() + JWKS_SECONDS)
        return keys

    def info(self) -> None:
        """GET /v1/info (health; public, as the API file declares)."""
        response = send(self._http, "GET", f"{self.base}/v1/info")
        error = error_for_response(response, what="FIT-Connect")
        if error is not None:
            raise error

    def close(self) -> None:
        """Close connections."""
        self._http.close()
