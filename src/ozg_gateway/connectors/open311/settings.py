"""Settings of an Open311 instance: the GeoReport endpoint, API key, jurisdiction."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.http import HttpUrl, Timeouts, TlsSettings


class Open311Settings(BaseModel):
    """Endpoint (e.g. ``https://…/georeport/v2``), API key, optional jurisdiction."""

    model_config = ConfigDict(extra="forbid")

    endpoint: HttpUrl = Field(
        description="Base URL; requests go to {endpoint}/requests.json (or .xml)."
    )
    format: Literal["json", "xml"] = Field(
        default="json", description="The answer format to ask for; some servers offer only XML."
    )
    api_key: SecretStr
    jurisdiction_id: str | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=30, write=30)
    tls: TlsSettings | None = None
