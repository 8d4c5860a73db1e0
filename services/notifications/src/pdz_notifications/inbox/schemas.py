from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NotificationOut(BaseModel):
    id: uuid.UUID
    event_id: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    ambito_code: str | None = Field(None, max_length=50)
    title: str = Field(max_length=500)
    body: str = Field(max_length=20000)
    critical: bool
    created_at: datetime
    read_at: datetime | None = None
    read: bool


class InboxPage(BaseModel):
    """A page of the caller's inbox, with how many messages are still unread."""

    items: list[NotificationOut] = Field(max_length=500)
    total: int = Field(ge=0, json_schema_extra={"format": "int64"})
    unread: int = Field(ge=0, json_schema_extra={"format": "int64"})
    limit: int = Field(ge=1, le=500, json_schema_extra={"format": "int32"})
    offset: int = Field(ge=0, json_schema_extra={"format": "int64"})


class NotificationPatch(BaseModel):
    """JSON merge patch (RFC 7396) of an inbox message."""

    model_config = ConfigDict(extra="forbid")

    read: bool = Field(description="true segna come letta, false come non letta")


class MarkedRead(BaseModel):
    marked: int = Field(ge=0, json_schema_extra={"format": "int64"}, description="Messaggi segnati")
    unread: int = Field(ge=0, json_schema_extra={"format": "int64"})
