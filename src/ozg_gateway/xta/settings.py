"""Settings of an XTA instance: the three ports, identity, TLS, routes and mailboxes read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ozg_gateway.connectors.contract import (
    InboundRouting,
)
from ozg_gateway.http import HttpUrl, Timeouts, TlsSettings
from ozg_gateway.mappings import xfall
from ozg_gateway.xta.messages import (
    PartyId,
)


class XtaSettings(BaseModel):
    """The three port URLs, our identity, transport options."""

    model_config = ConfigDict(extra="forbid")

    management_url: HttpUrl
    send_url: HttpUrl
    msgbox_url: HttpUrl
    author: str = Field(description="Our identifier, prefix:id (e.g. gad:010200100000).")
    author_type: str = "xoev"
    author_category: str | None = None
    mtom: bool = Field(default=True, description="Streamed MTOM; false sends inline base64.")
    tls: TlsSettings | None = None
    timeouts: Timeouts = Timeouts(connect=10, read=120, write=300)

    @model_validator(mode="after")
    def _author(self) -> XtaSettings:
        PartyId(self.author, self.author_type, self.author_category)  # prefix:id or ValueError
        return self


class XtaRoute(BaseModel):
    """Where and as what a case goes: reader, service, business scenario, message type."""

    model_config = ConfigDict(extra="forbid")

    reader: str = Field(description="Reader identifier, prefix:id (e.g. gad:010200200000).")
    reader_type: str = "xoev"
    reader_category: str | None = None
    service: str = Field(description="Service URI the reader offers.")
    business_scenario: str = "XFALL_DATA"
    business_scenario_list_uri: str = "urn:de:xta:codeliste:business.scenario"
    business_scenario_list_version: str = "3.6"
    message_type: str = "MainApplication"
    message_type_list_uri: str = "urn:de:payloadSchema:elementName"
    message_type_list_version: str = "1.0"
    payload_schema: str = xfall.NS

    @model_validator(mode="after")
    def _party(self) -> XtaRoute:
        PartyId(self.reader, self.reader_type, self.reader_category)  # raises on a bad id
        return self

    def party(self) -> PartyId:
        """The reader as a party identifier."""
        return PartyId(self.reader, self.reader_type, self.reader_category)


class XtaInbound(InboundRouting):
    """Mailboxes to read, which message types become cases of which offer, and the rest."""

    readers: list[str] = Field(min_length=1, description="Our reader identifiers (mailboxes).")
    offers: dict[str, str] = Field(
        default_factory=dict, description="Message type code → offer id of the new case."
    )
    unsupported: Literal["leave", "reject"] = Field(
        default="leave",
        description="Message types without an offer: leave them in the mailbox, or close and "
        "record them as rejected.",
    )
    status_message_types: list[str] = Field(
        default_factory=list,
        description="Message types that are a back office's status answer about a case it was "
        "sent (urn:ozg-gateway:statusmeldung:1), not a new case.",
    )
    max_items: int = Field(default=50, ge=1, le=1000)


class XtaConnectorSettings(XtaSettings):
    """XTA server ports and identity, outbound routes, inbound mailboxes."""

    route: XtaRoute | None = Field(default=None, description="Route for every offer.")
    routes: dict[str, XtaRoute] = Field(
        default_factory=dict, description="Routes per offer id (override ``route``)."
    )
    inbound: XtaInbound | None = None
    max_connections: int = Field(default=4, ge=1, le=64)
