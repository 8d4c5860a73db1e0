"""The outbox relay against the real broker: binary CloudEvents, per-key order, several relays."""

import asyncio
import json
import uuid

from pdz_shared.events.kafka import KafkaConfig, ensure_topics, make_producer
from pdz_shared.events.outbox import OutboxRelay, emit, republish_since
from pdz_shared.observability import request_id_var, traceparent_var
from pdz_shared.testing.plugin import Harness, consume


def relay(h: Harness, kafka: KafkaConfig) -> OutboxRelay:
    return OutboxRelay(
        service="plans", factory=h.factory, kafka=kafka, database_url=h.database_url, batch_size=7
    )


async def test_relay_publishes_binary_cloudevents_in_key_order(
    harness: Harness, kafka: KafkaConfig
) -> None:
    topic = f"test.relay.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [topic])
    keys = [f"agg-{i}" for i in range(10)]
    request_id_var.set("req-42")
    traceparent_var.set("00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    async with harness.factory() as s:
        for seq in range(20):
            for key in keys:
                await emit(
                    s,
                    topic=topic,
                    type="it.pdz.test.changed",
                    source="/pdz/test",
                    key=key,
                    data={"seq": seq, "key": key},
                    subject=key,
                )
        await s.commit()

    relays = [relay(harness, kafka) for _ in range(3)]
    producers = [make_producer(kafka) for _ in relays]
    for p in producers:
        await p.start()

    async def drain(r: OutboxRelay, p: object) -> int:
        total = 0
        while n := await r.publish_pending(p):
            total += n
        return total

    try:
        counts = await asyncio.gather(
            *(drain(r, p) for r, p in zip(relays, producers, strict=True))
        )
    finally:
        for p in producers:
            await p.stop()
    assert sum(counts) == 200

    records = await consume(kafka, topic, count=200)
    assert len(records) == 200
    by_key: dict[str, list[int]] = {}
    for r in records:
        headers = {k: v.decode() for k, v in r.headers}
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_type"] == "it.pdz.test.changed"
        assert headers["ce_source"] == "/pdz/test"
        assert headers["content-type"] == "application/json"
        assert headers["ce_requestid"] == "req-42"
        assert headers["traceparent"].split("-")[1] == "a" * 32
        assert headers["ce_subject"] == r.key.decode()
        data = json.loads(r.value)
        by_key.setdefault(r.key.decode(), []).append(data["seq"])
    assert by_key == {k: list(range(20)) for k in keys}
    assert len({dict(r.headers)["ce_id"] for r in records}) == 200


async def test_republish_after_broker_loss(harness: Harness, kafka: KafkaConfig) -> None:
    topic = f"test.republish.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [topic])
    async with harness.factory() as s:
        row = await emit(
            s, topic=topic, type="it.pdz.test.changed", source="/pdz/test", key="k", data={"n": 1}
        )
        await s.commit()
    r = relay(harness, kafka)
    p = make_producer(kafka)
    await p.start()
    try:
        assert await r.publish_pending(p) == 1
        assert await r.publish_pending(p) == 0
        assert row.time is not None
        assert await republish_since(harness.factory, row.time) == 1
        assert await r.publish_pending(p) == 1
    finally:
        await p.stop()
    records = await consume(kafka, topic, count=2)
    assert len({dict(x.headers)["ce_id"] for x in records}) == 1 and len(records) == 2
