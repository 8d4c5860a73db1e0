"""Discharges: the receipt waiting for the processor (intake and case opening decoupled)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "discharge", sa.Column("pending", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_index(
        "ix_discharge_pending",
        "discharge",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("pending IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_discharge_pending",
        table_name="discharge",
        postgresql_where=sa.text("pending IS NOT NULL"),
    )
    op.drop_column("discharge", "pending")
