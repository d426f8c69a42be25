"""Settings of a BundID service provider: the IdP, our entity and keys, the request extension."""

from __future__ import annotations

from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

AUTHN_METHODS = ("Authega", "Benutzername", "eID", "eIDAS", "Diia", "Elster", "FINK")


class BundIdSettings(BaseModel):
    """What the BundID self-service portal and our own PKI give a service provider."""

    model_config = ConfigDict(extra="forbid")

    sso_url: str = Field(
        description="IdP SSO endpoint (POST binding), e.g. "
        "https://int.id.bund.de/idp/profile/SAML2/POST/SSO; may use {public_base_url}."
    )
    idp_entity_id: str = Field(min_length=1)
    idp_certificates: list[Path] = Field(
        min_length=1, description="PEM certificates the IdP signs with (two during its rollover)."
    )
    entity_id: str = Field(
        description="Our entityID: https, no port; never changes after go-live (bPK2 hangs on it)."
    )
    signing_key: Path
    signing_certificate: Path
    next_signing_certificate: Path | None = Field(
        default=None,
        description="Key rollover: the certificate we will sign with next, published in the "
        "metadata beside the current one until BundID has it.",
    )
    encryption_key: Path
    encryption_certificate: Path
    next_encryption_key: Path | None = Field(
        default=None, description="Key rollover: the next encryption key, published beside."
    )
    next_encryption_certificate: Path | None = None
    organization_display_name: str = Field(min_length=1, max_length=200)
    online_service_id: str = Field(
        pattern=r"^BMI-[AB].+$", description="The BMI id of the service."
    )
    classic_ui_namespace: str = Field(
        default="https://www.akdb.de/request/2018/09/classic-ui/v1",
        description="Namespace of the classic-ui extension elements (from the interface "
        "description; kept configurable).",
    )
    authn_methods: dict[str, bool] = Field(
        default_factory=dict, description="Switch BundID's methods on/off (Elster, eID, ...)."
    )
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)

    @model_validator(mode="after")
    def _checked(self) -> Self:
        parts = urlsplit(self.entity_id)
        if parts.scheme != "https" or parts.port is not None:
            raise ValueError("entity_id must be an https URL without a port")
        unknown = set(self.authn_methods) - set(AUTHN_METHODS)
        if unknown:
            raise ValueError(f"unknown authn_methods: {sorted(unknown)}")
        if (self.next_encryption_key is None) != (self.next_encryption_certificate is None):
            raise ValueError("next_encryption_key and next_encryption_certificate go together")
        return self
