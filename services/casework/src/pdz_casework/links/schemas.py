from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from pdz_casework.cases.schemas import CODE

SYSTEM = r"^[a-z0-9][a-z0-9._-]{1,49}$"
URL = r"^https://[^\s]{1,490}$"


class ExternalSystemIn(BaseModel):
    ambito_code: str = Field(pattern=CODE, examples=["AMBITO-05-SEBINO"])
    name: str = Field(min_length=1, max_length=200, examples=["Cartella Sociale Comune di Iseo"])


class ExternalSystemOut(ExternalSystemIn):
    system: str = Field(max_length=50)
    comune_code: str = Field(max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime


class ExternalLinkIn(BaseModel):
    external_id: str = Field(
        min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$", examples=["CS-ISEO-2026-00042"]
    )
    url: str | None = Field(None, pattern=URL, max_length=500)


class ExternalLinkOut(BaseModel):
    case_id: uuid.UUID
    system: str = Field(max_length=50)
    external_id: str = Field(max_length=200)
    url: str | None = Field(None, max_length=500)
    comune_code: str = Field(max_length=50)
    ambito_code: str = Field(max_length=50)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
    updated_at: datetime
