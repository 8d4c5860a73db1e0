from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class TerritoryUnit(SQLModel, table=True):
    __tablename__ = "territory_unit"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=50, unique=True)
    name: str = Field(max_length=200, index=True)
    kind: str = Field(max_length=20, index=True)
    parent_codes: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    istat_code: str | None = Field(default=None, max_length=10)
    valid_from: date | None = None
    valid_to: date | None = None
    version: int = Field(default=1)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class TerritoryPopulation(SQLModel, table=True):
    """Resident population of a unit on a reference date, as the source states it."""

    __tablename__ = "territory_population"
    __table_args__ = (UniqueConstraint("territory_code", "year"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    territory_code: str = Field(max_length=50, index=True)
    year: int
    reference_date: date
    total: int | None = None
    male: int | None = None
    female: int | None = None
    foreign_total: int | None = None
    foreign_male: int | None = None
    foreign_female: int | None = None
    source: str | None = Field(default=None, max_length=200)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    version: int = Field(default=1)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
