from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class Territory(SQLModel, table=True):
    """Projection of the plans service's territory units (fed by pdz.plans.territory.v1)."""

    __tablename__ = "territory"

    code: str = Field(primary_key=True, max_length=50)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20, index=True)
    parent_codes: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    version: int
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
