"""transport reports: a next check time and a count per delivery (no starvation)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("tracking_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("tracking_checks", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_deliveries_tracking_due", ["tracking", "tracking_next_at"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_tracking_due")
        batch.drop_column("tracking_checks")
        batch.drop_column("tracking_next_at")
