"""A consumer of quiet topics does not poll the broker at the devstack's short fetch wait."""

from __future__ import annotations

from typing import cast

from pdz_shared.db import SessionFactory
from pdz_shared.events.inbox import QUIET_FETCH_WAIT_MS, EventConsumer
from pdz_shared.events.kafka import KafkaConfig

FAST = KafkaConfig("127.0.0.1:9092", fetch_max_wait_ms=20)


def consumer(kafka: KafkaConfig, *, quiet: bool) -> EventConsumer:
    return EventConsumer(
        service="test",
        name="quiet" if quiet else "busy",
        topics=["t"],
        handlers={},
        factory=cast(SessionFactory, None),
        kafka=kafka,
        quiet=quiet,
    )


def test_a_quiet_consumer_waits_longer_per_fetch() -> None:
    assert consumer(FAST, quiet=True).kafka.fetch_max_wait_ms == QUIET_FETCH_WAIT_MS
    assert consumer(FAST, quiet=False).kafka.fetch_max_wait_ms == 20


def test_a_longer_configured_wait_is_kept() -> None:
    slow = KafkaConfig("127.0.0.1:9092", fetch_max_wait_ms=2000)
    assert consumer(slow, quiet=True).kafka.fetch_max_wait_ms == 2000
