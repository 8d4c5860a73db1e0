from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

InterventionType = Literal[
    "SAD",
    "C-DOM",
    "MISURA_B1",
    "MISURA_B2",
    "RSA",
    "RSD",
    "CDI",
    "CDD",
    "CSE",
    "ADM",
    "TELESOCCORSO",
    "PASTI",
    "TRASPORTO",
    "VOUCHER",
    "SOLLIEVO",
    "ALTRO",
]
Goal = Annotated[str, Field(min_length=1, max_length=500)]
FundingSource = Literal[
    "FNA", "FNPS", "FSR", "FONDO_SANITARIO", "COMUNE", "PNRR", "COMPARTECIPAZIONE", "ALTRO"
]


class InterventionIn(BaseModel):
    type: InterventionType = Field(examples=["SAD"])
    provider: str = Field(min_length=1, max_length=200, examples=["Cooperativa La Vela"])
    frequency: str = Field(min_length=1, max_length=100, examples=["3 accessi a settimana"])
    start_date: date
    end_date: date | None = None
    funding_source: FundingSource = Field(examples=["FNA"])

    @model_validator(mode="after")
    def _dates(self) -> InterventionIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class InterventionOut(InterventionIn):
    id: uuid.UUID
    lineage_id: uuid.UUID | None = Field(
        None, description="Lo stesso intervento attraverso le versioni del PAI"
    )


class PaiIn(BaseModel):
    goals: list[Goal] = Field(min_length=1, max_length=30)
    interventions: list[InterventionIn] = Field(default_factory=list, max_length=50)
    review_date: date | None = None


class PaiOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    number: int = Field(ge=1, json_schema_extra={"format": "int32"})
    status: Literal["draft", "active", "superseded"]
    goals: list[Goal] = Field(max_length=30)
    interventions: list[InterventionOut] = Field(max_length=50)
    review_date: date | None = None
    created_by: str = Field(max_length=200)
    approved_by: str | None = Field(None, max_length=200)
    approved_at: datetime | None = None
    superseded_at: datetime | None = None
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
