"""Alembic operations for the tables every service carries (outbox, inbox, idempotency keys).

These are frozen, versioned shapes: a migration that called ``create_event_tables_v1`` must
create the same tables forever, so never edit a ``_v1`` function — add a ``_v2`` migration step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def _s(length: int) -> sa.String:
    return sa.String(length=length)


def create_event_tables_v1() -> None:
    """The transactional outbox and the consumers' inbox."""
    op.create_table(
        "inbox",
        sa.Column("consumer", _s(100), nullable=False),
        sa.Column("event_id", _s(200), nullable=False),
        sa.Column("event_type", _s(200), nullable=False),
        sa.Column("topic", _s(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", _s(200), nullable=False),
        sa.Column("key", _s(200), nullable=False),
        sa.Column("type", _s(200), nullable=False),
        sa.Column("source", _s(200), nullable=False),
        sa.Column("subject", _s(200), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("traceparent", _s(64), nullable=True),
        sa.Column("request_id", _s(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["key", "id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"], unique=False)


def drop_event_tables_v1() -> None:
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.drop_index(
        "ix_outbox_pending", table_name="outbox", postgresql_where=sa.text("published_at IS NULL")
    )
    op.drop_table("outbox")
    op.drop_table("inbox")


def create_idempotency_table_v1() -> None:
    """Stored answers of POST requests sent with an ``Idempotency-Key``."""
    op.create_table(
        "idempotency_key",
        sa.Column("principal", _s(200), nullable=False),
        sa.Column("key", _s(200), nullable=False),
        sa.Column("method", _s(10), nullable=False),
        sa.Column("path", _s(500), nullable=False),
        sa.Column("request_hash", _s(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_key")),
    )


def drop_idempotency_table_v1() -> None:
    op.drop_table("idempotency_key")


def create_modi_jti_table_v1() -> None:
    """ModI token ids already seen (replay protection)."""
    op.create_table(
        "modi_jti",
        sa.Column("issuer", _s(200), nullable=False),
        sa.Column("jti", _s(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_modi_jti")),
    )


def drop_modi_jti_table_v1() -> None:
    op.drop_table("modi_jti")
