from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class SlaPolicy(SQLModel, table=True):
    """How long each step may take in an ambito (hours), and how early to warn."""

    __tablename__ = "sla_policy"

    ambito_code: str = Field(primary_key=True, max_length=50)
    first_contact_hours: int = Field(default=48)
    triage_hours: int = Field(default=120)
    evm_hours: int = Field(default=480)
    pai_hours: int = Field(default=720)
    discharge_lead_hours: int = Field(default=0)
    due_soon_hours: int = Field(default=24)
    version: int = Field(default=1)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class SlaDeadline(SQLModel, table=True):
    """A stored deadline of a case; the scheduler claims the two notices with the flags."""

    __tablename__ = "sla_deadline"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", name="uq_sla_deadline_case_kind"),
        Index("ix_sla_deadline_open", "due_at", postgresql_where=text("met_at IS NULL")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    ambito_code: str = Field(max_length=50)
    kind: str = Field(max_length=20)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    met_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    due_soon_sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    breached_sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
