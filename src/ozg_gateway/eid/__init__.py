"""eID: identification with the German ID card through a BSI TR-03130 eID-Server.

The connector parts: ``settings``, ``client`` (signed SOAP over mutual TLS, I/O only; the
``EidService`` protocol), ``mapping`` (useID/getResult/getServerInfo bodies, lenient parsing by
local name, policies and result codes; pure), ``wssec`` (WS-Security signatures),
``simulator``; the registration object is below (a ``service`` kind). The identification flow
sits beside them: ``service`` (start, TC Token, refresh, redeem), ``tctoken``, ``report``.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.eid.client import EidClient
from ozg_gateway.eid.settings import EidSettings

CONNECTOR = ConnectorType(
    name="eid",
    description="BSI TR-03130 eID-Server (signed SOAP over mutual TLS).",
    settings=EidSettings,
    build=lambda name, settings, env: ServiceConnector(EidClient(name, settings, env)),
    kind="service",
)
