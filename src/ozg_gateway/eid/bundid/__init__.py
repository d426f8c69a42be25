"""BundID (Nutzerkonto Bund): identification through SAML 2.0 beside the eID-Server.

The connector parts: ``settings``, ``client`` (keys and the SAML cryptography; BundID is
reached through the browser, never server to server), ``mapping`` (AuthnRequest with the AKDB
extension, SP metadata, assertion checks and attributes by OID; pure), ``saml`` (signxml and
xmlsec), ``simulator`` (a BundID-like identity provider); the registration object is below.
The flow beside them is ``ozg_gateway.eid.bundid_flow``.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.eid.bundid.client import BundIdClient
from ozg_gateway.eid.bundid.settings import BundIdSettings

CONNECTOR = ConnectorType(
    name="bundid",
    description="BundID identity provider (SAML 2.0 Web SSO, HTTP-POST, signed and encrypted).",
    settings=BundIdSettings,
    build=lambda name, settings, env: ServiceConnector(BundIdClient(name, settings, env)),
    kind="service",
)
