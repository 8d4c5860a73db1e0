from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class ImportWarning(BaseModel):
    location: str = Field(
        max_length=500, description="Percorso nel file (objectives[3].title) o foglio e riga"
    )
    code: str = Field(
        max_length=50,
        examples=["impossible-date", "unknown-comune", "total-mismatch", "html-in-text"],
    )
    message: str = Field(max_length=2000)
    message_en: str = Field(max_length=2000)
    value: str | None = Field(None, max_length=500, description="Il valore come scritto")
    suggestion: str | None = Field(None, max_length=500)


class Counts(BaseModel):
    created: int = Field(0, ge=0, json_schema_extra={"format": "int32"})
    updated: int = Field(0, ge=0, json_schema_extra={"format": "int32"})
    unchanged: int = Field(0, ge=0, json_schema_extra={"format": "int32"})
    skipped: int = Field(0, ge=0, json_schema_extra={"format": "int32"})


class ImportReport(BaseModel):
    dry_run: bool
    plan_id: uuid.UUID
    plan_code: str = Field(max_length=50)
    counts: dict[str, Counts] = Field(
        description="Per tipo (plans, objectives, indicators, territories, population, "
        "budget_lines, evaluation): quanti creati, aggiornati, invariati, saltati"
    )
    warnings: list[ImportWarning] = Field(max_length=100000)
