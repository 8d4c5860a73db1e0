"""population: age_to is never null (999 = and over) and part of the key

A source with age bands (0-17, 18-64, ...) and the all-ages total (0-999) must both fit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 01:55:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE population SET age_to = 999 WHERE age_to IS NULL")
    op.alter_column("population", "age_to", existing_type=sa.Integer(), nullable=False)
    op.drop_constraint("pk_population", "population", type_="primary")
    op.create_primary_key(
        "pk_population", "population", ["territory_code", "year", "sex", "age_from", "age_to"]
    )


def downgrade() -> None:
    op.drop_constraint("pk_population", "population", type_="primary")
    op.execute(
        "DELETE FROM population p USING population q WHERE p.territory_code = q.territory_code "
        "AND p.year = q.year AND p.sex = q.sex AND p.age_from = q.age_from "
        "AND p.age_to < q.age_to"
    )
    op.create_primary_key(
        "pk_population", "population", ["territory_code", "year", "sex", "age_from"]
    )
    op.alter_column("population", "age_to", existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE population SET age_to = NULL WHERE age_to = 999")
