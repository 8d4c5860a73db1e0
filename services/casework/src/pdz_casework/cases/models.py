from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class Person(SQLModel, table=True):
    """A person known to an ambito: one row per codice fiscale per ambito."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("ambito_code", "codice_fiscale", name="uq_person_ambito_cf"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ambito_code: str = Field(max_length=50, index=True)
    codice_fiscale: str = Field(max_length=16)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date
    sex: str = Field(max_length=1)
    residence_comune: str | None = Field(default=None, max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Case(SQLModel, table=True):
    __tablename__ = "pua_case"
    __table_args__ = (Index("ix_pua_case_ambito_status", "ambito_code", "status"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ambito_code: str = Field(max_length=50)
    comune_code: str | None = Field(default=None, max_length=50, index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    source: str = Field(max_length=30)
    pua_level: str = Field(max_length=30)
    status: str = Field(max_length=30)
    case_manager_sub: str | None = Field(default=None, max_length=200)
    case_manager_kind: str | None = Field(default=None, max_length=20)
    request_summary: str | None = Field(default=None, max_length=2000)
    closure_reason: str | None = Field(default=None, max_length=200)
    version: int = Field(default=1)
    created_by: str = Field(max_length=200)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CaseStatusChange(SQLModel, table=True):
    """Every state the case went through, with when and who (the case's timestamps)."""

    __tablename__ = "case_status_change"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str = Field(max_length=30)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    by_sub: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=200)


class CaseAudit(SQLModel, table=True):
    """Append-only: who read or wrote what of a case, in which role, for which purpose."""

    __tablename__ = "case_audit"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    case_id: uuid.UUID = Field(index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    sub: str = Field(max_length=200)
    role: str = Field(max_length=50)
    action: str = Field(max_length=20)
    operation: str = Field(max_length=100)
    purpose: str = Field(max_length=50)
    request_id: str | None = Field(default=None, max_length=128)
