from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from pdz_shared.contracts.plans import PlanStatus

CODE = r"^[A-Za-z0-9._-]{1,50}$"


class Signatory(BaseModel):
    name: str = Field(max_length=300, examples=["Comune di Iseo"])
    kind: str | None = Field(
        None, max_length=50, examples=["comune"], description="comune, ats, asst, terzo_settore..."
    )
    territory_code: str | None = Field(None, max_length=50)
    role: str | None = Field(None, max_length=300)
    note: str | None = Field(None, max_length=2000)


class GovernanceMember(BaseModel):
    role: str | None = Field(None, max_length=500)
    organisation: str | None = Field(None, max_length=500)
    count: int | None = Field(None, ge=0, le=10000, json_schema_extra={"format": "int32"})
    note: str | None = Field(None, max_length=2000)


class GovernanceBody(BaseModel):
    code: str | None = Field(None, max_length=50)
    name: str = Field(max_length=300, examples=["Assemblea dei Sindaci"])
    level: str | None = Field(None, max_length=100, examples=["ambito", "asst", "ats"])
    role: str | None = Field(None, max_length=5000)
    parent_code: str | None = Field(None, max_length=50)
    max_members: int | None = Field(None, ge=0, le=10000, json_schema_extra={"format": "int32"})
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="Scadenza (es. della convenzione)")
    members: list[GovernanceMember] = Field(default_factory=list, max_length=200)
    powers: list[str] = Field(default_factory=list, max_length=100)
    note: str | None = Field(None, max_length=5000)


class DeclaredTotal(BaseModel):
    label: str | None = Field(None, max_length=300)
    fund: str | None = Field(None, max_length=100)
    year: int | None = Field(None, ge=1990, le=2100)
    measure: str = Field("planned", pattern=r"^(planned|committed|spent)$")
    amount: float | None = None


class PlanBase(BaseModel):
    title: str = Field(min_length=1, max_length=300, examples=["Piano di Zona 2025-2027"])
    cycle_start_year: int = Field(examples=[2025], ge=1990, le=2100)
    cycle_end_year: int = Field(examples=[2027], ge=1990, le=2100)
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="Ultimo giorno di vigenza, proroghe incluse")
    extension_note: str | None = Field(None, max_length=500, examples=["prorogato al 31/12/2024"])
    approval_body: str | None = Field(None, max_length=300, examples=["Assemblea dei Sindaci"])
    approved_on: date | None = None
    approval_act: str | None = Field(None, max_length=500)
    capofila_code: str | None = Field(None, max_length=50)
    capofila_name: str | None = Field(None, max_length=300, examples=["Comune di Iseo"])
    legal_basis: str | None = Field(None, max_length=2000)
    comune_codes: list[str] = Field(default_factory=list, max_length=500)
    signatories: list[Signatory] = Field(default_factory=list, max_length=500)
    governance_bodies: list[GovernanceBody] = Field(default_factory=list, max_length=100)
    declared_totals: list[DeclaredTotal] = Field(default_factory=list, max_length=500)
    notes: str | None = Field(None, max_length=20000)
    source: str | None = Field(None, max_length=500)


class PlanIn(PlanBase):
    code: str = Field(pattern=CODE, examples=["PDZ-AMBITO-05-SEBINO-2025-2027"])
    ambito_code: str = Field(pattern=CODE, examples=["AMBITO-05-SEBINO"])


class PlanUpdate(PlanBase):
    status: PlanStatus = Field(
        description="draft → approved → in_force → closed (solo in avanti; da draft anche "
        "direttamente a in_force)"
    )


class PlanOut(PlanIn):
    id: uuid.UUID
    status: PlanStatus
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_by: str = Field(max_length=200)
    updated_by: str = Field(max_length=200)
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = Field(
        default_factory=dict, description="Valori originali non interpretabili, come scritti"
    )


class ChangeOut(BaseModel):
    entity: str = Field(max_length=50)
    entity_id: str = Field(max_length=100)
    version: int = Field(json_schema_extra={"format": "int32"})
    action: str = Field(max_length=30)
    actor: str = Field(max_length=200)
    at: datetime
    changes: dict[str, Any]
