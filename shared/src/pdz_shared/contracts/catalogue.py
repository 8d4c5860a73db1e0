"""The catalogue of topics and events; the AsyncAPI document is generated from it.

Each producing service describes its own topics and events in ``pdz_shared.contracts.<svc>``.
"""

from __future__ import annotations

from pdz_shared.contracts import casework, indicators, notifications, plans
from pdz_shared.contracts.spec import EventSpec, TopicSpec

_MODULES = (plans, indicators, casework, notifications)

TOPICS: dict[str, TopicSpec] = {t.name: t for m in _MODULES for t in m.TOPICS}
EVENTS: list[EventSpec] = [e for m in _MODULES for e in m.EVENTS]


def event_spec(event_type: str) -> EventSpec:
    for spec in EVENTS:
        if spec.type == event_type:
            return spec
    raise KeyError(event_type)


def topics_of(producer: str) -> list[str]:
    return [t.name for t in TOPICS.values() if t.producer == producer]
