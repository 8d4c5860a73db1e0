from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pdz_shared.contracts.plans import Frequency, IndicatorKind, Target

CODE = r"^[A-Za-z0-9._-]{1,50}$"


class IndicatorIn(BaseModel):
    code: str = Field(pattern=CODE, examples=["LEPS-4.I2"])
    name: str = Field(min_length=1, max_length=1000)
    kind: IndicatorKind = "output"
    unit: str | None = Field(None, max_length=50, examples=["%"])
    data_source: str | None = Field(None, max_length=500)
    frequency: Frequency = "yearly"
    formula: str | None = Field(
        None, max_length=2000, description="Espressione valutata dal servizio indicators"
    )
    target: Target | None = None
    notes: str | None = Field(None, max_length=5000)


class IndicatorOut(IndicatorIn):
    id: uuid.UUID
    plan_id: uuid.UUID | None = None
    objective_id: uuid.UUID | None = None
    ambito_code: str | None = Field(None, max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_by: str = Field(max_length=200)
    updated_by: str = Field(max_length=200)
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = Field(default_factory=dict)
