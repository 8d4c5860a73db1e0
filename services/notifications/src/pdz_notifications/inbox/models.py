from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Notification(SQLModel, table=True):
    """One message in a recipient's in-app inbox (at most one per event and recipient)."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_sub", name="uq_notification_event_recipient"),
        Index("ix_notification_recipient_created", "recipient_sub", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recipient_sub: str = Field(max_length=200)
    event_id: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    ambito_code: str | None = Field(default=None, max_length=50)
    title: str = Field(max_length=500)
    body: str = Field(sa_column=Column(Text, nullable=False))
    critical: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    read_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
