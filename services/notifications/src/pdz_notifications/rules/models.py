from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Rule(SQLModel, table=True):
    """Event type + filter → recipients (by role in the event's ambito), channels, template."""

    __tablename__ = "rule"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=100, unique=True)
    description: str = Field(max_length=500)
    event_type: str = Field(max_length=200, index=True)
    filters: dict[str, list[str]] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    roles: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    recipient_fields: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(100)), nullable=False)
    )
    channels: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(20)), nullable=False)
    )
    template_key: str = Field(max_length=200)
    critical: bool = False
    digest_minutes: int | None = None
    enabled: bool = True
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    is_default: bool = False
    version: int = 1
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
