"""Idempotent consumers: an inbox row per (consumer, event id) in the handler's transaction.

Offsets are committed only after the handler's transaction has committed, so a crash between
the two redelivers the event, and the inbox row turns the redelivery into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from pydantic import ValidationError
from sqlalchemy import Column, DateTime, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.db import SessionFactory, utcnow
from pdz_shared.events.cloudevents import CloudEvent, EventDecodeError, decode
from pdz_shared.events.kafka import KafkaConfig, make_consumer, make_producer
from pdz_shared.observability import EVENTS_CONSUMED, request_id_var, traceparent_var

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


class InboxMessage(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=200)
    event_type: str = Field(max_length=200)
    topic: str = Field(max_length=200)
    processed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class PermanentEventError(Exception):
    """The event can never be handled (bad payload, broken contract): it goes to the DLQ."""


class TransientEventError(Exception):
    """The handler may succeed later (a dependency is down): it is retried."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(
        exc,
        TransientEventError
        | OperationalError
        | InterfaceError
        # A statement run on the driver's connection (db.driver), as SQLAlchemy would see it:
        | asyncpg.InterfaceError
        | asyncpg.PostgresConnectionError
        | OSError
        | TimeoutError
        | ConnectionError,
    ):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PermanentEventError | EventDecodeError | ValidationError)


QUIET_FETCH_WAIT_MS = 500

_CLAIM = text("""
    INSERT INTO inbox (consumer, event_id, event_type, topic, processed_at)
    VALUES (:consumer, :event_id, :event_type, :topic, now())
    ON CONFLICT DO NOTHING
""")


async def handle_once(
    session: AsyncSession, consumer: str, topic: str, event: CloudEvent, handler: Handler
) -> bool:
    """Runs ``handler`` unless this consumer already processed the event. Caller commits."""
    result = await session.execute(
        _CLAIM,
        {"consumer": consumer, "event_id": event.id, "event_type": event.type, "topic": topic},
    )
    if not getattr(result, "rowcount", 0):
        return False
    await handler(session, event)
    return True


@dataclass
class Outcome:
    status: str  # processed | duplicate | ignored | dead-lettered
    error: str | None = None


