from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Numeric, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


class IndicatorValue(SQLModel, table=True):
    """One computed value of an indicator for a territory and a period.

    ``value`` is null with a ``reason`` (no_data, division_by_zero, invalid_formula); at read
    time a small cell becomes ``suppressed`` for callers outside the territory's ambiti.
    """

    __tablename__ = "indicator_value"

    indicator_id: uuid.UUID = Field(primary_key=True)
    territory_code: str = Field(primary_key=True, max_length=50)
    period: str = Field(primary_key=True, max_length=20)
    period_kind: str = Field(max_length=10)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))
    reason: str | None = Field(default=None, max_length=30)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    small_cell: bool = False
    ambiti: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    watermark: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
