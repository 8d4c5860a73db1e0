from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Numeric, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


class Plan(SQLModel, table=True):
    """Projection of the plans service's Piani di Zona (pdz.plans.plan.v1)."""

    __tablename__ = "plan"

    plan_id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=50)
    title: str = Field(max_length=300)
    ambito_code: str = Field(max_length=50, index=True)
    cycle_start_year: int
    cycle_end_year: int
    status: str = Field(max_length=20)
    comune_codes: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    version: int


class Objective(SQLModel, table=True):
    """Projection of the plans' schede obiettivo (pdz.plans.objective.v1)."""

    __tablename__ = "objective"

    objective_id: uuid.UUID = Field(primary_key=True)
    plan_id: uuid.UUID = Field(index=True)
    ambito_code: str = Field(max_length=50)
    code: str = Field(max_length=50)
    title: str = Field(max_length=500)
    status: str = Field(max_length=20)
    version: int


class Indicator(SQLModel, table=True):
    """An indicator definition from plans (pdz.plans.indicator-definition.v1), with its target."""

    __tablename__ = "indicator"

    indicator_id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=50, index=True)
    name: str = Field(max_length=1000)
    kind: str = Field(max_length=20)
    unit: str | None = Field(default=None, max_length=50)
    frequency: str = Field(max_length=20)
    formula: str | None = Field(default=None, max_length=2000)
    formula_error: str | None = Field(default=None, max_length=2000)
    fact_types: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    missing_value_policy: str = Field(default="skip_if_all_missing", max_length=30)
    target: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    objective_id: uuid.UUID | None = Field(default=None, index=True)
    plan_id: uuid.UUID | None = Field(default=None, index=True)
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    version: int
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TargetStatus(SQLModel, table=True):
    """The last judgement of an indicator's target for a territory and a period."""

    __tablename__ = "target_status"

    indicator_id: uuid.UUID = Field(primary_key=True)
    territory_code: str = Field(primary_key=True, max_length=50)
    period: str = Field(primary_key=True, max_length=20)
    status: str = Field(max_length=20)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))
    target_value: Decimal | None = Field(
        default=None, sa_column=Column(Numeric(24, 6), nullable=True)
    )
    progress: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))
    reason: str | None = Field(default=None, max_length=500)
    judged_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
