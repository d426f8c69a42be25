"""Migrations create exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ozg_gateway.context import GatewayContext
from ozg_gateway.store import migrate
from ozg_gateway.store.models import Base


def test_models_match_migrations(ctx: GatewayContext) -> None:
    assert migrate.current_revision(ctx.db) == migrate.head_revision()
    with ctx.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(ctx: GatewayContext) -> None:
    migrate.upgrade(ctx.db)
    assert migrate.current_revision(ctx.db) == migrate.head_revision()


def test_newest_migration_goes_down_and_up_again(ctx: GatewayContext) -> None:
    migrate.downgrade(ctx.db, "0004")
    migrate.upgrade(ctx.db)
    assert migrate.current_revision(ctx.db) == migrate.head_revision()
