"""Settings of the ePayBL REST connector: base URL, Mandant, Bewirtschafter, notification
secret, Kontierung, TLS."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ozg_gateway.http import Timeouts, TlsSettings


class EpayblSettings(BaseModel):
    """One ePayBL tenant (Mandant) and account holder (Bewirtschafter)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="May contain {public_base_url}.")
    mandant: str = Field(pattern=r"^[\w\d-]{1,36}$")
    bewirtschafter: str = Field(pattern=r"^[\w\d-]{1,36}$")
    notify_secret: SecretStr
    haushaltsstelle: str
    objektnummer: str
    zahlverfahren: tuple[str, ...] = ("KREDITKARTE", "GIROPAY", "PAYPAL")
    faellig_in_tagen: int = Field(default=14, ge=0)
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=5, read=20, write=20)
