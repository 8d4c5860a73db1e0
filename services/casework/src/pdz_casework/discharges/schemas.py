from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.casework import Channel, Destination


class Reason(BaseModel):
    name: str = Field(max_length=300)
    reason: str = Field(max_length=1000)


class DischargeOut(BaseModel):
    id: uuid.UUID
    status: Literal["accepted", "processed", "rejected"]
    channel: Channel = Field(description="Canale della prima ricezione")
    reasons: list[Reason] = Field(max_length=200)
    case_id: uuid.UUID | None = None
    ambito_code: str | None = Field(None, max_length=50)
    sending_organization: str = Field(max_length=300)
    encounter_identifier: str = Field(max_length=300)
    encounter_status: str | None = Field(None, max_length=30)
    admission_date: date | None = None
    planned_discharge_date: date | None = None
    receipts: int = Field(ge=1, json_schema_extra={"format": "int32"})
    received_at: datetime
    processed_at: datetime | None = None
    updated_at: datetime


class TaskOut(BaseModel):
    id: uuid.UUID
    discharge_id: uuid.UUID | None = None
    step: int = Field(ge=1, le=20, json_schema_extra={"format": "int32"})
    code: str = Field(max_length=60)
    title: str = Field(max_length=200)
    status: Literal["open", "done"]
    done_at: datetime | None = None
    done_by: str | None = Field(None, max_length=200)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})


class TransitionOut(BaseModel):
    id: uuid.UUID
    discharge_id: uuid.UUID
    case_id: uuid.UUID
    origin_setting: str = Field(max_length=100)
    planned_destination: Destination | None = None
    planned_on: date | None = None
    destination: Destination | None = None
    discharged_on: date | None = None
    arrived_on: date | None = None
    outcome: str | None = Field(None, max_length=200)
    readmitted_within_30_days: bool | None = None
    completed_at: datetime | None = None
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})


class TransitionIn(BaseModel):
    destination: Destination
    discharged_on: date
    arrived_on: date
    outcome: str = Field(min_length=1, max_length=200, examples=["Rientro a domicilio con SAD"])
