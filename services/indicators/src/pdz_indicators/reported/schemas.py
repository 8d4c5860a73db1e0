from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field, field_validator

METRIC = r"^[a-z][a-z0-9_]{0,99}$"
PERIOD = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-[0-9]{4})?$"


class ReportedValueIn(BaseModel):
    metric: str = Field(pattern=METRIC, examples=["posti_sad"])
    territory_code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,50}$", examples=["017085"])
    period: str = Field(
        pattern=PERIOD,
        description="Anno (2025), mese (2025-03), trimestre (2025-Q1) o ciclo di piano (2025-2027)",
        examples=["2025"],
    )
    value: Decimal = Field(ge=-1e12, le=1e12, max_digits=18, decimal_places=4, examples=[12])
    note: str | None = Field(None, max_length=1000)

    @field_validator("period")
    @classmethod
    def _real_period(cls, value: str) -> str:
        from pdz_indicators.values.periods import parse_period

        parse_period(value)  # a cycle must end after it starts, within ten years
        return value


class ReportedValueOut(ReportedValueIn):
    id: uuid.UUID
    ambito_code: str = Field(max_length=50)
    reported_by: str = Field(max_length=200)
    created_at: datetime
