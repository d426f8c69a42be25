"""Settings of a FIT-Connect instance: Submission API, OAuth2, destinations, receiving."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.connectors.contract import (
    InboundRouting,
)
from ozg_gateway.connectors.oauth import OAuth2
from ozg_gateway.http import HttpUrl, Timeouts, TlsSettings


class FitConnectInbound(InboundRouting):
    """Receiving as the subscriber of our own destination."""

    destination_id: str
    decryption_key: Path = Field(description="JWK file: the destination's private RSA key.")
    signing_key: Path = Field(description="JWK file: our private key for signing events.")
    offers: dict[str, str] = Field(
        default_factory=dict, description="Service identifier (LeiKa URN) → offer id."
    )
    max_items: int = Field(default=50, ge=1, le=500)
    callback_secrets: list[SecretStr] = Field(
        default_factory=list,
        max_length=2,
        description="Secrets of the destination's callbacks; two while one is being rotated.",
    )


class FitConnectRouting(BaseModel):
    """Destinations found through the Routing API, by the offer's LeiKa key and our ARS."""

    model_config = ConfigDict(extra="forbid")

    routing_api_url: HttpUrl = Field(
        description="e.g. https://routing-api-testing.fit-connect.fitko.dev (without /v1)"
    )
    ars: str = Field(
        pattern=r"^(\d{2}|\d{3}|\d{5}|\d{9}|\d{12})$",
        description="Amtlicher Regionalschlüssel of the municipality, e.g. 064350019019.",
    )
    signing_keys_url: HttpUrl = Field(
        description="JWKS of FIT-Connect's signing keys that sign routes (destinationSignature)."
    )
    cache_seconds: float = Field(default=3600, ge=0, description="How long a route is reused.")


class FitConnectSettings(BaseModel):
    """Submission API, OAuth2 client of the sending system, destinations."""

    model_config = ConfigDict(extra="forbid")

    submission_api_url: HttpUrl = Field(
        description="e.g. https://submission-api-testing.fit-connect.fitko.dev"
    )
    auth: OAuth2
    destination_id: str | None = Field(default=None, description="Destination for every offer.")
    destinations: dict[str, str] = Field(
        default_factory=dict, description="Destination id per offer id (overrides the default)."
    )
    inbound: FitConnectInbound | None = None
    timeouts: Timeouts = Timeouts(connect=10, read=60, write=120)
    tls: TlsSettings | None = None
    max_connections: int = Field(default=4, ge=1, le=32)
    routing: FitConnectRouting | None = Field(
        default=None, description="Resolve destinations not configured here by LeiKa and ARS."
    )
    trust_anchors: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) destination keys' x5c chains must lead to.",
    )
    destination_cache_seconds: float = Field(
        default=300, ge=0, description="How long a destination's status and key id are reused."
    )
    key_cache_seconds: float = Field(
        default=3600, ge=0, description="How long a fetched key is reused (per key id)."
    )
