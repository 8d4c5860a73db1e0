from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pdz_notifications.schemas import EMAIL, Code, Language, RoleName


class RecipientIn(BaseModel):
    email: str | None = Field(
        None, pattern=EMAIL, max_length=320, examples=["operatore.pua@comune.iseo.bs.it"]
    )
    roles: list[RoleName] = Field(default_factory=list, max_length=20, examples=[["pua_operator"]])
    ambiti: list[Code] = Field(
        default_factory=list, max_length=100, examples=[["AMBITO-05-SEBINO"]]
    )
    language: Language = Field("it", description="Lingua dei messaggi (it o en)")
    active: bool = True


class RecipientOut(RecipientIn):
    sub: str = Field(max_length=200)
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
    updated_at: datetime
