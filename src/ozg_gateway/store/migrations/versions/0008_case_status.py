"""case status from back offices: one row per update, the note sealed; the last state on
the case; each portal's status URL

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_status_updates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("update_id", sa.String(100), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_status_updates"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_status_updates_case_id_cases"
        ),
        sa.UniqueConstraint("case_id", "update_id", name="uq_case_status_updates_update"),
    )
    op.create_index("ix_case_status_updates_case_id", "case_status_updates", ["case_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("processing", sa.String(20), nullable=True))
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("status_url", sa.String(2100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("status_url")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("processing")
    op.drop_index("ix_case_status_updates_case_id", "case_status_updates")
    op.drop_table("case_status_updates")
