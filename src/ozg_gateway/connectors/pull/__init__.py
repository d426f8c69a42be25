"""``pull`` connector: back-office systems fetch cases through the pull inbox API.

Nothing is pushed: a delivery to a pull instance stays pending until a back-office client
leases and acknowledges it (``/v1/cases/{id}/lease`` and ``/ack``). ``settings`` and
``connector``; no client, mapping or simulator (the API is the protocol).
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorType
from ozg_gateway.connectors.pull.connector import _build
from ozg_gateway.connectors.pull.settings import PullSettings

CONNECTOR = ConnectorType(
    name="pull",
    description="Back-office systems lease and acknowledge cases through the API.",
    settings=PullSettings,
    build=_build,
    kind="pull",
)
