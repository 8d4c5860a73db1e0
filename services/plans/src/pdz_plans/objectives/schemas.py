from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from pdz_shared.contracts.plans import ClassificationRef, ObjectiveScope, ObjectiveStatus

CODE = r"^[A-Za-z0-9._-]{1,50}$"


class Action(BaseModel):
    code: str | None = Field(None, max_length=50)
    title: str = Field(max_length=1000)
    description: str | None = Field(None, max_length=20000)
    owner: str | None = Field(None, max_length=500, description="Chi la realizza")
    start_date: date | None = None
    end_date: date | None = None
    timeline: str | None = Field(None, max_length=2000, examples=["Entro fine 2026"])
    status: str | None = Field(None, max_length=50)


class Resource(BaseModel):
    fund: str = Field(max_length=100, examples=["FNPS"])
    year: int | None = Field(None, ge=1990, le=2100)
    planned: float | None = Field(None, description="Previsto (euro)")
    committed: float | None = Field(None, description="Impegnato (euro)")
    spent: float | None = Field(None, description="Speso/liquidato (euro)")
    note: str | None = Field(None, max_length=2000)


class ObjectiveIn(BaseModel):
    code: str = Field(pattern=CODE, examples=["SEB-MIN"])
    title: str = Field(max_length=500)
    section: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=20000)
    rationale: str | None = Field(None, max_length=20000)
    scope: ObjectiveScope = "ambito"
    shared_with_ambiti: list[str] = Field(default_factory=list, max_length=50)
    target_population: str | None = Field(None, max_length=5000)
    responsible_body: str | None = Field(None, max_length=500)
    partners: list[str] = Field(default_factory=list, max_length=200)
    start_date: date | None = None
    end_date: date | None = None
    status: ObjectiveStatus = "planned"
    classifications: list[ClassificationRef] = Field(default_factory=list, max_length=50)
    actions: list[Action] = Field(default_factory=list, max_length=200)
    answers: dict[str, Any] = Field(
        default_factory=dict, description="Risposte della scheda (SI/NO/ND e testo) come scritte"
    )
    details: dict[str, Any] = Field(default_factory=dict)
    resources: list[Resource] = Field(default_factory=list, max_length=500)


class ObjectiveOut(ObjectiveIn):
    id: uuid.UUID
    plan_id: uuid.UUID
    ambito_code: str = Field(max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_by: str = Field(max_length=200)
    updated_by: str = Field(max_length=200)
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = Field(default_factory=dict)


class BudgetCell(BaseModel):
    fund: str = Field(max_length=100)
    year: int | None = Field(None, ge=1990, le=2100)
    planned: float | None = None
    committed: float | None = None
    spent: float | None = None
    lines: int = Field(ge=0, json_schema_extra={"format": "int32"})


class BudgetWarning(BaseModel):
    code: str = Field(max_length=50)
    message: str = Field(max_length=1000)
    location: str | None = Field(None, max_length=500)


class BudgetOut(BaseModel):
    plan_id: uuid.UUID
    cells: list[BudgetCell] = Field(max_length=5000)
    by_fund: list[BudgetCell] = Field(max_length=500)
    by_year: list[BudgetCell] = Field(max_length=100)
    total: BudgetCell
    warnings: list[BudgetWarning] = Field(max_length=5000)
