"""OAuth2 client credentials for connectors (pmPayment, FIT-Connect): settings and a token cache.

The token is fetched on first use, reused until shortly before the provider's expiry, and
dropped when a call is refused (401/403), so the next call fetches a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from ozg_gateway.connectors.translate import error_for_response, send
from ozg_gateway.errors import ConnectorAuthError, TransientError


class OAuth2(BaseModel):
    """OAuth2 client credentials; ``token_url`` may contain ``{public_base_url}``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["oauth2"] = "oauth2"
    token_url: str
    client_id: str
    client_secret: SecretStr
    scope: str | None = None


class TokenCache:
    """One cached access token per client; safe to use from several threads."""

    def __init__(
        self, settings: OAuth2, http: httpx.Client, expand: Callable[[str], str] = str
    ) -> None:
        self.settings = settings
        self._http = http
        self._url = expand(settings.token_url)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def bearer(self) -> str:
        """A valid access token (fetched when missing or about to expire)."""
        with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            response = self._fetch()
            try:
                body = response.json()
                token, lifetime = str(body["access_token"]), int(body.get("expires_in", 300))
            except (ValueError, KeyError, TypeError, AttributeError):
                # The provider's answer is broken, not our code: try again later.
                raise TransientError("token endpoint answered without an access token") from None
            # Refresh a little before the provider's expiry.
            self._token = (token, time.monotonic() + max(10, lifetime - 30))
            return self._token[0]

    @retry(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.2, max=1),
        reraise=True,
    )
    def _fetch(self) -> httpx.Response:
        """POST the client credentials; a brief outage of the token endpoint is retried here
        (three tries, under two seconds), everything else goes to the caller."""
        data = {
            "grant_type": "client_credentials",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.get_secret_value(),
        }
        if self.settings.scope:
            data["scope"] = self.settings.scope
        response = send(self._http, "POST", self._url, data=data)
        if response.status_code != 200:
            # 400/401/403: our credentials; 5xx, 429: the endpoint is down, not our key.
            error = error_for_response(response, what="token endpoint")
            if error is None or error.kind in ("permanent", "config"):
                error = ConnectorAuthError(
                    f"token endpoint answered HTTP {response.status_code}",
                    status=response.status_code,
                )
            raise error
        return response

    def forget(self) -> None:
        """Drop the token after a refused call."""
        with self._lock:
            self._token = None
