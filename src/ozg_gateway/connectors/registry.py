"""Connector types by name, and instances built from the configuration.

A broken instance is reported with its location and left out; the others still start.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ozg_gateway.connectors.contract import Connector, ConnectorEnv, ConnectorType
from ozg_gateway.errors import ConnectorConfigError

TYPES: dict[str, ConnectorType] = {}


def register(connector_type: ConnectorType) -> ConnectorType:
    """Register a connector type (called by each connector package)."""
    TYPES[connector_type.name] = connector_type
    return connector_type


BUILTIN_MODULES = (
    "ozg_gateway.connectors.pull",
    "ozg_gateway.connectors.webhook",
    "ozg_gateway.epayment.xbezahldienste",
    "ozg_gateway.epayment.epaybl",
    "ozg_gateway.eid.client",
    "ozg_gateway.xta",
    "ozg_gateway.connectors.open311",
    "ozg_gateway.connectors.fitconnect",
)


def _load_builtin_types() -> None:
    # Imported for their register() side effect; later connector packages add themselves here.
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


@dataclass
class Connectors:
    """Instances that started, and located errors for those that did not."""

    instances: dict[str, Connector] = field(default_factory=dict)
    types: dict[str, ConnectorType] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    # (instance, exception type) of connector bugs already logged with their traceback
    bugs_reported: set[tuple[str, str]] = field(default_factory=set)

    def pushing(self) -> list[str]:
        """Names of healthy instances the worker delivers to."""
        return [n for n in self.instances if self.types[n].pushes]

    def pulling(self) -> list[str]:
        """Names of instances whose receivers fetch cases through the pull inbox."""
        return [n for n, t in self.types.items() if not t.pushes and t.routable]

    async def aclose(self) -> None:
        """Close every instance."""
        for instance in self.instances.values():
            await instance.aclose()


def validate_config(name: str, raw: Mapping[str, Any]) -> tuple[ConnectorType, Any]:
    """Type and validated settings of one instance; raise ValueError with locations."""
    _load_builtin_types()
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
            result.instances[name] = ctype.build(name, settings, env)
        except (ValueError, ConnectorConfigError) as exc:  # e.g. a key file that is missing
            result.errors[name] = str(exc).splitlines()
    return result
