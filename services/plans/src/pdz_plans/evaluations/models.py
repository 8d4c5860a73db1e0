from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class EvaluationItem(SQLModel, table=True):
    """The esito of one objective of the previous cycle, as the plan reports it."""

    __tablename__ = "evaluation_item"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int = Field(default=0)
    cycle: str | None = Field(default=None, max_length=50)
    code: str | None = Field(default=None, max_length=50)
    title: str = Field(max_length=1000)
    area: str | None = Field(default=None, max_length=300)
    dimension: str | None = Field(default=None, max_length=100)
    achievement_pct: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 2)))
    achievement_text: str | None = Field(default=None, max_length=500)
    spending_pct: Decimal | None = Field(default=None, sa_column=Column(Numeric(7, 2)))
    spending_text: str | None = Field(default=None, max_length=500)
    user_evaluation: str | None = Field(default=None, max_length=1000)
    resources_adequacy: str | None = Field(default=None, max_length=1000)
    critical_issues: str | None = Field(default=None, max_length=5000)
    need_met: str | None = Field(default=None, max_length=500)
    continuity_previous: str | None = Field(default=None, max_length=500)
    reproposed: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=5000)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
