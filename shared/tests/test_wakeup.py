"""Writers wake the listeners after they commit, never from inside their transaction; on a real
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from pdz_shared import devinfra
from pdz_shared.db import SessionFactory, make_engine, make_session_factory, sync_url
from pdz_shared.wakeup import close_notifiers, notifier, notify_after_commit

CHANNEL = "pdz_test_wakeup"


@pytest.fixture(scope="module")
async def db_url(pg_server_url: str) -> AsyncIterator[str]:
    name = f"pdz_test_wakeup_{uuid.uuid4().hex[:8]}"
    url = await devinfra.create_database(pg_server_url, name, durable=False)
    try:
        yield url
    finally:
        await close_notifiers()
        await devinfra.drop_database(pg_server_url, name)


class Listener:
    def __init__(self) -> None:
        self.heard: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self.last_sender = 0  # the backend that sent the last NOTIFY heard

    def __call__(self, _conn: object, pid: int, channel: str, _payload: str) -> None:
        self.heard.put_nowait((channel, pid))

    async def next(self, timeout: float = 5.0) -> str | None:
        try:
            channel, self.last_sender = await asyncio.wait_for(self.heard.get(), timeout)
        except TimeoutError:
            return None
        return channel


@pytest.fixture
async def listener(db_url: str) -> AsyncIterator[Listener]:
    conn = await asyncpg.connect(sync_url(db_url))
    heard = Listener()
    await conn.add_listener(CHANNEL, heard)
    try:
        yield heard
    finally:
        await conn.close()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url, pool_size=1)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def factory(engine: AsyncEngine) -> SessionFactory:
    return make_session_factory(engine)


async def test_woken_after_the_commit_not_before(
    factory: SessionFactory, listener: Listener
) -> None:
    async with factory() as session:
        writer = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        notify_after_commit(session, CHANNEL)
        assert await listener.next(timeout=0.3) is None  # still inside the transaction
        await session.commit()
    assert await listener.next() == CHANNEL
    # Sent by another connection: the writer's commit took no NOTIFY lock.
    assert listener.last_sender not in (0, writer)


async def test_not_woken_after_a_rollback(factory: SessionFactory, listener: Listener) -> None:
    async with factory() as session:
        notify_after_commit(session, CHANNEL)
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()  # a later transaction that marked nothing
    assert await listener.next(timeout=0.5) is None


async def test_many_commits_share_few_notifies(engine: AsyncEngine, listener: Listener) -> None:
    sender = notifier(engine)
    assert notifier(engine.sync_engine) is sender  # sessions' commits use the same one
    before = sender.sent
    for _ in range(200):
        sender.notify(CHANNEL)
    assert await listener.next() == CHANNEL
    await asyncio.sleep(0.2)
    assert 1 <= sender.sent - before <= 2  # one in flight, and at most one carrying the rest


async def test_a_lost_connection_is_reopened(
    db_url: str, engine: AsyncEngine, listener: Listener
) -> None:
    sender = notifier(engine)
    sender.notify(CHANNEL)
    assert await listener.next() == CHANNEL
    admin = await asyncpg.connect(sync_url(db_url))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query LIKE '%pg_notify(c%'"
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.2)
    sender.notify(CHANNEL)  # fails on the dead connection: the listeners poll meanwhile
    await asyncio.sleep(0.3)
    sender.notify(CHANNEL)
    assert await listener.next() == CHANNEL
