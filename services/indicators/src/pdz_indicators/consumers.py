"""The event consumers of the indicators service."""

from __future__ import annotations

from pdz_indicators.facts.events import GROUP_HANDLERS as FACT_GROUP_HANDLERS
from pdz_indicators.facts.events import HANDLERS as FACT_HANDLERS
from pdz_indicators.facts.events import POPULATION_HANDLERS
from pdz_indicators.targets.events import HANDLERS as PLAN_HANDLERS
from pdz_indicators.territories.events import HANDLERS as TERRITORY_HANDLERS
from pdz_shared.contracts import casework, plans
from pdz_shared.db import SessionFactory
from pdz_shared.events.groups import BatchConsumer
from pdz_shared.events.inbox import EventConsumer
from pdz_shared.events.kafka import KafkaConfig

CASEWORK_TOPICS = [
    casework.CASE_TOPIC,
    casework.EVM_TOPIC,
    casework.PAI_TOPIC,
    casework.DISCHARGE_TOPIC,
    casework.SLA_TOPIC,
]


def consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[EventConsumer]:
    return [
        EventConsumer(
            service="indicators",
            name="territories",
            topics=[plans.TERRITORY_TOPIC],
            handlers={**TERRITORY_HANDLERS, **POPULATION_HANDLERS},
            factory=factory,
            kafka=kafka,
            quiet=True,
        ),
        EventConsumer(
            service="indicators",
            name="plans",
            topics=[plans.PLAN_TOPIC, plans.OBJECTIVE_TOPIC, plans.INDICATOR_DEFINITION_TOPIC],
            handlers=PLAN_HANDLERS,
            factory=factory,
            kafka=kafka,
            quiet=True,
        ),
        # Case events come by the hundred per second under load: in groups, one transaction
        # and one refresh of each indicator per group.
        BatchConsumer(
            group_handlers=FACT_GROUP_HANDLERS,
            service="indicators",
            name="facts",
            topics=CASEWORK_TOPICS,
            handlers=FACT_HANDLERS,
            factory=factory,
            kafka=kafka,
        ),
    ]
