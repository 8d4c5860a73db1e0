from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pdz_notifications.schemas import EventType, Language, RuleChannel


class TemplateIn(BaseModel):
    key: EventType = Field(
        description="Tipo di evento (o 'digest' per il riepilogo)",
        examples=["it.pdz.casework.discharge.received"],
    )
    channel: RuleChannel
    language: Language
    subject: str = Field(min_length=1, max_length=500, description="Oggetto / titolo (Jinja2)")
    body: str = Field(min_length=1, max_length=20000, description="Testo (Jinja2)")
    description: str | None = Field(None, max_length=500)


class TemplateOut(TemplateIn):
    id: uuid.UUID
    is_default: bool
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_at: datetime
    updated_at: datetime


class PreviewIn(BaseModel):
    """Sample event data to render the template with (the default: an example payload)."""

    data: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="Il payload di esempio dell'evento",
        examples=[{"ambito_code": "AMBITO-05-SEBINO", "case_id": "3f1c…"}],
    )
    items: list[dict[str, Any]] = Field(
        default_factory=list, max_length=100, description="Per il riepilogo: i messaggi raccolti"
    )


class PreviewOut(BaseModel):
    subject: str = Field(max_length=500)
    body: str = Field(max_length=100000)
