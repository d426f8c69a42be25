"""connector state on deliveries, transport tracking, inbound messages and their attachments,
inbound polling lease

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("connector_state", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("tracking", sa.String(length=20), nullable=True))
        batch.create_index("ix_deliveries_tracking", ["connector", "tracking"])
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("submission_id", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_attachments_case_id", ["case_id"])
        batch.create_foreign_key("fk_attachments_case_id_cases", "cases", ["case_id"], ["id"])
    with op.batch_alter_table("connector_state") as batch:
        batch.add_column(sa.Column("receive_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("receive_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message_type", sa.String(length=200), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_inbound_messages_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("connector", "external_id", name="uq_inbound_messages_external"),
    )


def downgrade() -> None:
    op.drop_table("inbound_messages")
    with op.batch_alter_table("connector_state") as batch:
        batch.drop_column("receive_until")
        batch.drop_column("receive_owner")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("fk_attachments_case_id_cases", type_="foreignkey")
        batch.drop_index("ix_attachments_case_id")
        batch.drop_column("case_id")
        batch.alter_column("submission_id", existing_type=sa.String(length=36), nullable=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_tracking")
        batch.drop_column("tracking")
        batch.drop_column("connector_state")
