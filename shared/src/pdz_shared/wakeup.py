"""Wake a background loop when PostgreSQL says there is work (``LISTEN``/``NOTIFY``).

A loop that drains a table (the outbox relay, the discharge processor) waits on ``wait()``
between rounds: it returns as soon as a ``NOTIFY <channel>`` arrives, when ``stop`` is set, or
after ``poll_interval`` seconds, so a notification lost while the listening connection was down
delays work by at most one interval and never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog

from pdz_shared.db import sync_url


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
