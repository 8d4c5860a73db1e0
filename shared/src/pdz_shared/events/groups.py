"""A consumer that handles the records of a partition in groups, for high-volume topics.

One transaction and one offset commit per group of records instead of one each, with the same
guarantees as :class:`EventConsumer`: inbox rows for every event, offsets committed only after
the transaction, and the record-by-record path (retries, dead letters) whenever a group cannot
be handled whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.events.cloudevents import CloudEvent, EventDecodeError, decode
from pdz_shared.events.inbox import EventConsumer, Handler, Outcome
from pdz_shared.observability import EVENTS_CONSUMED

GroupHandler = Callable[[AsyncSession, list[CloudEvent]], Awaitable[None]]

# The inbox rows of a whole group in one statement; the events already there are left out.
_CLAIM_MANY = text("""
    INSERT INTO inbox (consumer, event_id, event_type, topic, processed_at)
    SELECT :consumer, e.event_id, e.event_type, e.topic, now()
    FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:topics AS text[]))
         AS e(event_id, event_type, topic)
    ON CONFLICT DO NOTHING
    RETURNING event_id
""")


class BatchConsumer(EventConsumer):
    """Handles the records of a partition in groups: one transaction and one offset commit per
    group instead of one each.

    In the group's transaction: the inbox rows of all its events (one statement), then the
    group handler for the new ones (the events already in the inbox are duplicates, left out).
    The offset is committed only after that transaction, so a redelivery stays a no-op. A group
    that cannot be handled whole (an undecodable record, a type without a group handler, any
    error) is handled again record by record, exactly as the base class does (retries, dead
    letters).
    """

    batch_size = 100

    def __init__(self, *, group_handlers: dict[Handler, GroupHandler], **kw: Any) -> None:
        super().__init__(**kw)
        self.group_handlers = group_handlers

    async def poll_once(self, stop: asyncio.Event, *, timeout_ms: int = 500) -> int:
        """Handles what one poll fetched, in groups that may span partitions: each partition's
        records stay in order (and a key never spans partitions), and a poll costs one
        transaction and one offset commit per ``batch_size`` records rather than at least one
        per partition. Handling a poll's records partition after partition made the next poll
        wait for all of those transactions: records waited about two such rounds."""
        assert self._consumer is not None, "start() first"
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=500)
        fetched = [(tp, record) for tp, records in batches.items() for record in records]
        handled = 0
        for i in range(0, len(fetched), self.batch_size):
            if stop.is_set():
                return handled
            chunk = fetched[i : i + self.batch_size]
            parts: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {}
            for tp, record in chunk:
                parts.setdefault(tp, []).append(record)
            group = [record for _, record in chunk]
            outcomes = await self._process_group(group)
            if outcomes is None:
                for tp, records in parts.items():
                    done, committed = await self.handle_each(tp, records, stop)
                    handled += done
                    if not committed or (done < len(records) and stop.is_set()):
                        return handled
                continue
            if self.after_commit is not None:
                for record, outcome in zip(group, outcomes, strict=True):
                    await self.after_commit(record, outcome)
            handled += len(group)
            if not await self.commit({tp: rs[-1].offset + 1 for tp, rs in parts.items()}):
                return handled  # a rebalance: the partitions' new owners start from the commit
        return handled

    async def _process_group(self, group: list[ConsumerRecord[Any, Any]]) -> list[Outcome] | None:
        """The outcome of each record when the whole group was handled and committed in one
        transaction; None when it must be handled record by record."""
        if len(group) < 2:
            return None
        try:
            events = [decode(r.headers, r.value) for r in group]
        except EventDecodeError:
            return None
        # The types without a handler are ignored (no inbox row), as the base class does.
        handlers = {self.handlers.get(e.type) for e in events} - {None}
        handler = handlers.pop() if len(handlers) == 1 else None
        if handler is None or handler not in self.group_handlers:
            return None
        picked = [
            (r, e)
            for r, e in zip(group, events, strict=True)
            if self.handlers.get(e.type) is handler
        ]
        wanted = [e for _, e in picked]
        try:
            async with self.factory() as session:
                claimed = await session.execute(
                    _CLAIM_MANY,
                    {
                        "consumer": self.name,
                        "ids": [e.id for e in wanted],
                        "types": [e.type for e in wanted],
                        "topics": [
                            r.topic for r, e in zip(group, events, strict=True) if e in wanted
                        ],
                    },
                )
                new_ids = {row[0] for row in claimed}
                new: list[CloudEvent] = []
                for event in wanted:
                    if event.id in new_ids:
                        new_ids.discard(event.id)  # a second copy in the group is a duplicate
                        new.append(event)
                if new:
                    await self.group_handlers[handler](session, new)
                await session.commit()
        except Exception as exc:
            self.log.info("event.group_fallback", error=repr(exc), size=len(group))
            return None
        fresh, taken = {id(e) for e in new}, {id(e) for e in wanted}
        outcomes = [
            Outcome("processed" if id(e) in fresh else "duplicate" if id(e) in taken else "ignored")
            for e in events
        ]
        for status in ("processed", "duplicate", "ignored"):
            if n := sum(o.status == status for o in outcomes):
                EVENTS_CONSUMED.labels(self.service, self.name, status).inc(n)
        return outcomes


__all__ = ["BatchConsumer", "GroupHandler"]
