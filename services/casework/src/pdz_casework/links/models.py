from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class ExternalSystem(SQLModel, table=True):
    """A Cartella Sociale software registered for a comune."""

    __tablename__ = "external_system"

    system: str = Field(primary_key=True, max_length=50)
    comune_code: str = Field(primary_key=True, max_length=50)
    ambito_code: str = Field(max_length=50, index=True)
    name: str = Field(max_length=200)
    registered_by: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ExternalLink(SQLModel, table=True):
    """Where a case lives in a comune's Cartella Sociale."""

    __tablename__ = "external_link"
    __table_args__ = (
        UniqueConstraint("case_id", "system", name="uq_external_link_case_system"),
        UniqueConstraint("system", "external_id", name="uq_external_link_system_external_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    system: str = Field(max_length=50)
    external_id: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=500)
    comune_code: str = Field(max_length=50)
    ambito_code: str = Field(max_length=50)
    created_by: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
