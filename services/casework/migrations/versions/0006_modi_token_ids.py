"""ModI token ids (replay protection at the ASST boundary)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:30:00+00:00
"""

from collections.abc import Sequence

from pdz_shared.schema_ops import create_modi_jti_table_v1, drop_modi_jti_table_v1

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_modi_jti_table_v1()


def downgrade() -> None:
    drop_modi_jti_table_v1()
