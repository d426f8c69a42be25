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

from ozg_gateway.connectors.translate import send
from ozg_gateway.errors import ConnectorAuthError


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
            data = {
                "grant_type": "client_credentials",
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret.get_secret_value(),
            }
            if self.settings.scope:
                data["scope"] = self.settings.scope
            response = send(self._http, "POST", self._url, data=data)
            if response.status_code != 200:
                raise ConnectorAuthError(
                    f"token endpoint answered HTTP {response.status_code}",
                    status=response.status_code,
                )
            body = response.json()
            # Refresh a little before the provider's expiry.
            self._token = (
                str(body["access_token"]),
                time.monotonic() + max(10, int(body.get("expires_in", 300)) - 30),
            )
            return self._token[0]

    def forget(self) -> None:
        """Drop the token after a refused call."""
        with self._lock:
            self._token = None
