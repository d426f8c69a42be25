"""Settings of a webhook instance: where to POST, how to sign, limits."""

from __future__ import annotations

import base64

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ozg_gateway.http import HttpUrl, Timeouts, TlsSettings


class SigningSettings(BaseModel):
    """How to sign and send Standard Webhooks: secrets, timeouts, TLS, connections."""

    model_config = ConfigDict(extra="forbid")

    secrets: list[SecretStr] = Field(
        min_length=1,
        max_length=2,
        description="Standard Webhooks secrets (whsec_...); two during rotation, both sign.",
    )
    timeouts: Timeouts = Timeouts(connect=5, read=15, write=15)
    tls: TlsSettings | None = None
    max_connections: int = Field(default=8, ge=1, le=256)

    @field_validator("secrets")
    @classmethod
    def _valid_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        for secret in value:
            raw = secret.get_secret_value()
            try:
                key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
            except ValueError:
                key = b""
            if not raw.startswith("whsec_") or not 24 <= len(key) <= 64:
                raise ValueError("secrets must be whsec_<base64 of 24 to 64 bytes>")
        return value


class WebhookSettings(SigningSettings):
    """Where and how to POST; ``url`` may contain ``{public_base_url}``."""

    url: HttpUrl
    check_url: HttpUrl | None = Field(
        default=None, description="GET target for health checks (2xx = up); default: HEAD url."
    )
