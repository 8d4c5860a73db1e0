from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Fact(SQLModel, table=True):
    """One casework event as a fact: no personal identifiers, only the case id and attributes.

    ``fact_key`` is the natural key of the fact (type + evm/pai/discharge id...), so a replayed
    or re-published event lands on the same row and never counts twice.
    """

    __tablename__ = "fact"
    __table_args__ = (
        Index("ix_fact_type_ambito_at", "fact_type", "ambito_code", "fact_at"),
        Index("ix_fact_case", "case_id", "fact_type"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    fact_key: str = Field(max_length=300, unique=True)
    event_id: str = Field(max_length=200)
    fact_type: str = Field(max_length=50)
    case_id: uuid.UUID
    ambito_code: str = Field(max_length=50)
    comune_code: str | None = Field(default=None, max_length=50)
    fact_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    attrs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    ingested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


OPEN_AGE = 999  # the upper bound of an open band ("85 and over", "all ages")


class Population(SQLModel, table=True):
    """Resident population of a territory per year, by sex (M, F or T = all) and age band."""

    __tablename__ = "population"

    territory_code: str = Field(primary_key=True, max_length=50)
    year: int = Field(primary_key=True)
    sex: str = Field(primary_key=True, max_length=1)
    age_from: int = Field(primary_key=True)
    age_to: int = Field(default=OPEN_AGE, primary_key=True, description="999: and over")
    count: int
    source: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    version: int = 1
