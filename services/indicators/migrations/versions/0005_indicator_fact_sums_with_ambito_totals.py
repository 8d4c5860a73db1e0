"""indicator fact sums: a row per ambito's total too (comune_code '*')

The kept sums are derived data: those kept without the totals are dropped, and each
indicator's are built again by its next full recompute or, failing that, by its first event
(without a state an indicator's sums are not used).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 00:40:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM indicator_fact_sum_state")
    op.execute("DELETE FROM indicator_fact_sum")


def downgrade() -> None:
    # The rows of the totals would be counted twice by the code before: built again too.
    op.execute("DELETE FROM indicator_fact_sum_state")
    op.execute("DELETE FROM indicator_fact_sum")
