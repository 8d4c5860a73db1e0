"""The worker's consumer handles what it fetches in groups, one transaction and one commit each."""

import asyncio
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from pdz_notifications.consumers import consumers
from pdz_shared.events.inbox import EventConsumer, Outcome
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.testing.plugin import Harness, eventually, produce

from .helpers import SEBINO, discharge_event, fresh_topic, handle, put_recipient, rows


async def _consume(
    h: Harness,
    kafka: KafkaConfig,
    topic: str,
    n: int,
    grouped: list[int] | None = None,
    partitions: list[set[int]] | None = None,
    commits: list[dict[TopicPartition, int]] | None = None,
) -> list[str]:
    """Runs the worker's consumer on ``topic`` until ``n`` records are handled (``grouped``
    receives the size of each group handled in one transaction, ``partitions`` the
    partitions of its records, ``commits`` each offset commit)."""
    outcomes: list[str] = []

    async def after(record: ConsumerRecord[Any, Any], outcome: Outcome) -> None:
        outcomes.append(outcome.status)

    (consumer,) = consumers(h.factory, kafka)
    assert isinstance(consumer, EventConsumer)
    consumer.topics, consumer.after_commit = [topic], after
    consumer.base_backoff = 0.01
    whole = consumer._process_group  # type: ignore[attr-defined]

    async def process_group(group: list[ConsumerRecord[Any, Any]]) -> list[Outcome] | None:
        result: list[Outcome] | None = await whole(group)
        if result is not None and grouped is not None:
            grouped.append(len(group))
        if result is not None and partitions is not None:
            partitions.append({r.partition for r in group})
        return result

    consumer._process_group = process_group  # type: ignore[attr-defined]
    commit = consumer.commit

    async def recorded_commit(offsets: dict[TopicPartition, int]) -> bool:
        if commits is not None:
            commits.append(dict(offsets))
        return await commit(offsets)

    consumer.commit = recorded_commit  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:

        async def done() -> bool:
            return task.done() or len(outcomes) >= n

        await eventually(done)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
    return outcomes


async def test_a_group_with_duplicates_creates_each_delivery_once(
    harness: Harness, kafka: KafkaConfig
) -> None:
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    topic = await fresh_topic(kafka)
    first, second, seen = discharge_event(), discharge_event(), discharge_event()
    assert await handle(harness, seen)  # already in the inbox: a redelivery
    for event in (first, second, first, seen):  # one key: one partition, one group
        await produce(kafka, topic, event, "one-key")
    grouped: list[int] = []
    outcomes = await _consume(harness, kafka, topic, 4, grouped)
    assert outcomes == ["processed", "processed", "duplicate", "duplicate"]
    assert sum(grouped) >= 2  # (the broker may hand the first record over alone)
    deliveries = await rows(
        harness, "SELECT event_id, channel FROM delivery WHERE recipient = 'op-anna'"
    )
    assert sorted(tuple(d) for d in deliveries) == sorted(
        (e.id, c) for e in (first, second, seen) for c in ("email", "inbox")
    )
    inbox = await rows(
        harness, "SELECT event_id FROM inbox WHERE consumer = 'notifications.events'"
    )
    assert {r[0] for r in inbox} == {first.id, second.id, seen.id}


async def test_a_group_with_a_broken_event_is_handled_one_by_one(
    harness: Harness, kafka: KafkaConfig
) -> None:
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    topic = await fresh_topic(kafka)
    good, broken, later = discharge_event(), discharge_event(), discharge_event()
    broken.data["ambito_code"] = 42  # breaks the contract: a dead letter
    for event in (good, broken, later):
        await produce(kafka, topic, event, "one-key")
    outcomes = await _consume(harness, kafka, topic, 3)
    assert outcomes == ["processed", "dead-lettered", "processed"]
    events = await rows(harness, "SELECT DISTINCT event_id FROM delivery")
    assert {r[0] for r in events} == {good.id, later.id}


async def test_a_group_spans_partitions_and_commits_each(
    harness: Harness, kafka: KafkaConfig
) -> None:
    """What one poll fetched from several partitions is one group: one transaction, then one
    commit of every partition's next offset (a poll no longer costs a transaction per
    partition, which made records wait for all of them)."""
    await put_recipient(
        harness, "op-anna", email="anna@sebino.it", roles=["pua_operator"], ambiti=[SEBINO]
    )
    topic = await fresh_topic(kafka)
    events = [discharge_event() for _ in range(24)]
    for i, event in enumerate(events):
        await produce(kafka, topic, event, f"key-{i}")  # keys spread over the 3 partitions
    partitions: list[set[int]] = []
    commits: list[dict[TopicPartition, int]] = []
    outcomes = await _consume(
        harness, kafka, topic, len(events), partitions=partitions, commits=commits
    )
    assert outcomes == ["processed"] * len(events)
    assert max(len(p) for p in partitions) > 1
    deliveries = await rows(harness, "SELECT DISTINCT event_id FROM delivery")
    assert {r[0] for r in deliveries} == {e.id for e in events}

    assert len(commits) < len(events)  # groups, not one commit per record
    final: dict[TopicPartition, int] = {}
    for offsets in commits:
        final |= offsets
    assert sum(final.values()) == len(events)  # every partition committed up to its end
