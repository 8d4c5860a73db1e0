"""Events of the notifications service."""

from __future__ import annotations

from pdz_shared.contracts.spec import EventSpec, TopicSpec

SOURCE = "/pdz/notifications"

TOPICS: list[TopicSpec] = []

EVENTS: list[EventSpec] = []
