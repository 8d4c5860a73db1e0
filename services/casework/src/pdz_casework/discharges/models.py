from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


def _ts(nullable: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable),
    )


class Discharge(SQLModel, table=True):
    """A dimissione protetta from an ASST: one per (sending organization, encounter).

    The intake writes this row and nothing else; ``pending`` holds the last receipt, read and
    checked, until the discharge processor applies it (opens the case, moves the deadline...).
    The other columns are the state applied so far (or, before the first processing, the first
    receipt's).
    """

    __tablename__ = "discharge"
    __table_args__ = (
        UniqueConstraint("sending_organization", "encounter_identifier", name="uq_discharge_key"),
        Index("ix_discharge_pending", "updated_at", postgresql_where=text("pending IS NOT NULL")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sending_organization: str = Field(max_length=300)
    sending_organization_name: str | None = Field(default=None, max_length=200)
    encounter_identifier: str = Field(max_length=300)
    status: str = Field(max_length=20)
    channel: str = Field(max_length=10)
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    ambito_code: str | None = Field(default=None, max_length=50, index=True)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="pua_case.id", index=True)
    encounter_status: str | None = Field(default=None, max_length=30)
    admission_date: date | None = None
    planned_discharge_date: date | None = None
    bundle: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    bundle_hash: str = Field(max_length=64)
    receipts: int = Field(default=1)
    received_by: str = Field(max_length=200)
    received_at: datetime = _ts()
    processed_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()
    pending: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSONB(none_as_null=True), nullable=True),
        description="The receipt waiting for the processor: the Bundle as read, request id",
    )


class CaseTask(SQLModel, table=True):
    """A step of a protocol the case follows (the six steps of the dimissioni protette)."""

    __tablename__ = "case_task"
    __table_args__ = (UniqueConstraint("case_id", "discharge_id", "step", name="uq_case_task"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    discharge_id: uuid.UUID | None = Field(default=None, foreign_key="discharge.id")
    step: int
    code: str = Field(max_length=60)
    title: str = Field(max_length=200)
    status: str = Field(max_length=10, default="open")
    done_at: datetime | None = _ts(nullable=True)
    done_by: str | None = Field(default=None, max_length=200)
    version: int = Field(default=1)


class CareTransition(SQLModel, table=True):
    """The hospital-to-territory transition of a discharge: planned, then completed."""

    __tablename__ = "care_transition"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    discharge_id: uuid.UUID = Field(foreign_key="discharge.id", unique=True)
    case_id: uuid.UUID = Field(foreign_key="pua_case.id", index=True)
    origin_setting: str = Field(max_length=100)
    planned_destination: str | None = Field(default=None, max_length=30)
    planned_on: date | None = None
    destination: str | None = Field(default=None, max_length=30)
    discharged_on: date | None = None
    arrived_on: date | None = None
    outcome: str | None = Field(default=None, max_length=200)
    readmitted_within_30_days: bool | None = None
    completed_at: datetime | None = _ts(nullable=True)
    completed_by: str | None = Field(default=None, max_length=200)
    version: int = Field(default=1)
