"""The pull instance: nothing is pushed, back offices lease and acknowledge cases (inbox/)."""

from __future__ import annotations

from ozg_gateway.connectors.contract import ConnectorEnv
from ozg_gateway.connectors.pull.settings import PullSettings


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
