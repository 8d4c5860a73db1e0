from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Preference(SQLModel, table=True):
    """A recipient's choice for an event type ("*" = all) on a channel."""

    __tablename__ = "preference"

    recipient_sub: str = Field(primary_key=True, max_length=200)
    event_type: str = Field(primary_key=True, max_length=200)
    channel: str = Field(primary_key=True, max_length=20)
    enabled: bool
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
