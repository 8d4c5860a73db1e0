"""A service's background process: its outbox relay and its event consumers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence

import structlog

from pdz_shared.db import SessionFactory, make_engine, make_session_factory
from pdz_shared.events.inbox import EventConsumer
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.events.outbox import OutboxRelay
from pdz_shared.observability import configure_logging
from pdz_shared.settings import CommonSettings, ServiceSettings, common_settings

ConsumerFactory = Callable[[SessionFactory, KafkaConfig], Sequence[EventConsumer]]


async def run_worker(
    service: str,
    settings: ServiceSettings,
    consumers: ConsumerFactory,
    *,
    produces: Sequence[str] = (),
    common: CommonSettings | None = None,
    stop: asyncio.Event | None = None,
    relay: bool = True,
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
    built = list(consumers(factory, kafka))
    topics = [*produces, *(t for c in built for t in c.topics)]
    if topics:
        await ensure_topics(kafka, topics)
    tasks = [asyncio.create_task(c.run(stop), name=c.name) for c in built]
    if relay:
        from datetime import timedelta

        outbox = OutboxRelay(
            service=service,
            factory=factory,
            kafka=kafka,
            database_url=settings.database_url,
            retention=timedelta(hours=common.outbox_retention_hours),
        )
        tasks.append(asyncio.create_task(outbox.run(stop), name=f"{service}.relay"))
    log.info("worker.started", consumers=[c.name for c in built], relay=relay)
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
        await engine.dispose()
        log.info("worker.stopped")


def no_consumers(factory: SessionFactory, kafka: KafkaConfig) -> list[EventConsumer]:
    return []


def worker_main(
    service: str, settings: ServiceSettings, consumers: ConsumerFactory = no_consumers
) -> None:
    """Entry point of ``python -m pdz_<svc>.worker``."""
    from pdz_shared.contracts.catalogue import topics_of

    asyncio.run(run_worker(service, settings, consumers, produces=topics_of(service)))
