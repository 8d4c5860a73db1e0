from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Recipient(SQLModel, table=True):
    """Someone who may be notified: synced from the identity system through the API."""

    __tablename__ = "recipient"
    __table_args__ = (Index("ix_recipient_ambiti", "ambiti", postgresql_using="gin"),)

    sub: str = Field(primary_key=True, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    roles: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    ambiti: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    language: str = Field(default="it", max_length=2)
    active: bool = True
    version: int = 1
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
