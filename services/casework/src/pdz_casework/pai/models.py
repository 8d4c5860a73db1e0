from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class PaiVersion(SQLModel, table=True):
    """One version of a case's PAI: draft → active (on approval) → superseded."""

    __tablename__ = "pai_version"
    __table_args__ = (
        UniqueConstraint("case_id", "number", name="uq_pai_version_case_number"),
        Index(
            "uq_pai_version_one_active",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    number: int
    status: str = Field(max_length=20, default="draft")
    goals: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(500)), nullable=False)
    )
    review_date: date | None = None
    created_by: str = Field(max_length=200)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    superseded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = Field(default=1)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class PaiIntervention(SQLModel, table=True):
    """An intervention of a PAI version; ``lineage_id`` follows it across versions."""

    __tablename__ = "pai_intervention"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    pai_id: uuid.UUID = Field(foreign_key="pai_version.id", index=True)
    lineage_id: uuid.UUID | None = Field(default=None, index=True)
    type: str = Field(max_length=50)
    provider: str = Field(max_length=200)
    frequency: str = Field(max_length=100)
    start_date: date
    end_date: date | None = None
    funding_source: str = Field(max_length=50)
