"""The consumer handler: any event the rules or webhooks may care about becomes deliveries."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.deliveries import service
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import PermanentEventError


async def on_event(session: AsyncSession, event: CloudEvent) -> None:
    ambito = event.data.get("ambito_code")
    if ambito is not None and not isinstance(ambito, str):
        raise PermanentEventError(f"ambito_code must be a string, got {type(ambito).__name__}")
    planned = await service.plan(session, event)
    service.log.info(
        "event.planned",
        event_type=event.type,
        event_id=event.id,
        created=planned.created,
        skipped=planned.skipped,
        digested=planned.digested,
    )
