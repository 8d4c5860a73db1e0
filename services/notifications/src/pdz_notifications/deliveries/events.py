"""The consumer handler: any event the rules or webhooks may care about becomes deliveries."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.deliveries import service
from pdz_shared.contracts.catalogue import event_spec
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import PermanentEventError


def check_contract(event: CloudEvent) -> None:
    """An event of a catalogued type must match its payload schema, else it goes to the DLQ.

    (A pydantic ValidationError is a permanent error for the consumer.) Messages are rendered
    from the payload, so a broken one would otherwise become a misleading message.
    """
    try:
        spec = event_spec(event.type)
    except KeyError:
        spec = None
    if spec is not None:
        spec.payload.model_validate(event.data)
    ambito = event.data.get("ambito_code")
    if ambito is not None and not isinstance(ambito, str):
        raise PermanentEventError(f"ambito_code must be a string, got {type(ambito).__name__}")


async def on_event(session: AsyncSession, event: CloudEvent) -> None:
    await on_events(session, [event])


async def on_events(session: AsyncSession, events: list[CloudEvent]) -> None:
    """``on_event`` for several events in one transaction (the consumer's groups): any broken
    event fails them all, and the consumer then handles them one by one."""
    for event in events:
        check_contract(event)
    for event, planned in zip(events, await service.plan_many(session, events), strict=True):
        service.log.info(
            "event.planned",
            event_type=event.type,
            event_id=event.id,
            created=planned.created,
            skipped=planned.skipped,
            digested=planned.digested,
        )
