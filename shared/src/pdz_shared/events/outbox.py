"""Transactional outbox: events are rows written with the change, then relayed to Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.db import SessionFactory, utcnow
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.kafka import KafkaConfig, make_producer
from pdz_shared.observability import EVENTS_PUBLISHED, request_id_var, traceparent_var
from pdz_shared.wakeup import Wakeup, notify_after_commit

NOTIFY_CHANNEL = "pdz_outbox"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "key", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_published_at", "published_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    event_id: uuid.UUID = Field(unique=True)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    type: str = Field(max_length=200)
    source: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    traceparent: str | None = Field(default=None, sa_column=Column(String(64)))
    request_id: str | None = Field(default=None, sa_column=Column(String(128)))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    published_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    def to_cloudevent(self) -> CloudEvent:
        return CloudEvent(
            id=str(self.event_id),
            source=self.source,
            type=self.type,
            data=self.data,
            subject=self.subject,
            time=self.time,
            traceparent=self.traceparent,
            request_id=self.request_id,
        )


_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


async def emit(
    session: AsyncSession,
    *,
    topic: str,
    type: str,
    source: str,
    key: str,
    data: BaseModel | dict[str, Any],
    subject: str | None = None,
) -> OutboxMessage:
    """Write an event in the caller's transaction; it is published only if that commits."""
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    row = OutboxMessage(
        event_id=uuid.uuid4(),
        topic=topic,
        key=key,
        type=type,
        source=source,
        subject=subject,
        time=utcnow(),
        data=payload,
        traceparent=traceparent_var.get(),
        request_id=request_id_var.get(),
    )
    session.add(row)
    notify_after_commit(session, NOTIFY_CHANNEL)
    return row


@dataclass(frozen=True)
class NewEvent:
    """An event to write with ``emit_many``; trace context defaults to the current request's."""

    topic: str
    type: str
    source: str
    key: str
    data: BaseModel | dict[str, Any]
    subject: str | None = None
    traceparent: str | None = None
    request_id: str | None = None


async def emit_many(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Write many events in the caller's transaction with one INSERT, in the order given (so
    per key order is kept); the relay is woken once it commits."""
    if not events:
        return
    now = utcnow()
    rows = [
        {
            "event_id": uuid.uuid4(),
            "topic": e.topic,
            "key": e.key,
            "type": e.type,
            "source": e.source,
            "subject": e.subject,
            "time": now,
            "data": e.data.model_dump(mode="json") if isinstance(e.data, BaseModel) else e.data,
            "traceparent": e.traceparent or traceparent_var.get(),
            "request_id": e.request_id or request_id_var.get(),
            "created_at": now,
        }
        for e in events
    ]
    await session.execute(insert(_OUTBOX), rows)
    notify_after_commit(session, NOTIFY_CHANNEL)


_CLAIM_HEADS = text("""
    WITH heads AS (
        SELECT DISTINCT ON (key) id FROM outbox WHERE published_at IS NULL ORDER BY key, id
    )
    SELECT o.key FROM outbox o JOIN heads h ON o.id = h.id
    ORDER BY o.id LIMIT :limit
    FOR UPDATE OF o SKIP LOCKED
""")
_CLAIM_ROWS = text("""
    SELECT id, event_id, topic, key, type, source, subject, time, data, traceparent, request_id
    FROM outbox WHERE published_at IS NULL AND key = ANY(:keys)
    ORDER BY id LIMIT :limit FOR UPDATE
""")
_MARK = text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)")
_PURGE = text("DELETE FROM outbox WHERE published_at < :before")


class OutboxRelay:
    """Publishes pending outbox rows in order per aggregate key.

    Several relays may run at once: each claims the *oldest pending row* of a key with
    ``FOR UPDATE SKIP LOCKED`` and only then that key's later rows, so no two relays ever
    publish the same key concurrently and per-key order is kept.
    """

    def __init__(
        self,
        *,
        service: str,
        factory: SessionFactory,
        kafka: KafkaConfig,
        database_url: str,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.service = service
        self.factory = factory
        self.kafka = kafka
        self.database_url = database_url
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.log = structlog.get_logger("pdz.outbox").bind(service=service)
        self.wakeup = Wakeup(database_url, NOTIFY_CHANNEL, poll_interval)
        self.name = f"{service}.relay"
        self.topics: list[str] = []  # it consumes none

    async def publish_pending(self, producer: Any) -> int:
        """One claim → publish → mark cycle. Returns how many rows were published."""
        async with self.factory() as session:
            keys = list((await session.execute(_CLAIM_HEADS, {"limit": self.batch_size})).scalars())
            if not keys:
                await session.rollback()
                return 0
            rows = (
                (await session.execute(_CLAIM_ROWS, {"keys": keys, "limit": self.batch_size * 4}))
                .mappings()
                .all()
            )
            futures = []
            for row in rows:
                event = CloudEvent(
                    id=str(row["event_id"]),
                    source=row["source"],
                    type=row["type"],
                    data=row["data"],
                    subject=row["subject"],
                    time=row["time"],
                    traceparent=row["traceparent"],
                    request_id=row["request_id"],
                )
                futures.append(
                    await producer.send(
                        row["topic"],
                        value=event.kafka_value(),
                        key=row["key"].encode(),
                        headers=event.kafka_headers(),
                    )
                )
            await asyncio.gather(*futures)
            await session.execute(_MARK, {"ids": [r["id"] for r in rows]})
            await session.commit()
        EVENTS_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def purge(self) -> None:
        async with self.factory() as session:
            await session.execute(_PURGE, {"before": utcnow() - self.retention})
            await session.commit()

    async def run(self, stop: asyncio.Event) -> None:
        self.wakeup.start(stop)
        producer = None
        backoff = 0.2
        purge_at = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                try:
                    if producer is None:
                        producer = make_producer(self.kafka)
                        await producer.start()
                    published = await self.publish_pending(producer)
                    backoff = 0.2
                    if loop.time() >= purge_at:
                        await self.purge()
                        purge_at = loop.time() + 600
                    if published:
                        continue
                except Exception as exc:
                    self.log.warning("outbox.publish_failed", error=repr(exc), retry_in=backoff)
                    if producer is not None:
                        with contextlib.suppress(Exception):
                            await producer.stop()
                        producer = None
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                await self.wakeup.wait(stop)
        finally:
            await self.wakeup.close()
            if producer is not None:
                await producer.stop()


async def republish_since(factory: SessionFactory, since: datetime) -> int:
    """After a broker loss: mark rows published since ``since`` as pending again."""
    async with factory() as session:
        result = await session.execute(
            text("UPDATE outbox SET published_at = NULL WHERE published_at >= :since"),
            {"since": since},
        )
        notify_after_commit(session, NOTIFY_CHANNEL)
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
