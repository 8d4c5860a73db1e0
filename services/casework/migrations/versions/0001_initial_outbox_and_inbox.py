"""initial: outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-24 00:41:07.362441+00:00
"""

from collections.abc import Sequence

from pdz_shared.schema_ops import create_event_tables_v1, drop_event_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_event_tables_v1()


def downgrade() -> None:
    drop_event_tables_v1()
