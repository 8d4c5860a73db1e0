"""Wake a background loop when PostgreSQL says there is work (``LISTEN``/``NOTIFY``).

A loop that drains a table (the outbox relay, the discharge processor) waits on ``wait()``
between rounds: it returns as soon as a ``NOTIFY <channel>`` arrives, when ``stop`` is set, or
after ``poll_interval`` seconds, so a notification lost while the listening connection was down
delays work by at most one interval and never loses it.

The writers never NOTIFY inside their own transaction: they mark the channel
(``notify_after_commit``) and a ``Notifier`` sends it once they have committed (see there why).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

import asyncpg
import structlog
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.db import sync_url

log = structlog.get_logger("pdz.wakeup")


class Wakeup:
    def __init__(self, database_url: str, channel: str, poll_interval: float = 1.0) -> None:
        self.database_url = database_url
        self.channel = channel
        self.poll_interval = poll_interval
        self.log = structlog.get_logger("pdz.wakeup").bind(channel=channel)
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _listen(self, stop: asyncio.Event) -> None:
        """Keeps one listening connection open; reconnects when it drops."""
        while not stop.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(sync_url(self.database_url))
                await conn.add_listener(self.channel, lambda *_: self._event.set())
                self._event.set()  # anything notified while we were not listening
                while not stop.is_set() and not conn.is_closed():  # noqa: ASYNC110
                    await asyncio.sleep(1.0)
            except (OSError, asyncpg.PostgresError) as exc:
                self.log.warning("wakeup.listen_failed", error=str(exc))
                await asyncio.sleep(1.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()

    def start(self, stop: asyncio.Event) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(stop))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait(self, stop: asyncio.Event, timeout: float | None = None) -> None:
        """Until notified, stopped, or ``timeout`` (default ``poll_interval``) seconds. A
        notification that came while the caller was working returns at once (it is cleared
        only here, after waking), so none is missed between a round of work and the wait."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.poll_interval if timeout is None else timeout):
                await first(self._event.wait(), stop.wait())
        self._event.clear()


async def first(*aws: Any) -> None:
    """Returns when the first of ``aws`` completes, cancelling the others."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


class Notifier:
    """``NOTIFY`` sent after the writers' commits, from a connection of its own, coalesced.

    PostgreSQL has a transaction that NOTIFYs take one cluster-wide lock at commit and hold it
    through the commit's WAL flush, so no two such commits share a flush. With a NOTIFY in
    every intake and outbox transaction, the intake's connections spent most of their time
    waiting on that lock (``pg_stat_activity``: ``Lock: object``) as soon as the workers
    committed too, and intake fell to a third. Here a commit only marks its channels; this
    connection sends them right after, in a transaction of its own that carries every channel
    marked meanwhile: one NOTIFY in flight per process and database, whatever the load. If the
    connection is down the listeners find the work at their next poll, as before."""

    def __init__(self, engine: Engine) -> None:
        self.dsn = sync_url(engine.url.render_as_string(hide_password=False))
        self.sent = 0  # NOTIFY transactions sent (the coalescing, for tests and metrics)
        self._channels: set[str] = set()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    def notify(self, channel: str) -> None:
        """Wakes the listeners of ``channel`` soon; call it once the data is committed."""
        self._channels.add(channel)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self._channels:
            channels = sorted(self._channels)
            self._channels.clear()
            try:
                if self._conn is None or self._conn.is_closed():
                    # A wake-up carries no data: its commit need not wait for the WAL flush
                    # (nor hold the notify lock through one).
                    self._conn = await asyncpg.connect(
                        self.dsn, server_settings={"synchronous_commit": "off"}
                    )
                await self._conn.execute(
                    "SELECT pg_notify(c, '') FROM unnest($1::text[]) AS c", channels
                )
                self.sent += 1
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("wakeup.notify_failed", channels=channels, error=str(exc))
                await self._disconnect()
                return

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def close(self) -> None:
        """Sends what is marked, then closes the connection."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)
        await self._disconnect()


_NOTIFIERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Engine, Notifier]] = (
    weakref.WeakKeyDictionary()
)
_CHANNELS = "pdz_notify_after_commit"


def notifier(engine: Engine | AsyncEngine) -> Notifier:
    """The notifier of this process (event loop) for an engine's database: the one that both
    sessions' commits (``notify_after_commit``) and bare connections' callers use."""
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    per_loop = _NOTIFIERS.setdefault(asyncio.get_running_loop(), {})
    found = per_loop.get(sync)
    if found is None:
        found = per_loop[sync] = Notifier(sync)
    return found


async def close_notifiers() -> None:
    """At shutdown (apps and workers): the notifiers of this event loop."""
    for found in _NOTIFIERS.pop(asyncio.get_running_loop(), {}).values():
        await found.close()


def notify_after_commit(session: AsyncSession, channel: str) -> None:
    """Wakes the listeners of ``channel`` once ``session``'s transaction has committed; nothing
    if it rolls back."""
    if not session.in_transaction():
        session.sync_session.begin()  # no I/O yet: the transaction the mark belongs to
    session.info.setdefault(_CHANNELS, set()).add(channel)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    channels: set[str] | None = session.info.pop(_CHANNELS, None)
    if not channels:
        return
    try:
        sender = notifier(session.get_bind().engine)
    except RuntimeError:  # no event loop: a synchronous script; the listeners will poll
        return
    for channel in channels:
        sender.notify(channel)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one ended without a commit: forget them
        session.info.pop(_CHANNELS, None)
