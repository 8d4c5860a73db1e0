import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from pdz_notifications.defaults import seed
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.smtp_sink import MemorySink, start
from pdz_shared.testing.plugin import Harness, HarnessFactory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness("notifications")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, MemorySink, int]]:
    """A real SMTP server (aiosmtpd) on a free port."""
    port = free_port()
    controller, sink = start("127.0.0.1", port)
    try:
        yield controller, sink, port
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, MemorySink, int]) -> MemorySink:
    smtp_server[1].clear()
    return smtp_server[1]


@pytest.fixture
def settings(
    harness: Harness, smtp_server: tuple[Controller, MemorySink, int]
) -> NotificationsSettings:
    return NotificationsSettings(
        database_url=harness.database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server[2],
        backoff_base_seconds=0.05,
        backoff_cap_seconds=0.2,
        max_attempts=4,
        dispatch_poll_seconds=0.05,
        webhook_timeout_seconds=3.0,
        webhook_allow_private=True,  # the test receiver listens on 127.0.0.1
    )


@pytest.fixture(autouse=True)
async def clean(harness: Harness) -> None:
    await harness.truncate()
    async with harness.factory() as session:
        await seed(session)
        await session.commit()
