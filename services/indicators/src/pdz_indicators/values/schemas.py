from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from pdz_indicators.values.periods import PERIOD_PATTERN

CODE = r"^[A-Za-z0-9._-]{1,50}$"
Reason = Literal["no_data", "division_by_zero", "suppressed", "invalid_formula", "no_formula"]
Policy = Literal["skip_if_any_missing", "skip_if_all_missing", "zero"]


class IndicatorOut(BaseModel):
    indicator_id: uuid.UUID
    code: str = Field(max_length=50)
    name: str = Field(max_length=1000)
    kind: str = Field(max_length=20)
    unit: str | None = Field(None, max_length=50)
    frequency: str = Field(max_length=20)
    formula: str | None = Field(None, max_length=2000)
    formula_error: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=8000, description="La formula a parole")
    missing_value_policy: Policy
    target: dict[str, Any] | None = Field(None, description="Target tipizzato (contratto plans)")
    objective_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    ambito_code: str | None = Field(None, max_length=50)
    version: int = Field(ge=1, le=2_000_000_000)


class ValueOut(BaseModel):
    indicator_code: str = Field(max_length=50)
    territory_code: str = Field(max_length=50)
    period: str = Field(max_length=20, pattern=PERIOD_PATTERN, examples=["2025-Q1"])
    period_kind: Literal["month", "quarter", "year", "cycle"]
    value: Decimal | None = Field(None, description="Null quando manca: vedi reason")
    reason: Reason | None = Field(
        None,
        description=(
            "Perché manca il valore: no_data (nessun dato), division_by_zero, suppressed "
            "(da 1 a 4 persone, visibile solo negli ambiti interessati), invalid_formula"
        ),
    )
    unit: str | None = Field(None, max_length=50)
    computed_at: datetime
    watermark: datetime | None = Field(
        None, description="Istante dell'evento più recente tra gli input (freschezza)"
    )


class PolicyIn(BaseModel):
    missing_value_policy: Policy


class RecomputeOut(BaseModel):
    indicator_code: str = Field(max_length=50)
    values_computed: int = Field(ge=0, le=10_000_000)
