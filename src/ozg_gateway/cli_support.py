"""What every command of the CLI shares: options, clear failures, settings, store, context."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from ozg_gateway.config import Settings, load_settings
from ozg_gateway.context import GatewayContext, StoreAccess, build_context, open_store
from ozg_gateway.errors import ConfigurationError
from ozg_gateway.store import migrate as migrations

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $OZG_GATEWAY_CONFIG)."),
]
HostOpt = Annotated[str, typer.Option(help="Interface to bind.")]
PortOpt = Annotated[int, typer.Option(help="TCP port.")]


def fail(message: str) -> typer.Exit:
    """Print ``message`` to stderr; raise the returned Exit (code 2)."""
    typer.echo(message, err=True)
    return typer.Exit(code=2)


def settings_from(config: Path | None) -> Settings:
    """Settings of a config file, or a clear failure."""
    try:
        return load_settings(config)
    except (ConfigurationError, ValueError) as exc:
        raise fail(f"configuration invalid: {exc}") from None


def context_from(settings: Settings) -> GatewayContext:
    """The gateway context (store, catalogue, connectors), or a clear failure."""
    try:
        return build_context(settings)
    except ConfigurationError as exc:
        raise fail(f"cannot start: {exc}") from None


def store_from(settings: Settings) -> StoreAccess:
    """Database and keyring, or a clear failure."""
    try:
        return open_store(settings)
    except ConfigurationError as exc:
        raise fail(f"cannot open the store: {exc}") from None


def migrated_store(settings: Settings) -> StoreAccess:
    """Database and keyring at the shipped migration head; a clear message otherwise."""
    store = store_from(settings)
    try:
        current = migrations.current_revision(store.db)
    except SQLAlchemyError as exc:
        raise fail(f"database unreachable: {type(exc).__name__}") from None
    if current != migrations.head_revision():
        state = "not set up" if current is None else f"at migration {current}"
        raise fail(f"the database is {state}; run `ozg-gateway migrate` first")
    return store
