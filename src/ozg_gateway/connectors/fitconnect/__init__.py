"""FIT-Connect (Submission API v1): cases as end-to-end encrypted submissions to destinations.

``jose`` (JWE/JWS, pure), ``client`` (I/O), ``connector`` (the sending flow and its settings),
``simulator`` (the Submission API with a destination that decrypts, checks and answers).
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorEnv, ConnectorType
from ozg_gateway.connectors.fitconnect.connector import (
    FitConnectConnector,
    FitConnectProgress,
    FitConnectSettings,
)


def _build(name: str, settings: FitConnectSettings, env: ConnectorEnv) -> FitConnectConnector:
    return FitConnectConnector(name, settings, env)


CONNECTOR = ConnectorType(
    name="fitconnect",
    description="FIT-Connect submission: metadata, data and attachments as JWE.",
    settings=FitConnectSettings,
    build=_build,
    progress=FitConnectProgress,
)
