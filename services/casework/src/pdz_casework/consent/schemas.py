from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pdz_casework.access import PURPOSE_PATTERN

LegalBasis = Literal[
    "consenso", "obbligo_legale", "interesse_pubblico", "tutela_vitale", "finalita_di_cura"
]
Recipient = Annotated[str, Field(min_length=1, max_length=200)]


class ConsentIn(BaseModel):
    purpose: str = Field(pattern=PURPOSE_PATTERN, max_length=50, examples=["presa_in_carico"])
    recipients: list[Recipient] = Field(
        default_factory=list, max_length=50, examples=[["ASST Franciacorta", "Comune di Iseo"]]
    )
    legal_basis: LegalBasis
    state: Literal["granted", "withdrawn"]
    note: str | None = Field(None, max_length=1000)


class ConsentOut(ConsentIn):
    id: int = Field(ge=1, json_schema_extra={"format": "int64"})
    current: bool = Field(description="È l'ultima dichiarazione per questa finalità")
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime
