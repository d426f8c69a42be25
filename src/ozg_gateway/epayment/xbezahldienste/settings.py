"""Settings of an XBezahldienste provider: where, who we are (originator, endpoint), how we
authenticate."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.connectors.oauth import OAuth2
from ozg_gateway.http import Timeouts, TlsSettings

_ID = r"^[\w\d-]{1,36}$"


class BasicAuth(BaseModel):
    """HTTP Basic (ekom21 epay21)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["basic"] = "basic"
    username: str
    password: SecretStr


class NoAuth(BaseModel):
    """Mutual TLS only (ePayBL facade: client certificate in ``tls``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["none"] = "none"


class XBezahldiensteSettings(BaseModel):
    """One provider: where, who we are (originator, endpoint), how we authenticate."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="May contain {public_base_url}.")
    originator_id: str = Field(pattern=_ID)
    endpoint_id: str = Field(pattern=_ID)
    path_order: Literal["originator-endpoint", "endpoint-originator"] = "originator-endpoint"
    auth: Annotated[BasicAuth | OAuth2 | NoAuth, Field(discriminator="type")] = NoAuth()
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=20, write=20)
    booking_data: dict[str, str] = Field(default_factory=dict, description="e.g. Haushaltsstelle")
    purpose_prefix: str = Field(default="", max_length=10)
