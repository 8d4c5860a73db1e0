"""Events of the notifications service.

A delivery that exhausted its attempts (a webhook that keeps failing, a mailbox that refuses)
is marked failed and announced on the dead-letter topic, with the CloudEvent it carried, so an
operator or a tool can inspect it and retry it (``POST /v1/deliveries/{id}/retry``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pdz_shared.contracts.spec import EventSpec, TopicSpec

SOURCE = "/pdz/notifications"

DEAD_LETTER_TOPIC = "pdz.notifications.delivery-dead-letter.v1"
DELIVERY_DEAD_LETTERED = "it.pdz.notifications.delivery.dead-lettered"

DeliveryChannel = Literal["email", "inbox", "webhook"]


class DeliveryDeadLettered(BaseModel):
    """A delivery failed for good after ``attempts`` attempts."""

    delivery_id: uuid.UUID
    event_id: str = Field(max_length=200, description="Id of the CloudEvent that was delivered")
    event_type: str = Field(max_length=200)
    channel: DeliveryChannel
    target: str = Field(
        max_length=200, description="Recipient subject, or webhook:<id> for a webhook endpoint"
    )
    ambito_code: str | None = Field(None, max_length=50)
    attempts: int = Field(ge=0)
    last_error: str | None = Field(None, max_length=2000)
    failed_at: datetime
    cloudevent: dict[str, Any] | None = Field(
        None, description="The structured-mode CloudEvent a webhook should have received"
    )


TOPICS = [
    TopicSpec(
        DEAD_LETTER_TOPIC,
        "notifications",
        "Consegne (webhook, e-mail) fallite definitivamente dopo tutti i tentativi",
        key="delivery id",
    ),
]

EVENTS = [
    EventSpec(
        DELIVERY_DEAD_LETTERED,
        DEAD_LETTER_TOPIC,
        DeliveryDeadLettered,
        "Consegna fallita definitivamente",
        consumers=(),
    ),
]
