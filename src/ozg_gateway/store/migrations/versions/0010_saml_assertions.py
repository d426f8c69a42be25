"""BundID: ids of consumed SAML assertions until they expire (an assertion is used once)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_assertions",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saml_assertions"),
    )
    op.create_index("ix_saml_assertions_expires_at", "saml_assertions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_saml_assertions_expires_at", "saml_assertions")
    op.drop_table("saml_assertions")
