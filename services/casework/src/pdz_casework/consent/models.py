from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class ConsentRecord(SQLModel, table=True):
    """Append-only: each grant or withdrawal is a new row (the database refuses changes)."""

    __tablename__ = "consent_record"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    purpose: str = Field(max_length=50)
    recipients: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(200)), nullable=False)
    )
    legal_basis: str = Field(max_length=30)
    state: str = Field(max_length=10)
    note: str | None = Field(default=None, max_length=1000)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
