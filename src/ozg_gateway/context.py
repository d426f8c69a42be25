"""Everything a request, a CLI command or a worker needs, built once from the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ozg_gateway.catalog import Catalog, load_catalog
from ozg_gateway.config import Settings
from ozg_gateway.connectors.contract import ConnectorEnv, Receiving
from ozg_gateway.connectors.registry import Connectors, build_connectors
from ozg_gateway.errors import ConfigurationError
from ozg_gateway.mappings import formats
from ozg_gateway.runtime import Clock, IdFactory, system_clock, uuid_ids
from ozg_gateway.store.blobs import BlobStore, FilesystemBlobStore
from ozg_gateway.store.crypto import Keyring
from ozg_gateway.store.db import Database


@dataclass
class GatewayContext:
    """Settings plus the long-lived objects built from them."""

    settings: Settings
    db: Database
    keyring: Keyring
    blobs: BlobStore
    catalog: Catalog
    connectors: Connectors = field(default_factory=Connectors)
    clock: Clock = system_clock
    ids: IdFactory = uuid_ids
    extras: dict[str, object] = field(default_factory=dict)

    def today(self) -> date:
        """Today's date by the injected clock (UTC)."""
        return self.clock().date()

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()

    def connector_env(self) -> ConnectorEnv:
        """What connector factories get besides their settings."""
        return ConnectorEnv(
            public_base_url=self.settings.public_base_url,
            data_dir=self.settings.data_dir,
            specs_dir=self.settings.specs_dir,
            render=self._render,
        )

    def _render(self, document: Mapping[str, Any], name: str) -> bytes:
        def no_hashes(_attachment_id: str) -> str:
            raise formats.NotApplicable("attachment hashes are not available here")

        body, _media_type = formats.render(
            document,
            name,
            catalog=self.catalog,
            now=self.clock(),
            new_id=self.ids,
            attachment_sha512=no_hashes,
        )
        return body


def build_keyring(settings: Settings) -> Keyring:
    """Keyring from the configured keys."""
    if not settings.encryption_keys or settings.active_key_id is None:
        raise ConfigurationError(
            "encryption_keys and active_key_id are required (`ozg-gateway keys generate`)"
        )
    return Keyring.from_base64(
        {k: v.get_secret_value() for k, v in settings.encryption_keys.items()},
        settings.active_key_id,
    )


@dataclass
class StoreAccess:
    """Only the stored data: database, keyring and blobs (migrations, clients, key rotation)."""

    db: Database
    keyring: Keyring
    blobs: BlobStore

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


def open_store(settings: Settings) -> StoreAccess:
    """Open the database, keyring and blob store named by ``settings``; nothing else."""
    keyring = build_keyring(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return StoreAccess(
        db=Database(settings.effective_database_url),
        keyring=keyring,
        blobs=FilesystemBlobStore(settings.data_dir / "blobs", keyring),
    )


def build_context(
    settings: Settings, *, clock: Clock = system_clock, ids: IdFactory = uuid_ids
) -> GatewayContext:
    """Open the store and the catalogue named by ``settings`` and build the connectors."""
    if settings.catalog_file is None:
        raise ConfigurationError("catalog_file is not set")
    catalog = load_catalog(settings.catalog_file, connectors=settings.connectors.keys())
    store = open_store(settings)
    ctx = GatewayContext(
        settings=settings,
        db=store.db,
        keyring=store.keyring,
        blobs=store.blobs,
        catalog=catalog,
        clock=clock,
        ids=ids,
    )
    # A broken connector is reported (and shown as down) but does not stop the others.
    ctx.connectors = build_connectors(settings.connectors, ctx.connector_env())
    misrouted = [
        f"{offer.id} > routes: {route!r} is a {ctype.name} connector, not a delivery route"
        for offer in catalog.offers
        for route in offer.routes
        if (ctype := ctx.connectors.types.get(route)) is not None and ctype.kind == "service"
    ]
    misrouted += [
        f"connectors.{name}.inbound: offer {offer!r} is not in the catalogue"
        for name, connector in ctx.connectors.instances.items()
        if isinstance(connector, Receiving)
        for offer in connector.inbound_offers()
        if catalog.get(offer) is None
    ]
    if misrouted:
        ctx.close()
        raise ConfigurationError("; ".join(misrouted))
    return ctx
