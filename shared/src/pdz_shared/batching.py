"""Group commit for hot write paths: the items that concurrent requests submit while earlier
writes are in flight are written together, in one statement and one commit.

A request alone is written at once, as it would be without the batcher; under load each write
carries everything that arrived meanwhile, so the database sees one round trip, one commit and
one WAL flush per batch instead of one per request. No timer ever holds an item back.

Two items with a common key (e.g. the same discharge, the same token id) never share a batch:
the later one waits for the next, so a statement never touches a row twice and the items apply
in the order they came. If a batch fails as a whole, each of its items is written again on its
own, so one bad item fails alone.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Write = Callable[[list[T]], Awaitable[Sequence[R | Exception]]]


class GroupWriter(Generic[T, R]):
    """``await writer.submit(item)`` returns the item's result or raises its exception.

    ``write(items)`` writes a batch and returns one result or exception per item, in order;
    ``keys(item)`` names what an item writes, so that no batch holds two items naming the same.
    """

    def __init__(
        self,
        write: Write[T, R],
        *,
        keys: Callable[[T], Iterable[Hashable]],
        max_batch: int = 200,
        in_flight: int = 2,
    ) -> None:
        self._write = write
        self._keys = keys
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # written so far (a batch written again item by item counts once)
        self.items = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._start()
        return await future

    async def drain(self) -> None:
        """Waits for the writes in flight and those queued (at shutdown, before the pool goes)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self) -> None:
        while self._queue and len(self._tasks) < self._in_flight:
            batch = self._take()
            # A context of its own: the batch belongs to no one request (logs, request ids).
            task = asyncio.get_running_loop().create_task(
                self._flush(batch), context=contextvars.Context()
            )
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._queue:
            self._start()

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        later: deque[tuple[T, asyncio.Future[R]]] = deque()
        taken: set[Hashable] = set()
        while self._queue and len(batch) < self._max_batch:
            entry = self._queue.popleft()
            if entry[1].done():  # its caller went away before the write began
                continue
            keys = set(self._keys(entry[0]))
            if keys & taken:
                later.append(entry)
                continue
            taken |= keys
            batch.append(entry)
        self._queue.extendleft(reversed(later))
        return batch

    async def _flush(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            try:
                results = list(await self._write(items))
            except Exception as exc:
                # One bad item must not fail the others: each again on its own.
                many = len(items) > 1
                results = [await self._one(item) for item in items] if many else [exc]
            self.batches += 1
            self.items += len(items)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        except BaseException as exc:  # cancelled (shutdown) or a broken write function
            for _, future in batch:
                if not future.done():
                    future.set_exception(
                        exc if isinstance(exc, Exception) else RuntimeError("write cancelled")
                    )
            raise

    async def _one(self, item: T) -> R | Exception:
        try:
            return (await self._write([item]))[0]
        except Exception as exc:
            return exc
