"""default rules and templates (see pdz_notifications.defaults)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 01:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pdz_notifications.defaults import RULES, TEMPLATES

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

rule = sa.table(
    "rule",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("description", sa.String()),
    sa.column("event_type", sa.String()),
    sa.column("filters", postgresql.JSONB()),
    sa.column("roles", postgresql.ARRAY(sa.String())),
    sa.column("recipient_fields", postgresql.ARRAY(sa.String())),
    sa.column("channels", postgresql.ARRAY(sa.String())),
    sa.column("template_key", sa.String()),
    sa.column("critical", sa.Boolean()),
    sa.column("digest_minutes", sa.Integer()),
    sa.column("enabled", sa.Boolean()),
    sa.column("ambito_code", sa.String()),
    sa.column("is_default", sa.Boolean()),
    sa.column("version", sa.Integer()),
    sa.column("created_by", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
template = sa.table(
    "template",
    sa.column("id", sa.Uuid()),
    sa.column("key", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("language", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("description", sa.String()),
    sa.column("is_default", sa.Boolean()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    now = sa.func.now()
    op.get_bind().execute(
        postgresql.insert(rule)
        .values([{**r, "created_at": now, "updated_at": now} for r in RULES])
        .on_conflict_do_nothing()
    )
    op.get_bind().execute(
        postgresql.insert(template)
        .values([{**t, "created_at": now, "updated_at": now} for t in TEMPLATES])
        .on_conflict_do_nothing()
    )


def downgrade() -> None:
    op.execute("DELETE FROM template WHERE is_default")
    op.execute("DELETE FROM rule WHERE is_default AND created_by = 'system'")
