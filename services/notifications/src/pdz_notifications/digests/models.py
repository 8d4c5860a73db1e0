from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Digest(SQLModel, table=True):
    """The batch of one recipient's non-critical messages in one window: one per window."""

    __tablename__ = "digest"
    __table_args__ = (
        UniqueConstraint(
            "recipient_sub", "channel", "window_minutes", "window_start", name="uq_digest_window"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recipient_sub: str = Field(max_length=200)
    channel: str = Field(max_length=20)
    window_minutes: int
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="open", max_length=20)
    item_count: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
