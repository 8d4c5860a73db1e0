from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SlaPolicyIn(BaseModel):
    first_contact_hours: int = Field(48, ge=1, le=8760, json_schema_extra={"format": "int32"})
    triage_hours: int = Field(120, ge=1, le=8760, json_schema_extra={"format": "int32"})
    evm_hours: int = Field(480, ge=1, le=8760, json_schema_extra={"format": "int32"})
    pai_hours: int = Field(720, ge=1, le=8760, json_schema_extra={"format": "int32"})
    discharge_lead_hours: int = Field(
        0,
        ge=0,
        le=720,
        description="Ore di anticipo rispetto all'inizio del giorno di dimissione previsto",
        json_schema_extra={"format": "int32"},
    )
    due_soon_hours: int = Field(
        24,
        ge=1,
        le=720,
        description="Preavviso di sla.due-soon",
        json_schema_extra={"format": "int32"},
    )


class SlaPolicyOut(SlaPolicyIn):
    ambito_code: str = Field(max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    updated_at: datetime
