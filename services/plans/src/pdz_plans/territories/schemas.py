from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
    valid_from: date | None = Field(None, description="Primo giorno di validità (facoltativo)")
    valid_to: date | None = Field(None, description="Ultimo giorno di validità (facoltativo)")


class TerritoryUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    parent_codes: list[str] = Field(default_factory=list, max_length=20)
    istat_code: str | None = Field(None, pattern=r"^[0-9]{6}$")
    valid_from: date | None = None
    valid_to: date | None = None


class TerritoryOut(TerritoryIn):
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
    updated_at: datetime


class PopulationIn(BaseModel):
    reference_date: date | None = Field(None, description="Di norma il 1° gennaio dell'anno")
    total: int | None = Field(None, ge=0, le=100_000_000, examples=[54346])
    male: int | None = Field(None, ge=0, le=100_000_000, examples=[26809])
    female: int | None = Field(None, ge=0, le=100_000_000, examples=[27537])
    foreign_total: int | None = Field(None, ge=0, le=100_000_000, examples=[3482])
    foreign_male: int | None = Field(None, ge=0, le=100_000_000)
    foreign_female: int | None = Field(None, ge=0, le=100_000_000)
    source: str | None = Field(None, max_length=200, examples=["ISTAT 01/01/2024"])


class PopulationOut(PopulationIn):
    territory_code: str = Field(max_length=50)
    year: int = Field(ge=1900, le=2100)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    updated_by: str = Field(max_length=200)
    updated_at: datetime
    raw: dict[str, Any] = Field(
        default_factory=dict, description="Valori originali non interpretabili, come scritti"
    )
