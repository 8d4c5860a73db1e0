from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pdz_notifications.schemas import ChannelName

DeliveryStatus = Literal["pending", "sending", "sent", "failed", "skipped", "digested"]


class AttemptOut(BaseModel):
    attempt: int = Field(ge=0, json_schema_extra={"format": "int32"})
    status: Literal["sent", "retry", "failed"]
    error: str | None = Field(None, max_length=2000)
    response_status: int | None = Field(None, ge=0, le=999, json_schema_extra={"format": "int32"})
    duration_ms: int = Field(ge=0, json_schema_extra={"format": "int32"})
    started_at: datetime


class DeliveryOut(BaseModel):
    id: uuid.UUID
    event_id: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    ambito_code: str | None = Field(None, max_length=50)
    recipient: str = Field(max_length=200)
    channel: ChannelName
    status: DeliveryStatus
    critical: bool
    rule_id: uuid.UUID | None = None
    webhook_id: uuid.UUID | None = None
    digest_id: uuid.UUID | None = None
    subject: str | None = Field(None, max_length=500)
    attempts: int = Field(ge=0, json_schema_extra={"format": "int32"})
    next_attempt_at: datetime
    last_error: str | None = Field(None, max_length=2000)
    created_at: datetime
    sent_at: datetime | None = None


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut] = Field(max_length=1000)
