from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.casework import CaseSource, CaseStatus, PuaLevel

CODE = r"^[A-Za-z0-9._-]{1,50}$"
CF_PATTERN = r"^[A-Za-z0-9]{16}$"
CaseManagerKind = Literal["sanitario", "sociale"]
SexIn = Literal["M", "F"]


class PersonIn(BaseModel):
    codice_fiscale: str = Field(
        pattern=CF_PATTERN,
        description="Codice fiscale (omocodia ammessa)",
        examples=["BNCNNA40C52E333S"],
    )
    given_name: str = Field(min_length=1, max_length=100, examples=["Anna"])
    family_name: str = Field(min_length=1, max_length=100, examples=["Bianchi"])
    birth_date: date | None = Field(None, description="Se assente, ricavata dal codice fiscale")
    sex: SexIn | None = Field(None, description="Se assente, ricavato dal codice fiscale")
    residence_comune: str | None = Field(None, pattern=CODE, examples=["017085"])


class PersonOut(BaseModel):
    id: uuid.UUID
    codice_fiscale: str = Field(max_length=16)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date
    sex: str = Field(max_length=1)
    residence_comune: str | None = Field(None, max_length=50)


class CaseIn(BaseModel):
    ambito_code: str = Field(pattern=CODE, examples=["AMBITO-05-SEBINO"])
    comune_code: str | None = Field(None, pattern=CODE, examples=["017085"])
    source: CaseSource = Field(examples=["sportello"])
    pua_level: PuaLevel = "front_office"
    person: PersonIn
    case_manager_sub: str | None = Field(None, min_length=1, max_length=200)
    case_manager_kind: CaseManagerKind | None = None
    request_summary: str | None = Field(None, max_length=2000)


class CaseUpdate(BaseModel):
    comune_code: str | None = Field(None, pattern=CODE)
    pua_level: PuaLevel
    case_manager_sub: str | None = Field(None, min_length=1, max_length=200)
    case_manager_kind: CaseManagerKind | None = None
    request_summary: str | None = Field(None, max_length=2000)


class TransitionIn(BaseModel):
    to_status: CaseStatus
    reason: str | None = Field(None, max_length=200, examples=["Orientamento ai servizi"])


class StatusChangeOut(BaseModel):
    from_status: CaseStatus | None = None
    to_status: CaseStatus
    at: datetime
    by_sub: str = Field(max_length=200)
    reason: str | None = Field(None, max_length=200)


class DeadlineOut(BaseModel):
    kind: str = Field(max_length=20)
    due_at: datetime
    met_at: datetime | None = None
    overdue: bool


class CaseOut(BaseModel):
    id: uuid.UUID
    ambito_code: str = Field(max_length=50)
    comune_code: str | None = Field(None, max_length=50)
    source: CaseSource
    pua_level: PuaLevel
    status: CaseStatus
    case_manager_sub: str | None = Field(None, max_length=200)
    case_manager_kind: CaseManagerKind | None = None
    request_summary: str | None = Field(None, max_length=2000)
    closure_reason: str | None = Field(None, max_length=200)
    person: PersonOut
    timestamps: dict[str, datetime] = Field(
        description="Quando il caso è entrato in ciascuno stato (l'ultima volta)"
    )
    history: list[StatusChangeOut] = Field(max_length=200)
    deadlines: list[DeadlineOut] = Field(max_length=20)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    received_at: datetime
    updated_at: datetime


class CaseSummary(BaseModel):
    id: uuid.UUID
    ambito_code: str = Field(max_length=50)
    comune_code: str | None = Field(None, max_length=50)
    source: CaseSource
    pua_level: PuaLevel
    status: CaseStatus
    person_id: uuid.UUID
    case_manager_sub: str | None = Field(None, max_length=200)
    overdue: bool
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    received_at: datetime
    updated_at: datetime


class AuditOut(BaseModel):
    at: datetime
    sub: str = Field(max_length=200)
    role: str = Field(max_length=50)
    action: Literal["read", "write"]
    operation: str = Field(max_length=100)
    purpose: str = Field(max_length=50)
    request_id: str | None = Field(None, max_length=128)
