"""FIT-Connect (Submission API v1): cases as end-to-end encrypted submissions to destinations.

``settings``, ``client`` (I/O only), ``mapping`` (announcement, event log as transport report,
checks of received submissions; pure), ``jose`` (JWE/JWS, pure), ``connector`` (sender and
subscriber flows), ``simulator`` (the Submission API with a destination that decrypts, checks
and answers); the registration object is below.
"""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorEnv, ConnectorType
from ozg_gateway.connectors.fitconnect.connector import FitConnectConnector, FitConnectProgress
from ozg_gateway.connectors.fitconnect.settings import FitConnectSettings


def _build(name: str, settings: FitConnectSettings, env: ConnectorEnv) -> FitConnectConnector:
    return FitConnectConnector(name, settings, env)


CONNECTOR = ConnectorType(
    name="fitconnect",
    description="FIT-Connect submission: metadata, data and attachments as JWE.",
    settings=FitConnectSettings,
    build=_build,
    progress=FitConnectProgress,
)
