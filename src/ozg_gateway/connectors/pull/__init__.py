"""``pull`` connector: back-office systems fetch cases through the pull inbox API.

Nothing is pushed: a delivery to a pull instance stays pending until a back-office client
leases and acknowledges it (``/v1/cases/{id}/lease`` and ``/ack``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ozg_gateway.connectors.contract import ConnectorEnv, ConnectorType


class PullSettings(BaseModel):
    """Settings of a pull inbox."""

    model_config = ConfigDict(extra="forbid")

    max_lease_seconds: int = Field(default=3600, ge=30, le=86400)


class PullConnector:
    """Instance of the pull kind: nothing to push to, nothing to reach."""

    def __init__(self, name: str, settings: PullSettings) -> None:
        self.name = name
        self.settings = settings

    async def check(self, *, timeout: float) -> None:
        """Nothing to reach."""

    async def aclose(self) -> None:
        """Nothing to close."""


def _build(name: str, settings: PullSettings, env: ConnectorEnv) -> PullConnector:
    return PullConnector(name, settings)


CONNECTOR = ConnectorType(
    name="pull",
    description="Back-office systems lease and acknowledge cases through the API.",
    settings=PullSettings,
    build=_build,
    kind="pull",
)
