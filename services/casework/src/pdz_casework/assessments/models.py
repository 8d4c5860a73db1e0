from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Triage(SQLModel, table=True):
    """The Scheda Unica di Triage of a case: its answers and the computed outcome."""

    __tablename__ = "triage"

    case_id: uuid.UUID = Field(foreign_key="pua_case.id", primary_key=True)
    answers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    health_score: int
    social_score: int
    total_score: int
    outcome: str = Field(max_length=10)
    notes: str | None = Field(default=None, max_length=2000)
    by_sub: str = Field(max_length=200)
    triaged_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Evaluation(SQLModel, table=True):
    """A valutazione (preliminary or multidimensional) by the EVM/UVM team."""

    __tablename__ = "evaluation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    kind: str = Field(max_length=20)
    status: str = Field(max_length=20, default="scheduled")
    scheduled_for: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    place: str | None = Field(default=None, max_length=200)
    evaluated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    team: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    instruments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    dimensions: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    outcome: str | None = Field(default=None, max_length=200)
    non_self_sufficiency_level: str | None = Field(default=None, max_length=50)
    scheduled_by: str = Field(max_length=200)
    completed_by: str | None = Field(default=None, max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
