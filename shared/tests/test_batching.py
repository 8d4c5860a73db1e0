"""GroupWriter: concurrent items written together, never two of one key in a batch, a bad item
failing alone, nothing held back when a request comes alone."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import pytest

from pdz_shared.batching import GroupWriter


class Store:
    """A write function that keeps its batches and lets the test hold a write in flight."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, items: list[tuple[str, int]]) -> list[str | Exception]:
        await self.gate.wait()
        if len({k for k, _ in items}) != len(items):
            raise AssertionError("two items of one key in one batch")
        if any(v < 0 for _, v in items):
            raise ValueError("a negative value spoils the whole statement")
        self.batches.append(items)
        return [f"{k}={v}" for k, v in items]


def keys(item: tuple[str, int]) -> list[Hashable]:
    return [item[0]]


Held = tuple[Store, GroupWriter[tuple[str, int], str], list[asyncio.Task[str]]]


async def held(*items: tuple[str, int]) -> Held:
    """A writer whose first write (of the first item) is held in flight while the other items
    are submitted; ``store.gate.set()`` lets it go."""
    store = Store()
    store.gate.clear()
    writer = GroupWriter(store.write, keys=keys, in_flight=1)
    first = asyncio.create_task(writer.submit(items[0]))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(writer.submit(item)) for item in items[1:]]
    await asyncio.sleep(0)
    return store, writer, [first, *rest]


async def test_a_request_alone_is_written_at_once() -> None:
    store = Store()
    writer = GroupWriter(store.write, keys=keys)
    assert await writer.submit(("a", 1)) == "a=1"
    assert store.batches == [[("a", 1)]]


async def test_items_arriving_while_writes_are_in_flight_share_one_batch() -> None:
    store, writer, tasks = await held(*((f"k{i}", i) for i in range(50)))
    store.gate.set()
    assert await asyncio.gather(*tasks) == [f"k{i}={i}" for i in range(50)]
    assert [len(b) for b in store.batches] == [1, 49]
    assert (writer.batches, writer.items) == (2, 50)


async def test_two_items_of_one_key_never_share_a_batch_and_keep_their_order() -> None:
    store, _, tasks = await held(("x", 0), ("a", 1), ("b", 1), ("a", 2), ("a", 3), ("c", 1))
    store.gate.set()
    await asyncio.gather(*tasks)
    assert store.batches == [[("x", 0)], [("a", 1), ("b", 1), ("c", 1)], [("a", 2)], [("a", 3)]]


async def test_a_bad_item_fails_alone() -> None:
    store, _, tasks = await held(("x", 0), *((f"g{i}", i) for i in range(5)), ("bad", -1))
    *good, bad = tasks
    store.gate.set()
    assert await asyncio.gather(*good) == ["x=0", *(f"g{i}={i}" for i in range(5))]
    with pytest.raises(ValueError, match="negative"):
        await bad
    assert store.batches[1:] == [[(f"g{i}", i)] for i in range(5)]  # written again one by one


async def test_drain_waits_for_the_writes_in_flight_and_queued() -> None:
    store, writer, tasks = await held(("a", 0), ("a", 1), ("a", 2))
    asyncio.get_running_loop().call_later(0.05, store.gate.set)
    await writer.drain()
    assert [t.done() for t in tasks] == [True, True, True]
    assert store.batches == [[("a", 0)], [("a", 1)], [("a", 2)]]
