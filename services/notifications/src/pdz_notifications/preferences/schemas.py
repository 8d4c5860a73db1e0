from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pdz_notifications.schemas import EventType, RuleChannel


class PreferenceIn(BaseModel):
    enabled: bool = Field(description="false: non ricevere (tranne le notifiche critiche)")


class PreferenceOut(PreferenceIn):
    event_type: EventType
    channel: RuleChannel
    updated_at: datetime
