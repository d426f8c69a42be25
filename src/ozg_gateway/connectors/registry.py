"""Connector types by name, and instances built from the configuration.

Types come from the entry-point group ``ozg_gateway.connectors`` (this package's own and any
other installed package's); the registry names no module. A broken instance is reported
with its location and left out; the others still start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from ozg_gateway.connectors.contract import (
    Connector,
    ConnectorEnv,
    ConnectorType,
    RouteConnector,
)
from ozg_gateway.connectors.service import ServiceConnector
from ozg_gateway.errors import ConnectorConfigError

ENTRY_POINT_GROUP = "ozg_gateway.connectors"
TYPES: dict[str, ConnectorType] = {}


def register(connector_type: ConnectorType) -> ConnectorType:
    """Register a connector type by hand (tests; packages publish entry points instead)."""
    TYPES[connector_type.name] = connector_type
    return connector_type


def _load_types() -> None:
    """Every ConnectorType published under the entry-point group, this package's and others'."""
    if TYPES.keys() >= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}:
        return
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in TYPES:
            continue
        loaded = entry.load()
        if not isinstance(loaded, ConnectorType) or loaded.name != entry.name:
            raise ConnectorConfigError(
                f"entry point {entry.name} = {entry.value} is not the ConnectorType {entry.name!r}"
            )
        TYPES[entry.name] = loaded


@dataclass
class Connectors:
    """Instances that started, and located errors for those that did not."""

    instances: dict[str, Connector] = field(default_factory=dict)
    types: dict[str, ConnectorType] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    settings: dict[str, BaseModel] = field(default_factory=dict)  # validated, per instance
    # (instance, exception type) of connector bugs already logged with their traceback
    bugs_reported: set[tuple[str, str]] = field(default_factory=set)

    def pushing(self) -> list[str]:
        """Names of healthy instances the worker delivers to (kind ``route``)."""
        return [n for n in self.instances if self.types[n].kind == "route"]

    def pulling(self) -> list[str]:
        """Names of instances whose receivers fetch cases through the pull inbox."""
        return [n for n, t in self.types.items() if t.kind == "pull"]

    def route(self, name: str) -> RouteConnector:
        """The route instance ``name`` (KeyError if there is none)."""
        instance = self.instances[name]
        if not isinstance(instance, RouteConnector) or self.types[name].kind != "route":
            raise KeyError(name)
        return instance

    def service(self, name: str | None) -> object | None:
        """The client of service instance ``name`` (check it against the domain's protocol)."""
        instance = self.instances.get(name or "")
        return instance.client if isinstance(instance, ServiceConnector) else None

    async def aclose(self) -> None:
        """Close every instance."""
        for instance in self.instances.values():
            await instance.aclose()


def validate_config(name: str, raw: Mapping[str, Any]) -> tuple[ConnectorType, Any]:
    """Type and validated settings of one instance; raise ValueError with locations."""
    _load_types()
    type_name = raw.get("type")
    if type_name not in TYPES:
        known = ", ".join(sorted(TYPES))
        raise ValueError(f"connectors.{name}.type: unknown type {type_name!r} (known: {known})")
    ctype = TYPES[type_name]
    try:
        settings = ctype.settings.model_validate({k: v for k, v in raw.items() if k != "type"})
    except ValidationError as exc:
        problems = [
            f"connectors.{name}.{'.'.join(str(p) for p in e['loc']) or '(settings)'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        raise ValueError("\n".join(problems)) from None
    return ctype, settings


def build_connectors(configs: Mapping[str, Mapping[str, Any]], env: ConnectorEnv) -> Connectors:
    """Build every configured instance; collect errors instead of failing all."""
    result = Connectors()
    for name, raw in configs.items():
        try:
            ctype, settings = validate_config(name, raw)
            result.types[name] = ctype
            result.settings[name] = settings
            result.instances[name] = ctype.build(name, settings, env)
        except (ValueError, ConnectorConfigError) as exc:  # e.g. a key file that is missing
            result.errors[name] = str(exc).splitlines()
    return result
