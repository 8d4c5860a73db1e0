"""Events of the indicators service."""

from __future__ import annotations

from pdz_shared.contracts.spec import EventSpec, TopicSpec

SOURCE = "/pdz/indicators"

TOPICS: list[TopicSpec] = []

EVENTS: list[EventSpec] = []
