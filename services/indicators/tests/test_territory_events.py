"""Consuming plans' territory events: inbox idempotency, crash before commit, DLQ and replay."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text

from pdz_indicators.territories.events import HANDLERS
from pdz_shared.contracts import plans
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import EventConsumer, Handler, Outcome, PermanentEventError, replay_dlq
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.testing.plugin import Harness, consume, eventually, produce


def territory_event(code: str, version: int = 1, **kw: Any) -> CloudEvent:
    data = {
        "code": code,
        "name": kw.pop("name", code),
        "kind": kw.pop("kind", "comune"),
        "parent_codes": [],
        "ambito_code": "AMBITO-05-SEBINO",
        "istat_code": None,
        "version": version,
        "changed_at": datetime.now(UTC).isoformat(),
        **kw,
    }
    return CloudEvent.new(
        source=plans.SOURCE,
        type=plans.TERRITORY_CREATED if version == 1 else plans.TERRITORY_UPDATED,
        data=data,
        subject=code,
    )


class Run:
    """A consumer running in the background, recording each outcome."""

    def __init__(
        self,
        h: Harness,
        kafka: KafkaConfig,
        topic: str,
        name: str,
        handlers: dict[str, Handler] | None = None,
        crash_after: int | None = None,
    ):
        self.outcomes: list[str] = []
        self.crash_after = crash_after
        self.consumer = EventConsumer(
            service="indicators",
            name=name,
            topics=[topic],
            handlers=handlers or HANDLERS,
            factory=h.factory,
            kafka=kafka,
            max_attempts=2,
            base_backoff=0.01,
            after_commit=self._after,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.consumer.run(self.stop))

    async def _after(self, record: ConsumerRecord[Any, Any], outcome: Outcome) -> None:
        self.outcomes.append(outcome.status)
        if self.crash_after is not None and len(self.outcomes) >= self.crash_after:
            raise SimulatedCrash  # dies after the handler's commit, before the offset commit

    async def wait_for(self, n: int) -> None:
        await eventually(lambda: _ready(self, n))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(self.task, return_exceptions=True)


class SimulatedCrash(Exception):
    pass


async def _ready(run: Run, n: int) -> bool:
    if run.task.done():
        return True
    return len(run.outcomes) >= n


async def fresh_topic(kafka: KafkaConfig) -> str:
    topic = f"test.territory.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [topic])
    return topic


async def count(h: Harness, sql: str) -> int:
    async with h.factory() as s:
        return int((await s.execute(text(sql))).scalar_one())


async def test_event_updates_projection_and_keeps_newest(
    harness: Harness, kafka: KafkaConfig
) -> None:
    topic = await fresh_topic(kafka)
    run = Run(harness, kafka, topic, "t1")
    try:
        await produce(kafka, topic, territory_event("017085", 1, name="Iseo"), "017085")
        await produce(kafka, topic, territory_event("017085", 3, name="Iseo (BS)"), "017085")
        await produce(kafka, topic, territory_event("017085", 2, name="stale"), "017085")
        await run.wait_for(3)
    finally:
        await run.close()
    assert run.outcomes == ["processed"] * 3
    async with harness.factory() as s:
        row = (await s.execute(text("SELECT name, version FROM territory"))).one()
    assert tuple(row) == ("Iseo (BS)", 3)


async def test_same_event_delivered_twice_is_processed_once(
    harness: Harness, kafka: KafkaConfig
) -> None:
    topic = await fresh_topic(kafka)
    event = territory_event("017088", name="Marone")
    run = Run(harness, kafka, topic, "t2")
    try:
        await produce(kafka, topic, event, "017088")
        await produce(kafka, topic, event, "017088")
        await run.wait_for(2)
    finally:
        await run.close()
    assert run.outcomes == ["processed", "duplicate"]
    assert await count(harness, "SELECT count(*) FROM inbox") == 1
    assert await count(harness, "SELECT count(*) FROM territory") == 1


async def test_crash_between_commit_and_offset_commit_processes_once(
    harness: Harness, kafka: KafkaConfig
) -> None:
    topic = await fresh_topic(kafka)
    await produce(kafka, topic, territory_event("017002", name="Adro"), "017002")
    first = Run(harness, kafka, topic, "t3", crash_after=1)
    await first.wait_for(1)
    await asyncio.gather(first.task, return_exceptions=True)
    assert isinstance(first.task.exception(), SimulatedCrash)
    await first.consumer.stop()
    assert first.outcomes == ["processed"]

    second = Run(harness, kafka, topic, "t3")  # same group: the offset was never committed
    try:
        await second.wait_for(1)
    finally:
        await second.close()
    assert second.outcomes == ["duplicate"]
    assert await count(harness, "SELECT count(*) FROM territory") == 1
    assert await count(harness, "SELECT count(*) FROM inbox") == 1


async def test_poison_goes_to_dlq_and_replays(harness: Harness, kafka: KafkaConfig) -> None:
    topic = await fresh_topic(kafka)
    good = territory_event("017143", name="Sulzano")
    bad_payload = territory_event("017999", kind="planet")
    await produce(kafka, topic, bad_payload, "017999")
    await produce(kafka, topic, good, "017143", headers=[("ce_id", b"x")])  # not a CloudEvent

    async def old_code(session: Any, event: CloudEvent) -> None:
        raise PermanentEventError("contract v2 not understood by this release")

    await produce(kafka, topic, good, "017143")
    run = Run(
        harness,
        kafka,
        topic,
        "t4",
        handlers={**HANDLERS, plans.TERRITORY_CREATED: _only(old_code, good.id)},
    )
    try:
        await run.wait_for(3)
    finally:
        await run.close()
    assert run.outcomes == ["dead-lettered"] * 3
    dead = await consume(kafka, f"{topic}.dlq", count=3)
    assert len(dead) == 3
    classes = sorted(dict(r.headers)["pdz_dlq_error_class"].decode() for r in dead)
    assert classes == ["EventDecodeError", "PermanentEventError", "ValidationError"]
    assert all(dict(r.headers)["pdz_dlq_original_topic"].decode() == topic for r in dead)
    assert await count(harness, "SELECT count(*) FROM territory") == 0

    assert await replay_dlq(kafka, f"{topic}.dlq", idle_ms=1500) == 3
    fixed = Run(harness, kafka, topic, "t4")  # the new release, same consumer group
    try:
        await fixed.wait_for(3)
    finally:
        await fixed.close()
    assert sorted(fixed.outcomes) == ["dead-lettered", "dead-lettered", "processed"]
    async with harness.factory() as s:
        codes = (await s.execute(text("SELECT code FROM territory"))).scalars().all()
    assert codes == ["017143"]


def _only(handler: Handler, event_id: str) -> Handler:
    async def wrapped(session: Any, event: CloudEvent) -> None:
        if event.id == event_id:
            await handler(session, event)
        else:
            await HANDLERS[event.type](session, event)

    return wrapped


@pytest.mark.parametrize("attempts", [2])
async def test_transient_failure_is_retried_then_succeeds(
    harness: Harness, kafka: KafkaConfig, attempts: int
) -> None:
    topic = await fresh_topic(kafka)
    calls = 0

    async def flaky(session: Any, event: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        if calls < attempts + 3:
            raise ConnectionError("database restarting")
        await HANDLERS[event.type](session, event)

    run = Run(harness, kafka, topic, "t5", handlers={plans.TERRITORY_CREATED: flaky})
    try:
        await produce(kafka, topic, territory_event("017110", name="Paratico"), "017110")
        await run.wait_for(1)
    finally:
        await run.close()
    assert run.outcomes == ["processed"] and calls == attempts + 3
