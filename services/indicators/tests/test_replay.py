"""Casework events through a real consumer: replaying or re-publishing never changes a value."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import scenario as sc
from aiokafka import ConsumerRecord
from sqlalchemy import text
from test_values import EVM_SHARE

from pdz_indicators.facts.events import HANDLERS
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import EventConsumer, Outcome
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.testing.plugin import Harness, eventually, produce


async def snapshot(h: Harness) -> list[tuple[Any, ...]]:
    async with h.factory() as s:
        rows = await s.execute(
            text(
                "SELECT territory_code, period, value, reason, inputs FROM indicator_value "
                "ORDER BY 1, 2"
            )
        )
        facts = (await s.execute(text("SELECT count(*) FROM fact"))).scalar_one()
        return [tuple(r) for r in rows] + [("facts", facts)]


async def test_replayed_and_republished_events_change_nothing(
    harness: Harness, kafka: KafkaConfig
) -> None:
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    await sc.deliver(harness, sc.indicator("EVM-AS", EVM_SHARE, sc.series(50, 75, 100)))
    topic = f"test.casework.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [topic])
    outcomes: list[str] = []

    async def after(record: ConsumerRecord[Any, Any], outcome: Outcome) -> None:
        outcomes.append(outcome.status)

    consumer = EventConsumer(
        service="indicators",
        name=f"facts-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers=HANDLERS,
        factory=harness.factory,
        kafka=kafka,
        after_commit=after,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    events = [
        sc.evm(sc.ISEO, date(2025, 3, 10), True),
        sc.evm(sc.ISEO, date(2025, 3, 20), False),
        sc.evm(sc.MARONE, date(2025, 5, 5), False),
    ]
    try:
        for e in events:
            await produce(kafka, topic, e, str(e.data["case_id"]))

        async def seen(n: int) -> bool:
            return len(outcomes) >= n

        await eventually(lambda: seen(3))
        before = await snapshot(harness)
        assert ("AMBITO-05-SEBINO", "2025") in {(r[0], r[1]) for r in before[:-1]}
        # The broker redelivers the same events (same ids) ...
        for e in events:
            await produce(kafka, topic, e, str(e.data["case_id"]))
        # ... and casework re-publishes one with a new event id (same evm_id).
        again = CloudEvent.new(source=events[0].source, type=events[0].type, data=events[0].data)
        await produce(kafka, topic, again, str(again.data["case_id"]))
        await eventually(lambda: seen(7))
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
    # Keys spread over partitions, so only the first three are ordered before the rest.
    assert outcomes[:3] == ["processed"] * 3
    assert sorted(outcomes[3:]) == ["duplicate"] * 3 + ["processed"]
    after_replay = await snapshot(harness)
    assert after_replay == before
    assert after_replay[-1] == ("facts", 3)
    a5 = {(r[0], r[1]): r[2] for r in after_replay[:-1]}
    assert str(a5[("AMBITO-05-SEBINO", "2025")]) == "33.333333"
