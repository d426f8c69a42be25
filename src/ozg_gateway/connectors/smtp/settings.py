"""Settings of an SMTP instance: server, STARTTLS, login, sender."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, model_validator

from ozg_gateway.http import Timeouts, TlsSettings


class SmtpSettings(BaseModel):
    """Where mail goes out; STARTTLS is on unless the server is on loopback and says no."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: EmailStr = Field(description="From address, e.g. noreply@maintal.de.")
    sender_name: str = "Stadtverwaltung"
    tls: TlsSettings | None = Field(default=None, description="Trust anchors for STARTTLS.")
    timeouts: Timeouts = Timeouts(connect=10, read=30, write=30)

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> Self:
        # Mails name the applicant's case: never in clear text across a network.
        if not self.starttls and self.host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("starttls = false only for a server on loopback (127.0.0.1)")
        return self
