from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pdz_shared.contracts.plans import TerritoryKind

CODE = r"^[A-Za-z0-9._-]{1,50}$"


class TerritoryIn(BaseModel):
    code: str = Field(
        pattern=CODE, description="Codice stabile (codice ISTAT per i comuni)", examples=["017085"]
    )
    name: str = Field(min_length=1, max_length=200, examples=["Iseo"])
    kind: TerritoryKind = Field(examples=["comune"])
    parent_codes: list[str] = Field(
        default_factory=list, max_length=20, examples=[["AMBITO-05-SEBINO"]]
    )
    ambito_code: str | None = Field(None, pattern=CODE, examples=["AMBITO-05-SEBINO"])
    istat_code: str | None = Field(None, pattern=r"^[0-9]{6}$", examples=["017085"])


class TerritoryUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    parent_codes: list[str] = Field(default_factory=list, max_length=20)
    istat_code: str | None = Field(None, pattern=r"^[0-9]{6}$")


class TerritoryOut(TerritoryIn):
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
    updated_at: datetime
