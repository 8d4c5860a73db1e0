from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Numeric, String
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


class FactSum(SQLModel, table=True):
    """An indicator's facts summed per ambito, comune and local month, kept by every event.

    One ``part`` per scan of the formula (a fact type with its count leaves, or an average);
    ``n`` facts (people, for an average), ``w`` their latest ``occurred_at`` and ``v`` one sum
    per column of the part (the facts meeting each count's condition, or the average's days).
    ``comune_code`` is ``''`` for facts without a comune, and ``'*'`` for the ambito's total
    (every fact of the ambito: a cell of a wider territory reads a row per month, not one per
    comune). Derived data: a full recompute rebuilds it, and the values of a cell are computed
    from it.
    """

    __tablename__ = "indicator_fact_sum"

    indicator_id: uuid.UUID = Field(primary_key=True)
    part: int = Field(primary_key=True)
    ambito_code: str = Field(primary_key=True, max_length=50)
    comune_code: str = Field(primary_key=True, max_length=50)
    month: date = Field(primary_key=True)
    n: int = Field(sa_column=Column(BigInteger, nullable=False))
    w: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    v: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))


class FactSumState(SQLModel, table=True):
    """For which formula and ambiti an indicator's :class:`FactSum` rows are complete."""

    __tablename__ = "indicator_fact_sum_state"

    indicator_id: uuid.UUID = Field(primary_key=True)
    formula: str = Field(max_length=2000)
    ambiti: list[str] = Field(sa_column=Column(ARRAY(String(50)), nullable=False))
    built_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
