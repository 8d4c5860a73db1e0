"""The worker keeps its tasks running: one that fails is run again, not the end of the worker."""

from __future__ import annotations

import asyncio

from pdz_shared.worker import supervise


class Flaky:
    """Fails the first time it runs (as a consumer does when its broker restarts under it)."""

    name = "test.flaky"
    topics: list[str] = []

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("the broker went away")
        stop.set()


async def test_a_failed_task_is_run_again() -> None:
    task, stop = Flaky(), asyncio.Event()
    await asyncio.wait_for(supervise(task, stop), 10)
    assert task.runs == 2
