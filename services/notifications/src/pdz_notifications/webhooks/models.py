from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Webhook(SQLModel, table=True):
    """An HTTPS endpoint that receives the CloudEvents of some types of one ambito, signed."""

    __tablename__ = "webhook"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)
    event_types: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(200)), nullable=False)
    )
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    description: str | None = Field(default=None, max_length=500)
    active: bool = True
    version: int = 1
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
