from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class ChangeRecord(SQLModel, table=True):
    """Who changed what, when: one row per change of a plan, objective, indicator, ..."""

    __tablename__ = "change_record"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=50, index=True)
    entity_id: str = Field(max_length=100, index=True)
    plan_id: uuid.UUID | None = Field(default=None, index=True)
    version: int
    action: str = Field(max_length=30)
    actor: str = Field(max_length=200)
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
