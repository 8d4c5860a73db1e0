"""A service's background process: its outbox relay and its tasks (event consumers, schedulers,
queue processors). ``--role relay`` or ``--role tasks`` runs one half, so that they can be
deployed, scaled and killed apart; the default runs both."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import structlog

from pdz_shared import heap
from pdz_shared.db import SessionFactory, make_engine, make_session_factory
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.events.outbox import OutboxRelay
from pdz_shared.observability import configure_logging
from pdz_shared.settings import CommonSettings, ServiceSettings, common_settings
from pdz_shared.wakeup import close_notifiers


class WorkerTask(Protocol):
    """Something the worker runs until ``stop`` is set (``EventConsumer`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def topics(self) -> list[str]: ...

    async def run(self, stop: asyncio.Event) -> None: ...


ConsumerFactory = Callable[[SessionFactory, KafkaConfig], Sequence[WorkerTask]]
Role = Literal["all", "relay", "tasks"]


async def run_worker(
    service: str,
    settings: ServiceSettings,
    consumers: ConsumerFactory,
    *,
    produces: Sequence[str] = (),
    common: CommonSettings | None = None,
    stop: asyncio.Event | None = None,
    relay: bool = True,
    role: Role = "all",
) -> None:
    common = common or common_settings()
    configure_logging(f"{service}-worker", common.log_level, common.log_json)
    log = structlog.get_logger("pdz.worker")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    engine = make_engine(settings.database_url, pool_size=4)
    factory = make_session_factory(engine)
    kafka = KafkaConfig.from_settings(common, f"{service}-worker")
    built = list(consumers(factory, kafka)) if role != "relay" else []
    relay = relay and role != "tasks"
    topics = [*produces, *(t for c in built for t in c.topics)]
    if topics:
        await ensure_topics(kafka, topics)
    tasks = [asyncio.create_task(supervise(c, stop), name=c.name) for c in built]
    if relay:
        from datetime import timedelta

        outbox = OutboxRelay(
            service=service,
            factory=factory,
            kafka=kafka,
            database_url=settings.database_url,
            retention=timedelta(hours=common.outbox_retention_hours),
        )
        tasks.append(asyncio.create_task(supervise(outbox, stop), name=outbox.name))
    heap.settle()
    log.info("worker.started", tasks=[c.name for c in built], relay=relay, role=role)
    try:
        done, _ = await asyncio.wait(
            [asyncio.create_task(stop.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task in tasks and task.exception() is not None:
                log.error("worker.task_failed", task=task.get_name(), error=repr(task.exception()))
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 15)
        await close_notifiers()
        await engine.dispose()
        log.info("worker.stopped")


async def supervise(task: WorkerTask, stop: asyncio.Event) -> None:
    """Runs ``task`` until ``stop``; if it fails (a broker that restarted under a consumer, a
    database that went away...), logs it and runs it again after a growing pause, rather than
    taking the worker down with it. Exactly-once does not depend on it: an interrupted handler's
    transaction did not commit, and its offset was not committed either."""
    log = structlog.get_logger("pdz.worker").bind(task=task.name)
    pause = 1.0
    while not stop.is_set():
        started = asyncio.get_running_loop().time()
        try:
            await task.run(stop)
        except Exception as exc:
            log.error("worker.task_failed", error=repr(exc), restart_in=pause)
        else:
            return
        if asyncio.get_running_loop().time() - started > 60:
            pause = 1.0  # it had been running fine: a new fault, not the same one again
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pause):
                await stop.wait()
        pause = min(pause * 2, 30.0)


def no_consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[WorkerTask]:
    return []


def lower_priority(nice: int) -> None:
    """Makes this process yield the CPU to the APIs. ``os.nice`` alone is not enough where the
    kernel groups processes by session (``sched_autogroup``, on by default): niceness then only
    orders the processes of one session, and each worker, started in a session of its own,
    competes with the APIs as an equal. So the session's group is lowered too."""
    os.nice(nice)
    with contextlib.suppress(OSError):  # no autogroups here (disabled, or not Linux)
        Path("/proc/self/autogroup").write_text(str(nice))


def worker_main(
    service: str, settings: ServiceSettings, consumers: ConsumerFactory = no_consumers
) -> None:
    """Entry point of ``python -m pdz_<svc>.worker [--role all|relay|tasks]``."""
    from pdz_shared.contracts.catalogue import topics_of

    parser = argparse.ArgumentParser(prog=f"python -m pdz_{service}.worker")
    parser.add_argument(
        "--role",
        choices=["all", "relay", "tasks"],
        default="all",
        help="relay: the outbox relay only; tasks: consumers and schedulers only; all: both",
    )
    role: Role = parser.parse_args().role
    if nice := common_settings().worker_nice:
        lower_priority(nice)
    asyncio.run(run_worker(service, settings, consumers, produces=topics_of(service), role=role))
