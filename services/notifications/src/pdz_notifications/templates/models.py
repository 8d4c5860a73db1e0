from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Template(SQLModel, table=True):
    """A Jinja2 message per (key, channel, language); the key is usually the event type."""

    __tablename__ = "template"
    __table_args__ = (
        UniqueConstraint("key", "channel", "language", name="uq_template_key_channel_language"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(max_length=200)
    channel: str = Field(max_length=20)
    language: str = Field(max_length=2)
    subject: str = Field(max_length=500)
    body: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, max_length=500)
    is_default: bool = False
    version: int = 1
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
