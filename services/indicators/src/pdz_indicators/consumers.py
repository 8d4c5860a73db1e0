"""The event consumers of the indicators service."""

from __future__ import annotations

from pdz_indicators.territories.events import HANDLERS as TERRITORY_HANDLERS
from pdz_shared.contracts import plans
from pdz_shared.db import SessionFactory
from pdz_shared.events.inbox import EventConsumer
from pdz_shared.events.kafka import KafkaConfig


def consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[EventConsumer]:
    return [
        EventConsumer(
            service="indicators",
            name="territories",
            topics=[plans.TERRITORY_TOPIC],
            handlers=TERRITORY_HANDLERS,
            factory=factory,
            kafka=kafka,
        ),
    ]
