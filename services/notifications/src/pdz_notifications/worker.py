"""notifications worker: outbox relay, the event consumer and the delivery dispatcher.

``python -m pdz_notifications.worker [--role all|relay|tasks]`` (see ``pdz_shared.worker``):
the tasks are the event consumer and the dispatcher.
"""

from __future__ import annotations

import asyncio

from pdz_notifications import models  # noqa: F401
from pdz_notifications.consumers import consumers
from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_notifications.settings import NotificationsSettings, settings
from pdz_shared.contracts.catalogue import topics_of
from pdz_shared.db import SessionFactory, make_engine, make_session_factory
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.worker import ConsumerFactory, Role, WorkerTask, run_worker, worker_main


class DispatcherTask:
    """The dispatcher as a worker task, with its own connection pool: sends in flight hold a
    connection each (webhooks log), plus the claim and the outcome writer."""

    name = "notifications.dispatcher"
    topics: list[str] = []

    def __init__(self, cfg: NotificationsSettings) -> None:
        self.cfg = cfg

    async def run(self, stop: asyncio.Event) -> None:
        pool = max(4, self.cfg.dispatch_concurrency // 2 + 2)
        engine = make_engine(self.cfg.database_url, pool_size=pool)
        try:
            await Dispatcher(make_session_factory(engine), self.cfg).run(stop)
        finally:
            await engine.dispose()


def tasks(cfg: NotificationsSettings) -> ConsumerFactory:
    def build(factory: SessionFactory, kafka: KafkaConfig) -> list[WorkerTask]:
        return [*consumers(factory, kafka), DispatcherTask(cfg)]

    return build


async def run(
    cfg: NotificationsSettings, stop: asyncio.Event | None = None, role: Role = "all"
) -> None:
    await run_worker(
        "notifications", cfg, tasks(cfg), produces=topics_of("notifications"), stop=stop, role=role
    )


def main() -> None:
    cfg = settings()
    worker_main("notifications", cfg, tasks(cfg))


if __name__ == "__main__":
    main()