class EventConsumer:
    """Consumes topics with one handler per CloudEvent type, idempotently."""

    def __init__(
        self,
        *,
        service: str,
        name: str,
        topics: list[str],
        handlers: dict[str, Handler],
        factory: SessionFactory,
        kafka: KafkaConfig,
        max_attempts: int = 5,
        base_backoff: float = 0.1,
        after_commit: Callable[[ConsumerRecord[Any, Any], Outcome], Awaitable[None]] | None = None,
        quiet: bool = False,
    ) -> None:
        """``quiet``: topics with a few records a day (territories, plans). The embedded broker
        answers a fetch only when its wait is over, so the devstack polls every
        ``PDZ_KAFKA_FETCH_MAX_WAIT_MS`` (20 ms); a quiet consumer waits at least
        ``QUIET_FETCH_WAIT_MS`` per fetch instead (Kafka's default), which costs the broker and
        the worker far less and such events a fraction of a second."""
        if quiet and kafka.fetch_max_wait_ms < QUIET_FETCH_WAIT_MS:
            kafka = dataclasses.replace(kafka, fetch_max_wait_ms=QUIET_FETCH_WAIT_MS)
        self.service = service
        self.name = f"{service}.{name}"
        self.topics = topics
        self.handlers = handlers
        self.factory = factory
        self.kafka = kafka
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.after_commit = after_commit
        self.log = structlog.get_logger("pdz.consumer").bind(consumer=self.name)
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: Any = None

    async def start(self) -> None:
        self._producer = make_producer(self.kafka)
        await self._producer.start()
        self._consumer = make_consumer(self.kafka, *self.topics, group_id=self.name)
        await self._consumer.start()

    async def stop(self) -> None:
        """Leaves without committing anything beyond what was handled."""
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            while not stop.is_set():
                await self.poll_once(stop, timeout_ms=500)
        finally:
            await self.stop()

    async def poll_once(self, stop: asyncio.Event, *, timeout_ms: int = 500) -> int:
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=500)
        handled = 0
        for tp, records in batches.items():
            done, _ = await self.handle_each(tp, records, stop)
            handled += done
            if stop.is_set():
                return handled
        return handled

    async def handle_each(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], stop: asyncio.Event
    ) -> tuple[int, bool]:
        """Handles a partition's records one by one, committing each offset after its
        transaction: (records handled, False when a commit was refused because the partition
        went to another member, which starts from the last commit)."""
        done = 0
        for record in records:
            if stop.is_set():
                return done, True
            outcome = await self._process(record, stop)
            if outcome is None:  # stopping while retrying: do not commit
                return done, True
            if self.after_commit is not None:
                await self.after_commit(record, outcome)
            done += 1
            if not await self.commit({tp: record.offset + 1}):
                return done, False
        return done, True

    async def commit(self, offsets: dict[TopicPartition, int]) -> bool:
        """Commits the next offset of each partition (the handlers' transaction has committed).
        False when the group rebalanced meanwhile (a member left, or the broker restarted and
        lost the group): the partitions' new owners start from the last commit and the inbox
        drops what was already handled, so nothing is lost or done twice; this consumer goes on
        polling."""
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            self.log.warning(
                "consumer.commit_refused", partitions=[str(tp) for tp in offsets], error=repr(exc)
            )
            return False
        return True

    async def _process(
        self,
        record: ConsumerRecord[Any, Any],
        stop: asyncio.Event,
    ) -> Outcome | None:
        try:
            event = decode(record.headers, record.value)
        except EventDecodeError as exc:
            await self._dead_letter(record, exc)
            return Outcome("dead-lettered", str(exc))
        handler = self.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(self.service, self.name, "ignored").inc()
            return Outcome("ignored")
        rid = request_id_var.set(event.request_id)
        tp = traceparent_var.set(event.traceparent)
        structlog.contextvars.bind_contextvars(request_id=event.request_id, event_id=event.id)
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    async with self.factory() as session:
                        done = await handle_once(session, self.name, record.topic, event, handler)
                        await session.commit()
                    status = "processed" if done else "duplicate"
                    EVENTS_CONSUMED.labels(self.service, self.name, status).inc()
                    return Outcome(status)
                except Exception as exc:
                    if is_permanent(exc):
                        await self._dead_letter(record, exc)
                        return Outcome("dead-lettered", str(exc))
                    transient = is_transient(exc)
                    if not transient and attempt >= self.max_attempts:
                        await self._dead_letter(record, exc)
                        return Outcome("dead-lettered", str(exc))
                    delay = min(self.base_backoff * 2 ** min(attempt, 8), 30.0)
                    self.log.warning(
                        "event.retry",
                        error=repr(exc),
                        attempt=attempt,
                        transient=transient,
                        retry_in=delay,
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await stop.wait()
                    if stop.is_set():
                        return None
        finally:
            request_id_var.reset(rid)
            traceparent_var.reset(tp)
            structlog.contextvars.unbind_contextvars("request_id", "event_id")

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], exc: BaseException) -> None:
        headers = [(k, v) for k, v in (record.headers or []) if not k.startswith("pdz_dlq_")]
        headers += [
            ("pdz_dlq_error", str(exc)[:2000].encode()),
            ("pdz_dlq_error_class", type(exc).__name__.encode()),
            ("pdz_dlq_consumer", self.name.encode()),
            ("pdz_dlq_original_topic", record.topic.encode()),
            ("pdz_dlq_original_partition", str(record.partition).encode()),
            ("pdz_dlq_original_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers
        )
        EVENTS_CONSUMED.labels(self.service, self.name, "dead-lettered").inc()
        self.log.error(
            "event.dead_lettered", topic=record.topic, offset=record.offset, error=repr(exc)
        )


async def replay_dlq(kafka: KafkaConfig, dlq_topic: str, *, idle_ms: int = 2000) -> int:
    """Re-publishes every dead letter of ``dlq_topic`` to its original topic."""
    if not dlq_topic.endswith(".dlq"):
        raise ValueError("the topic to replay must be a dead-letter topic (<topic>.dlq)")
    consumer = make_consumer(kafka, dlq_topic, group_id=f"pdz-replay.{dlq_topic}")
    producer = make_producer(kafka)
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=idle_ms)
            if not batches:
                return replayed
            for tp, records in batches.items():
                for record in records:
                    headers = dict(record.headers or [])
                    original = headers.get(
                        "pdz_dlq_original_topic", dlq_topic.removesuffix(".dlq").encode()
                    ).decode()
                    clean = [
                        (k, v) for k, v in (record.headers or []) if not k.startswith("pdz_dlq_")
                    ]
                    clean.append(("pdz_replayed_from", dlq_topic.encode()))
                    await producer.send_and_wait(
                        original, value=record.value, key=record.key, headers=clean
                    )
                    replayed += 1
                await consumer.commit({tp: records[-1].offset + 1})
    finally:
        await consumer.stop()
        await producer.stop()


__all__ = [
    "EventConsumer",
    "Handler",
    "InboxMessage",
    "Outcome",
    "PermanentEventError",
    "TopicPartition",
    "TransientEventError",
    "handle_once",
    "replay_dlq",
]
