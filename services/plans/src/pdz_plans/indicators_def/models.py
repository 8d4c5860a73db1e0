from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class IndicatorDefinition(SQLModel, table=True):
    """How an objective is measured: what, in which unit, from where, and its optional target."""

    __tablename__ = "indicator_definition"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=50, index=True)
    plan_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    objective_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("objective.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    position: int = Field(default=0)
    name: str = Field(max_length=1000)
    kind: str = Field(max_length=20, index=True)
    unit: str | None = Field(default=None, max_length=50)
    data_source: str | None = Field(default=None, max_length=500)
    frequency: str = Field(default="yearly", max_length=20)
    formula: str | None = Field(default=None, max_length=2000)
    target: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    notes: str | None = Field(default=None, max_length=5000)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    version: int = Field(default=1)
    created_by: str = Field(max_length=200)
    updated_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
