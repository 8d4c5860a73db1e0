"""idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:55:31.857799+00:00
"""

from collections.abc import Sequence

from pdz_shared.schema_ops import create_idempotency_table_v1, drop_idempotency_table_v1

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table_v1()


def downgrade() -> None:
    drop_idempotency_table_v1()
