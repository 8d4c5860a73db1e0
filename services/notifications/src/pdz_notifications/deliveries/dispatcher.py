"""The dispatcher (runs in the worker): claims due deliveries, sends them, logs every attempt.

Deliveries are created by the consumer in the event's transaction; sending happens only after
that commits. Claiming is ``FOR UPDATE SKIP LOCKED`` plus a lease, so several dispatchers never
send the same delivery at once, and a dispatcher that dies mid-send leaves a lease that expires
and lets another one retry. Failures are retried with exponential backoff and jitter; after
``max_attempts`` the delivery is failed and announced on the dead-letter topic (via the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_notifications.channels import Channel, Outgoing, SendResult, build_channels
from pdz_notifications.defaults import DIGEST_KEY
from pdz_notifications.deliveries.service import NOTIFY_CHANNEL
from pdz_notifications.recipients.models import Recipient
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.templates.lookup import render_message
from pdz_shared.contracts import notifications as contract
from pdz_shared.db import SessionFactory, transaction, utcnow
from pdz_shared.events.outbox import emit
from pdz_shared.wakeup import Wakeup, first, notify_after_commit

DIGEST_EVENT_TYPE = "it.pdz.notifications.digest"

_CLAIM = text("""
    UPDATE delivery d
    SET status = 'sending', attempts = d.attempts + 1, updated_at = now(),
        lease_until = now() + make_interval(secs => :lease)
    WHERE d.id IN (
        SELECT id FROM delivery
        WHERE (status = 'pending' AND next_attempt_at <= now())
           OR (status = 'sending' AND lease_until < now())
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING d.id, d.event_id, d.event_type, d.recipient, d.channel, d.attempts, d.language,
              d.critical, d.ambito_code, d.address, d.subject, d.body, d.payload, d.webhook_id
""")
_FAILED = text("""
    UPDATE delivery SET status = 'failed', lease_until = NULL, last_error = :error,
           updated_at = now()
    WHERE id = :id AND status = 'sending' AND attempts = :attempt
    RETURNING id
""")
# The outcomes of a group, one statement each (one array per column: a statement text that
# never changes, prepared once per connection, whatever the number of rows).
_ATTEMPTS = text("""
    INSERT INTO delivery_attempt (delivery_id, attempt, status, error, response_status,
                                  duration_ms, started_at)
    SELECT * FROM unnest(CAST(:delivery_id AS uuid[]), CAST(:attempt AS integer[]),
        CAST(:status AS text[]), CAST(:error AS text[]), CAST(:response_status AS integer[]),
        CAST(:duration_ms AS integer[]), CAST(:started_at AS timestamptz[]))
""")
_SENT_MANY = text("""
    UPDATE delivery d SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL,
           updated_at = now()
    FROM unnest(CAST(:id AS uuid[]), CAST(:attempt AS integer[])) AS u(id, attempt)
    WHERE d.id = u.id AND d.status = 'sending' AND d.attempts = u.attempt
""")
_RETRY_MANY = text("""
    UPDATE delivery d SET status = 'pending', lease_until = NULL, last_error = u.error,
           next_attempt_at = now() + make_interval(secs => u.delay), updated_at = now()
    FROM unnest(CAST(:id AS uuid[]), CAST(:attempt AS integer[]), CAST(:error AS text[]),
                CAST(:delay AS double precision[])) AS u(id, attempt, error, delay)
    WHERE d.id = u.id AND d.status = 'sending' AND d.attempts = u.attempt
""")
_DUE_DIGESTS = text("""
    SELECT id, recipient_sub, channel FROM digest
    WHERE status = 'open' AND window_end <= :now
    ORDER BY window_end LIMIT :limit
    FOR UPDATE SKIP LOCKED
""")
_DIGEST_ITEMS = text("""
    SELECT subject, body, event_type, ambito_code, created_at FROM delivery
    WHERE digest_id = :id ORDER BY created_at, id
""")


def columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows (dicts with the same keys) as one list per key: the arrays that ``unnest`` reads."""
    return {key: [row[key] for row in rows] for key in rows[0]}


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(attempt-1)."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


@dataclass
class _Outcome:
    message: Outgoing
    result: SendResult | None  # None: a transactional channel, sent when recorded
    started: datetime
    duration_ms: int
    done: asyncio.Future[None]


class Dispatcher:
    def __init__(
        self,
        factory: SessionFactory,
        settings: NotificationsSettings,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.channels = channels if channels is not None else build_channels(settings, factory)
        self.log = structlog.get_logger("pdz.dispatcher")
        self._slots = asyncio.Semaphore(max(settings.dispatch_concurrency, 1))
        self._outcomes: list[_Outcome] = []
        self._recorder: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ deliveries

    async def claim(self, limit: int | None = None) -> list[Outgoing]:
        async with transaction(self.factory) as session:
            rows = (
                (
                    await session.execute(
                        _CLAIM,
                        {
                            "lease": self.settings.dispatch_lease_seconds,
                            "limit": limit or self.settings.dispatch_batch_size,
                        },
                    )
                )
                .mappings()
                .all()
            )
        return [
            Outgoing(
                id=r["id"],
                event_id=r["event_id"],
                event_type=r["event_type"],
                recipient=r["recipient"],
                channel=r["channel"],
                attempt=r["attempts"],
                language=r["language"],
                critical=r["critical"],
                ambito_code=r["ambito_code"],
                address=r["address"],
                subject=r["subject"],
                body=r["body"],
                payload=r["payload"],
                webhook_id=r["webhook_id"],
            )
            for r in rows
        ]

    async def run_once(self) -> int:
        """Claims one batch and sends it. Returns how many deliveries were attempted."""
        batch = await self.claim()
        if batch:
            await asyncio.gather(*(self._deliver(m) for m in batch))
        return len(batch)

    async def _deliver(self, message: Outgoing) -> None:
        """Sends (holding one of the ``dispatch_concurrency`` slots only while sending), then
        records the outcome, so that a send does not wait for the previous outcomes' commit."""
        channel = self.channels.get(message.channel)
        result: SendResult | None
        if channel is None:
            started, duration = utcnow(), 0
            result = SendResult(False, f"unknown channel {message.channel}", retryable=False)
        elif getattr(channel, "transactional", False):
            started, duration = utcnow(), 0
            result = None  # sent by _write, in the transaction that records it
        else:
            async with self._slots:
                started = utcnow()
                t0 = time.monotonic()
                try:
                    result = await channel.send(message)
                except Exception as exc:  # a plugin bug must not kill the dispatcher
                    self.log.exception("delivery.channel_error", delivery_id=str(message.id))
                    result = SendResult(False, f"{type(exc).__name__}: {exc}")
                duration = int((time.monotonic() - t0) * 1000)
        await self._record(message, result, started, duration)

    async def _record(
        self, message: Outgoing, result: SendResult | None, started: datetime, duration_ms: int
    ) -> None:
        """Records the outcome; outcomes that finish together share one transaction.

        Group commit: while one transaction is being written, the outcomes that arrive queue
        up and are written together by the next one. Each caller returns once its own outcome
        is committed, as if it had written it alone (on an error, each is retried alone).
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append(_Outcome(message, result, started, duration_ms, done))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_outcomes())
        await asyncio.shield(done)

    async def _write_outcomes(self) -> None:
        while self._outcomes:
            group, self._outcomes = self._outcomes, []
            try:
                await self._write(group)
            except Exception:
                for outcome in group:  # alone, so that one bad row does not fail the others
                    try:
                        await self._write([outcome])
                    except Exception as exc:
                        if outcome.result is None:  # the transactional send failed: record it
                            self.log.exception(
                                "delivery.channel_error", delivery_id=str(outcome.message.id)
                            )
                            outcome.result = SendResult(False, f"{type(exc).__name__}: {exc}")
                            try:
                                await self._write([outcome])
                                continue
                            except Exception as again:
                                exc = again
                        if not outcome.done.done():
                            outcome.done.set_exception(exc)
            for outcome in group:
                if not outcome.done.done():
                    outcome.done.set_result(None)

    async def _send_in(self, session: AsyncSession, messages: list[Outgoing]) -> list[SendResult]:
        """The sends of a transactional channel (e.g. the inbox), in the recording transaction:
        one statement for all the group's messages when the channel can (``send_many_in``)."""
        channel = self.channels[messages[0].channel]
        send_many_in = getattr(channel, "send_many_in", None)
        if send_many_in is not None:
            results: list[SendResult] = await send_many_in(session, messages)
            return results
        send_in = getattr(channel, "send_in", None)
        assert send_in is not None, "a transactional channel implements send_in"
        return [await send_in(session, m) for m in messages]

    async def _write(self, group: list[_Outcome]) -> None:
        s = self.settings
        attempts: list[dict[str, Any]] = []
        sent: list[dict[str, Any]] = []
        retry: list[dict[str, Any]] = []
        statuses: list[tuple[_Outcome, str, str | None]] = []
        async with transaction(self.factory) as session:
            # Transactional channels send here, one channel at a time, all its messages at once.
            sent_in: dict[int, tuple[SendResult, int]] = {}
            by_channel: dict[str, list[_Outcome]] = {}
            for o in group:
                if o.result is None:
                    by_channel.setdefault(o.message.channel, []).append(o)
            for outcomes in by_channel.values():
                t0 = time.monotonic()
                results = await self._send_in(session, [o.message for o in outcomes])
                duration = int((time.monotonic() - t0) * 1000)
                for o, r in zip(outcomes, results, strict=True):
                    sent_in[id(o)] = (r, duration)
            for o in group:
                message = o.message
                result, duration = sent_in[id(o)] if o.result is None else (o.result, o.duration_ms)
                final = not result.ok and (
                    not result.retryable or message.attempt >= s.max_attempts
                )
                status = "sent" if result.ok else ("failed" if final else "retry")
                error = (result.error or "")[:2000] or None
                statuses.append((o, status, error))
                attempts.append(
                    {
                        "delivery_id": message.id,
                        "attempt": message.attempt,
                        "status": status,
                        "error": error,
                        "response_status": result.response_status,
                        "duration_ms": duration,
                        "started_at": o.started,
                    }
                )
                params: dict[str, Any] = {"id": message.id, "attempt": message.attempt}
                if result.ok:
                    sent.append(params)
                elif not final:
                    delay = backoff(message.attempt, s.backoff_base_seconds, s.backoff_cap_seconds)
                    retry.append({**params, "error": error, "delay": delay})
                elif (
                    await session.execute(_FAILED, {**params, "error": error})
                ).first() is not None:
                    await self._dead_letter(session, message, error)
            await session.execute(_ATTEMPTS, columns(attempts))
            if sent:
                await session.execute(_SENT_MANY, columns(sent))
            if retry:
                await session.execute(_RETRY_MANY, columns(retry))
        for o, status, error in statuses:
            self.log.info(
                "delivery.attempt",
                delivery_id=str(o.message.id),
                channel=o.message.channel,
                attempt=o.message.attempt,
                status=status,
                error=error,
            )

    async def _dead_letter(
        self, session: AsyncSession, message: Outgoing, error: str | None
    ) -> None:
        payload = contract.DeliveryDeadLettered(
            delivery_id=message.id,
            event_id=message.event_id,
            event_type=message.event_type,
            channel=message.channel,
            target=message.recipient,
            ambito_code=message.ambito_code,
            attempts=message.attempt,
            last_error=error,
            failed_at=utcnow(),
            cloudevent=message.payload,
        )
        await emit(
            session,
            topic=contract.DEAD_LETTER_TOPIC,
            type=contract.DELIVERY_DEAD_LETTERED,
            source=contract.SOURCE,
            key=str(message.id),
            subject=str(message.id),
            data=payload,
        )

    # ------------------------------------------------------------------ digests

    async def flush_digests(self, now: datetime | None = None, limit: int = 50) -> int:
        """Closes the digests whose window ended and queues one e-mail for each."""
        closed = 0
        async with transaction(self.factory) as session:
            due = (
                (await session.execute(_DUE_DIGESTS, {"now": now or utcnow(), "limit": limit}))
                .mappings()
                .all()
            )
            for digest in due:
                await self._flush_one(session, digest["id"], digest["recipient_sub"])
                closed += 1
            if closed:
                notify_after_commit(session, NOTIFY_CHANNEL)
        return closed

    async def _flush_one(self, session: AsyncSession, digest_id: uuid.UUID, sub: str) -> None:
        items = [
            dict(r) for r in (await session.execute(_DIGEST_ITEMS, {"id": digest_id})).mappings()
        ]
        recipient = await session.get(Recipient, sub)
        if items and recipient is not None and recipient.email:
            ambiti = {i["ambito_code"] for i in items}
            message = await render_message(
                session,
                DIGEST_KEY,
                "email",
                recipient.language,
                {"items": items, "recipient": {"sub": sub, "language": recipient.language}},
            )
            await session.execute(
                text("""
                    INSERT INTO delivery (id, event_id, event_type, ambito_code, recipient, channel,
                        critical, status, language, address, subject, body, attempts,
                        next_attempt_at, created_at, updated_at)
                    VALUES (:id, :event_id, :type, :ambito, :sub, 'email', false, 'pending',
                        :language, :address, :subject, :body, 0, now(), now(), now())
                    ON CONFLICT ON CONSTRAINT uq_delivery_once DO NOTHING
                """),
                {
                    "id": uuid.uuid4(),
                    "event_id": f"digest:{digest_id}",
                    "type": DIGEST_EVENT_TYPE,
                    "ambito": ambiti.pop() if len(ambiti) == 1 else None,
                    "sub": sub,
                    "language": recipient.language,
                    "address": recipient.email,
                    "subject": message.subject,
                    "body": message.body,
                },
            )
        await session.execute(
            text("UPDATE digest SET status = 'closed', closed_at = now() WHERE id = :id"),
            {"id": digest_id},
        )

    # ------------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: sends what is due, woken by ``NOTIFY`` (or every poll interval).

        Claims ahead: the next batch is claimed while the sends of the previous ones are still
        in flight (at most two batches of deliveries claimed and unfinished at once), so that
        a batch's slowest send does not hold back the next batch.
        """
        s = self.settings
        wakeup = Wakeup(s.database_url, NOTIFY_CHANNEL, s.dispatch_poll_seconds)
        wakeup.start(stop)
        batch = max(s.dispatch_batch_size, 1)
        ceiling = 2 * batch
        inflight: set[asyncio.Task[None]] = set()
        room = asyncio.Event()

        def finished(task: asyncio.Task[None]) -> None:
            inflight.discard(task)
            room.set()
            if not task.cancelled() and task.exception() is not None:
                self.log.warning("dispatcher.delivery_failed", error=repr(task.exception()))

        digest_at = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                free = ceiling - len(inflight)
                if 2 * free >= batch:  # room for at least half a batch
                    try:
                        if loop.time() >= digest_at:
                            await self.flush_digests()
                            digest_at = loop.time() + 5.0
                        wanted = min(free, batch)
                        claimed = await self.claim(wanted)
                    except Exception as exc:
                        self.log.warning("dispatcher.cycle_failed", error=repr(exc))
                        await asyncio.sleep(1.0)
                        continue
                    for message in claimed:
                        task = asyncio.create_task(self._deliver(message))
                        inflight.add(task)
                        task.add_done_callback(finished)
                    if len(claimed) < wanted:  # nothing more is due: until NOTIFY or the poll
                        await wakeup.wait(stop)
                    continue
                room.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(s.dispatch_poll_seconds):
                        await first(room.wait(), stop.wait())
        finally:
            if inflight:  # the sends under way finish (and are recorded); late ones expire
                _, late = await asyncio.wait(list(inflight), timeout=10)
                for task in late:
                    task.cancel()
            await wakeup.close()
            for channel in self.channels.values():
                with contextlib.suppress(Exception):
                    await channel.close()


__all__ = ["DIGEST_EVENT_TYPE", "Dispatcher", "backoff"]
