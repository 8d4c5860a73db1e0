from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["achieved", "on_track", "at_risk", "off_track", "no_data"]


class ScorecardIndicator(BaseModel):
    indicator_id: uuid.UUID
    code: str = Field(max_length=50)
    name: str = Field(max_length=1000)
    unit: str | None = Field(None, max_length=50)
    value: Decimal | None = Field(None, description="Il valore su cui il target è giudicato")
    reason: str | None = Field(None, max_length=30, description="Perché manca il valore")
    status: Status | None = Field(None, description="Null se l'indicatore non ha target")
    target_value: Decimal | None = None
    progress: Decimal | None = Field(None, description="1 = target raggiunto")
    status_reason: str | None = Field(None, max_length=500)
    target: dict[str, Any] | None = Field(None, description="Target tipizzato (contratto plans)")
    computed_at: datetime | None = None
    watermark: datetime | None = None


class ScorecardObjective(BaseModel):
    objective_id: uuid.UUID | None = None
    code: str | None = Field(None, max_length=50)
    title: str = Field(max_length=500)
    indicators: list[ScorecardIndicator] = Field(max_length=500)


class Scorecard(BaseModel):
    plan_id: uuid.UUID
    plan_code: str = Field(max_length=50)
    title: str = Field(max_length=300)
    ambito_code: str = Field(max_length=50)
    period: str = Field(max_length=20, examples=["2026"])
    objectives: list[ScorecardObjective] = Field(max_length=500)
    summary: dict[str, int] = Field(description="Quanti indicatori per stato")
