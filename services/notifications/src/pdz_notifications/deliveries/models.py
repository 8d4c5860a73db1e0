from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy import Uuid as SaUuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, text

from pdz_shared.db import utcnow

STATUSES = ("pending", "sending", "sent", "failed", "skipped", "digested")


class Delivery(SQLModel, table=True):
    """One message of one event to one recipient on one channel: exactly once by constraint."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "channel", name="uq_delivery_once"),
        Index(
            "ix_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_delivery_status_created", "status", "created_at"),
        Index("ix_delivery_digest", "digest_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    event_id: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    ambito_code: str | None = Field(default=None, max_length=50)
    recipient: str = Field(max_length=200, description="a recipient's sub, or webhook:<id>")
    channel: str = Field(max_length=20)
    rule_id: uuid.UUID | None = None
    webhook_id: uuid.UUID | None = None
    digest_id: uuid.UUID | None = None
    critical: bool = False
    status: str = Field(default="pending", max_length=20)
    language: str = Field(default="it", max_length=2)
    address: str | None = Field(default=None, max_length=2000)
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, sa_column=Column(Text))
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    lease_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class DeliveryAttempt(SQLModel, table=True):
    """Every attempt to send a delivery, with its outcome."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    delivery_id: uuid.UUID = Field(
        sa_column=Column(
            SaUuid, ForeignKey("delivery.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    attempt: int
    status: str = Field(max_length=20)
    error: str | None = Field(default=None, max_length=2000)
    response_status: int | None = None
    duration_ms: int = 0
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
