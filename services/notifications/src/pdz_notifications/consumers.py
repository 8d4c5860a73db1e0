"""The event consumer of the notifications service.

It listens to every topic of the catalogue that other services publish and hands *every* event
type to the rules engine: a rule added through the API for any catalogued event type works
without a new release. The default rules' types are also subscribed to explicitly, so they
keep working even if a contract module lost them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.deliveries.events import on_event, on_events
from pdz_shared.contracts import indicators, plans
from pdz_shared.contracts.catalogue import EVENTS
from pdz_shared.db import SessionFactory
from pdz_shared.events.cloudevents import CloudEvent, EventDecodeError, decode
from pdz_shared.events.inbox import EventConsumer, Handler, Outcome
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.observability import EVENTS_CONSUMED

SERVICE = "notifications"
FALLBACK_TOPICS = {
    indicators.TARGET_AT_RISK: indicators.TARGET_TOPIC,
    indicators.TARGET_ACHIEVED: indicators.TARGET_TOPIC,
    plans.PLAN_PUBLISHED: plans.PLAN_TOPIC,
}


def handled() -> tuple[list[str], dict[str, Handler]]:
    """Topics to subscribe to and a handler per event type (all of them go to the rules)."""
    events = {e.type: e.topic for e in EVENTS if not e.topic.startswith("pdz.notifications.")}
    for event_type, topic in FALLBACK_TOPICS.items():
        events.setdefault(event_type, topic)
    topics = sorted({t for t in events.values() if t.startswith("pdz.")})
    handlers: dict[str, Handler] = {t: on_event for t in events}
    return topics, handlers


GroupHandler = Callable[[AsyncSession, list[CloudEvent]], Awaitable[None]]

# The inbox rows of a whole group in one statement; the events already there are left out.
_CLAIM_MANY = text("""
    INSERT INTO inbox (consumer, event_id, event_type, topic, processed_at)
    SELECT :consumer, e.event_id, e.event_type, e.topic, now()
    FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:topics AS text[]))
         AS e(event_id, event_type, topic)
    ON CONFLICT DO NOTHING
    RETURNING event_id
""")


class BatchConsumer(EventConsumer):
    """Handles the records of a partition in groups: one transaction and one offset commit per
    group instead of one each.

    In the group's transaction: the inbox rows of all its events (one statement), then the
    group handler for the new ones (the events already in the inbox are duplicates, left out).
    The offset is committed only after that transaction, so a redelivery stays a no-op. A group
    that cannot be handled whole (an undecodable record, a type without a group handler, any
    error) is handled again record by record, exactly as the base class does (retries, dead
    letters).
    """

    batch_size = 100

    def __init__(self, *, group_handlers: dict[Handler, GroupHandler], **kw: Any) -> None:
        super().__init__(**kw)
        self.group_handlers = group_handlers

    async def poll_once(self, stop: asyncio.Event, *, timeout_ms: int = 500) -> int:
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=500)
        handled = 0
        for tp, records in batches.items():
            for i in range(0, len(records), self.batch_size):
                if stop.is_set():
                    return handled
                group = records[i : i + self.batch_size]
                outcomes = await self._process_group(group)
                if outcomes is None:
                    done, committed = await self._one_by_one(tp, group, stop)
                    handled += done
                    if done < len(group) and stop.is_set():
                        return handled
                else:
                    if self.after_commit is not None:
                        for record, outcome in zip(group, outcomes, strict=True):
                            await self.after_commit(record, outcome)
                    handled += len(group)
                    committed = await self.commit(tp, group[-1].offset + 1)
                if not committed:
                    break  # the partition went to another member: it starts from the commit
        return handled

    async def _one_by_one(
        self, tp: TopicPartition, group: list[ConsumerRecord[Any, Any]], stop: asyncio.Event
    ) -> tuple[int, bool]:
        """The base class's path: (records handled, whether every offset commit went through)."""
        done = 0
        for record in group:
            if stop.is_set():
                return done, True
            outcome = await self._process(record, stop)
            if outcome is None:  # stopping while retrying: do not commit
                return done, True
            if self.after_commit is not None:
                await self.after_commit(record, outcome)
            done += 1
            if not await self.commit(tp, record.offset + 1):
                return done, False
        return done, True

    async def _process_group(self, group: list[ConsumerRecord[Any, Any]]) -> list[Outcome] | None:
        """The outcome of each record when the whole group was handled and committed in one
        transaction; None when it must be handled record by record."""
        if len(group) < 2:
            return None
        try:
            events = [decode(r.headers, r.value) for r in group]
        except EventDecodeError:
            return None
        handlers = {self.handlers.get(e.type) for e in events}
        handler = handlers.pop() if len(handlers) == 1 else None
        if handler is None or handler not in self.group_handlers:
            return None
        try:
            async with self.factory() as session:
                claimed = await session.execute(
                    _CLAIM_MANY,
                    {
                        "consumer": self.name,
                        "ids": [e.id for e in events],
                        "types": [e.type for e in events],
                        "topics": [r.topic for r in group],
                    },
                )
                new_ids = {row[0] for row in claimed}
                new: list[CloudEvent] = []
                for event in events:
                    if event.id in new_ids:
                        new_ids.discard(event.id)  # a second copy in the group is a duplicate
                        new.append(event)
                if new:
                    await self.group_handlers[handler](session, new)
                await session.commit()
        except Exception as exc:
            self.log.info("event.group_fallback", error=repr(exc), size=len(group))
            return None
        fresh = {id(e) for e in new}
        outcomes = [Outcome("processed" if id(e) in fresh else "duplicate") for e in events]
        EVENTS_CONSUMED.labels(self.service, self.name, "processed").inc(len(new))
        if len(new) < len(events):
            EVENTS_CONSUMED.labels(self.service, self.name, "duplicate").inc(len(events) - len(new))
        return outcomes


def consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[EventConsumer]:
    topics, handlers = handled()
    return [
        BatchConsumer(
            group_handlers={on_event: on_events},
            service=SERVICE,
            name="events",
            topics=topics,
            handlers=handlers,
            factory=factory,
            kafka=kafka,
        ),
    ]
