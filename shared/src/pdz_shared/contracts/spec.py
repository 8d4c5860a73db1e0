"""How a topic and an event are described in the catalogue."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel


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
