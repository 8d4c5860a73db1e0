"""The event consumer of the notifications service.

It listens to every topic of the catalogue that other services publish and hands *every* event
type to the rules engine: a rule added through the API for any catalogued event type works
without a new release. The default rules' types are also subscribed to explicitly, so they
keep working even if a contract module lost them.
"""

from __future__ import annotations

from pdz_notifications.deliveries.events import on_event, on_events
from pdz_shared.contracts import indicators, plans
from pdz_shared.contracts.catalogue import EVENTS
from pdz_shared.db import SessionFactory
from pdz_shared.events.groups import BatchConsumer
from pdz_shared.events.inbox import EventConsumer, Handler
from pdz_shared.events.kafka import KafkaConfig

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
