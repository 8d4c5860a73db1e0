from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, DateTime, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class ReportedValue(SQLModel, table=True):
    """A figure reported by a comune, an ambito or an ASST for a territory and a period."""

    __tablename__ = "reported_value"
    __table_args__ = (
        UniqueConstraint(
            "metric", "territory_code", "period", name="uq_reported_value_metric_territory_period"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    metric: str = Field(max_length=100, index=True)
    territory_code: str = Field(max_length=50, index=True)
    ambito_code: str = Field(max_length=50, index=True)
    period: str = Field(max_length=20)
    value: Decimal = Field(sa_column=Column(Numeric(18, 4), nullable=False))
    note: str | None = Field(default=None, max_length=1000)
    reported_by: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
