"""The event consumer of the notifications service.

It listens to every topic of the catalogue that other services publish and hands *every* event
type to the rules engine: a rule added through the API for any catalogued event type works
without a new release. The default rules' types are also subscribed to explicitly, so they
keep working even if a contract module lost them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka import ConsumerRecord

from pdz_notifications.deliveries.events import on_event
from pdz_shared.contracts import indicators, plans
from pdz_shared.contracts.catalogue import EVENTS
from pdz_shared.db import SessionFactory
from pdz_shared.events.cloudevents import EventDecodeError, decode
from pdz_shared.events.inbox import EventConsumer, Handler, Outcome, handle_once
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.observability import EVENTS_CONSUMED, request_id_var, traceparent_var

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


class BatchConsumer(EventConsumer):
    """Handles the records of a partition in groups: one transaction and one offset commit per
    group instead of one each.

    Every event still gets its inbox row in the transaction of its deliveries, and the offset
    is committed only after that transaction, so a redelivery stays a no-op. A group that
    cannot be handled whole (an undecodable record, an unknown type, any error) is handled
    again record by record, exactly as the base class does (retries, dead letters).
    """

    batch_size = 50

    async def poll_once(self, stop: asyncio.Event, *, timeout_ms: int = 500) -> int:
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=500)
        handled = 0
        for tp, records in batches.items():
            for i in range(0, len(records), self.batch_size):
                if stop.is_set():
                    return handled
                group = records[i : i + self.batch_size]
                if await self._process_group(group):
                    for record in group:
                        if self.after_commit is not None:
                            await self.after_commit(record, Outcome("processed"))
                    await self._consumer.commit({tp: group[-1].offset + 1})
                    handled += len(group)
                    continue
                for record in group:
                    if stop.is_set():
                        return handled
                    outcome = await self._process(record, stop)
                    if outcome is None:  # stopping while retrying: do not commit
                        return handled
                    if self.after_commit is not None:
                        await self.after_commit(record, outcome)
                    await self._consumer.commit({tp: record.offset + 1})
                    handled += 1
        return handled

    async def _process_group(self, group: list[ConsumerRecord[Any, Any]]) -> bool:
        """True when the whole group was handled and committed in one transaction, each event
        new (a duplicate or anything unusual is left to the record-by-record path)."""
        if len(group) < 2:
            return False
        try:
            events = [decode(r.headers, r.value) for r in group]
        except EventDecodeError:
            return False
        if any(e.type not in self.handlers for e in events):
            return False
        try:
            async with self.factory() as session:
                for record, event in zip(group, events, strict=True):
                    handler = self.handlers[event.type]
                    rid = request_id_var.set(event.request_id)
                    tp = traceparent_var.set(event.traceparent)
                    structlog.contextvars.bind_contextvars(
                        request_id=event.request_id, event_id=event.id
                    )
                    try:
                        new = await handle_once(session, self.name, record.topic, event, handler)
                    finally:
                        request_id_var.reset(rid)
                        traceparent_var.reset(tp)
                        structlog.contextvars.unbind_contextvars("request_id", "event_id")
                    if not new:
                        await session.rollback()
                        return False
                await session.commit()
        except Exception as exc:
            self.log.info("event.group_fallback", error=repr(exc), size=len(group))
            return False
        EVENTS_CONSUMED.labels(self.service, self.name, "processed").inc(len(group))
        return True


def consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[EventConsumer]:
    topics, handlers = handled()
    return [
        BatchConsumer(
            service=SERVICE,
            name="events",
            topics=topics,
            handlers=handlers,
            factory=factory,
            kafka=kafka,
        ),
    ]
