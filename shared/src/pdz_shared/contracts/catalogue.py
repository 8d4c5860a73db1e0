"""The catalogue of topics and events; the AsyncAPI document is generated from it."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel

from pdz_shared.contracts import plans


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    description: str
    key: str
    partitions: int = 3
    retention_days: int = 14


@dataclass(frozen=True)
class EventSpec:
    type: str  # the CloudEvents type
    topic: str
    payload: builtins.type[BaseModel]
    summary: str
    consumers: tuple[str, ...] = ()


TOPICS: dict[str, TopicSpec] = {
    t.name: t
    for t in (
        TopicSpec(
            plans.TERRITORY_TOPIC,
            "plans",
            "Unità territoriali (regione, ATS, ASST, distretto, ambito, comune)",
            key="territory code",
        ),
        TopicSpec(
            "asst.dimissioni.v1",
            "asst",
            "Dimissioni protette inviate dai sistemi ospedalieri delle ASST "
            "(Bundle FHIR R4 come CloudEvent)",
            key="encounter identifier",
        ),
    )
}

EVENTS: list[EventSpec] = [
    EventSpec(
        plans.TERRITORY_CREATED,
        plans.TERRITORY_TOPIC,
        plans.TerritoryChanged,
        "Unità territoriale creata",
        consumers=("indicators",),
    ),
    EventSpec(
        plans.TERRITORY_UPDATED,
        plans.TERRITORY_TOPIC,
        plans.TerritoryChanged,
        "Unità territoriale modificata",
        consumers=("indicators",),
    ),
]


def event_spec(event_type: str) -> EventSpec:
    for spec in EVENTS:
        if spec.type == event_type:
            return spec
    raise KeyError(event_type)


def topics_of(producer: str) -> list[str]:
    return [t.name for t in TOPICS.values() if t.producer == producer]
