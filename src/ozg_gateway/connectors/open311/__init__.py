"""``open311`` connector: AEM reports as GeoReport v2 service requests (``POST requests``).

``settings``, ``client`` (I/O only), ``mapping`` (POST body, created id; pure), ``connector``
(the instance), ``simulator`` (a strict GeoReport v2 server for tests and the demo); the
registration object is below.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.open311.connector import _build
from ozg_gateway.connectors.open311.settings import Open311Settings

CONNECTOR = ConnectorType(
    name="open311",
    description="AEM reports as Open311 GeoReport v2 service requests (POST requests).",
    settings=Open311Settings,
    build=_build,
)
