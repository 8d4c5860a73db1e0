from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from pdz_shared.db import utcnow


class Plan(SQLModel, table=True):
    """A Piano di Zona of one ambito for one cycle (possibly extended)."""

    __tablename__ = "plan"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=50, unique=True)
    title: str = Field(max_length=300)
    ambito_code: str = Field(max_length=50, index=True)
    cycle_start_year: int
    cycle_end_year: int
    valid_from: date | None = None
    valid_to: date | None = None
    extension_note: str | None = Field(default=None, max_length=500)
    status: str = Field(default="draft", max_length=20, index=True)
    approval_body: str | None = Field(default=None, max_length=300)
    approved_on: date | None = None
    approval_act: str | None = Field(default=None, max_length=500)
    capofila_code: str | None = Field(default=None, max_length=50)
    capofila_name: str | None = Field(default=None, max_length=300)
    legal_basis: str | None = Field(default=None, max_length=2000)
    comune_codes: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(50)), nullable=False)
    )
    signatories: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    governance_bodies: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    declared_totals: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    notes: str | None = Field(default=None, max_length=20000)
    source: str | None = Field(default=None, max_length=500)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    version: int = Field(default=1)
    created_by: str = Field(max_length=200)
    updated_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
