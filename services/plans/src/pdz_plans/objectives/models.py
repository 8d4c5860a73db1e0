from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Objective(SQLModel, table=True):
    """A scheda obiettivo of a plan, with its actions, answers and classifications."""

    __tablename__ = "objective"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    ambito_code: str = Field(max_length=50, index=True)
    code: str = Field(max_length=50)
    position: int = Field(default=0)
    title: str = Field(max_length=500)
    section: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    rationale: str | None = Field(default=None, max_length=20000)
    scope: str = Field(default="ambito", max_length=30)
    shared_with_ambiti: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    target_population: str | None = Field(default=None, max_length=5000)
    responsible_body: str | None = Field(default=None, max_length=500)
    partners: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    start_date: date | None = None
    end_date: date | None = None
    status: str = Field(default="planned", max_length=20)
    classifications: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    actions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
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


class BudgetLine(SQLModel, table=True):
    """Resources of a plan (or of one of its objectives) for one fund and one year."""

    __tablename__ = "budget_line"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    objective_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("objective.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    position: int = Field(default=0)
    fund: str = Field(max_length=100)
    year: int | None = None
    planned: Decimal | None = Field(default=None, sa_column=Column(Numeric(16, 2)))
    committed: Decimal | None = Field(default=None, sa_column=Column(Numeric(16, 2)))
    spent: Decimal | None = Field(default=None, sa_column=Column(Numeric(16, 2)))
    note: str | None = Field(default=None, max_length=2000)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
