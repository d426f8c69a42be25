"""a document with a status update (a notice PDF): blob reference, sealed file name, type,
size and hash on the update's row

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_status_updates") as batch:
        batch.add_column(sa.Column("document_ref", sa.String(80), nullable=True))
        batch.add_column(sa.Column("document_name_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("document_type", sa.String(64), nullable=True))
        batch.add_column(sa.Column("document_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("document_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_status_updates") as batch:
        for column in ("document_sha256", "document_size", "document_type"):
            batch.drop_column(column)
        batch.drop_column("document_name_sealed")
        batch.drop_column("document_ref")
