from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field


class EvaluationItemOut(BaseModel):
    id: uuid.UUID
    cycle: str | None = Field(None, max_length=50, examples=["2021-2023"])
    code: str | None = Field(None, max_length=50)
    title: str = Field(max_length=1000)
    area: str | None = Field(None, max_length=300)
    dimension: str | None = Field(None, max_length=100, examples=["OUTPUT"])
    achievement_pct: float | None = Field(None, description="Grado di raggiungimento (%)")
    achievement_text: str | None = Field(
        None, max_length=500, description="Come scritto", examples=["72% - sufficiente"]
    )
    spending_pct: float | None = Field(
        None, description="Coincidenza stanziato/impegnato/liquidato"
    )
    spending_text: str | None = Field(None, max_length=500)
    user_evaluation: str | None = Field(None, max_length=1000)
    resources_adequacy: str | None = Field(None, max_length=1000, examples=["Adeguito"])
    critical_issues: str | None = Field(None, max_length=5000)
    need_met: str | None = Field(None, max_length=500)
    continuity_previous: str | None = Field(None, max_length=500)
    reproposed: str | None = Field(None, max_length=500, examples=["Solo parzialmente"])
    notes: str | None = Field(None, max_length=5000)
    answers: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict)


class EvaluationOut(BaseModel):
    plan_id: uuid.UUID
    items: list[EvaluationItemOut] = Field(max_length=1000)
    count: int = Field(ge=0, json_schema_extra={"format": "int32"})
    mean_achievement_pct: float | None = Field(
        None, description="Media dei gradi di raggiungimento leggibili"
    )
    mean_spending_pct: float | None = None
