"""Settings of a pull inbox."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PullSettings(BaseModel):
    """Settings of a pull inbox."""

    model_config = ConfigDict(extra="forbid")

    max_lease_seconds: int = Field(default=3600, ge=30, le=86400)
