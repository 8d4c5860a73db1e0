from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from pdz_notifications.schemas import Code, EventType


class WebhookBase(BaseModel):
    url: str = Field(
        pattern=r"^https?://[^\s]{1,1990}$",
        max_length=2000,
        examples=["https://cartella.comune.iseo.bs.it/pdz/eventi"],
    )
    event_types: list[EventType] = Field(
        min_length=1, max_length=50, examples=[["it.pdz.casework.discharge.received"]]
    )
    ambito_code: Code | None = Field(
        None, description="Solo gli eventi di questo ambito (vuoto = tutti: solo platform_admin)"
    )
    description: str | None = Field(None, max_length=500)
    active: bool = True


class WebhookIn(WebhookBase):
    secret: str = Field(
        min_length=16,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Segreto per la firma HMAC-SHA256 (non viene mai restituito)",
    )


class WebhookOut(WebhookBase):
    id: uuid.UUID
    version: int = Field(ge=1, json_schema_extra={"format": "int32"})
    created_by: str = Field(max_length=200)
    created_at: datetime
    updated_at: datetime
