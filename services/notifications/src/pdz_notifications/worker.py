"""notifications worker: outbox relay, the event consumer and the delivery dispatcher."""

from __future__ import annotations

import asyncio

from pdz_notifications import models  # noqa: F401
from pdz_notifications.consumers import consumers
from pdz_notifications.deliveries.dispatcher import Dispatcher
from pdz_notifications.settings import NotificationsSettings, settings
from pdz_shared.contracts.catalogue import topics_of
from pdz_shared.db import make_engine, make_session_factory
from pdz_shared.worker import run_worker


async def run(cfg: NotificationsSettings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    # Sends in flight hold a connection each (webhooks log, inbox rows are written with their
    # outcome), plus the claim and the outcome writer.
    engine = make_engine(cfg.database_url, pool_size=max(4, cfg.dispatch_concurrency // 2 + 2))
    dispatcher = Dispatcher(make_session_factory(engine), cfg)
    try:
        await asyncio.gather(
            run_worker(
                "notifications", cfg, consumers, produces=topics_of("notifications"), stop=stop
            ),
            dispatcher.run(stop),
        )
    finally:
        await engine.dispose()


def main() -> None:
    asyncio.run(run(settings()))


if __name__ == "__main__":
    main()
