"""db.driver: a Statement run on the driver's connection is part of the session's transaction
(it sees what the session wrote, and goes with its rollback), and a lost connection is still a
transient error for the consumers; on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pdz_shared import devinfra
from pdz_shared.db import SessionFactory, Statement, driver, make_engine, make_session_factory
from pdz_shared.events.inbox import is_transient

COUNT = Statement("SELECT count(*) AS n FROM t WHERE v = CAST(:v AS text)")
INSERT = Statement("INSERT INTO t (v, doc) VALUES (CAST(:v AS text), CAST(:doc AS jsonb)) "
                   "RETURNING doc")  # fmt: skip


@pytest.fixture(scope="module")
async def factory(pg_server_url: str) -> AsyncIterator[SessionFactory]:
    name = f"pdz_test_driver_{uuid.uuid4().hex[:8]}"
    url = await devinfra.create_database(pg_server_url, name, durable=False)
    engine = make_engine(url, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (v text, doc jsonb)"))
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()
        await devinfra.drop_database(pg_server_url, name)


async def test_before_the_first_statement_the_session_itself(factory: SessionFactory) -> None:
    async with factory() as session:
        assert await driver(session) is session  # no transaction on the connection yet
        await session.execute(text("INSERT INTO t (v) VALUES ('a')"))
        raw = await driver(session)
        assert isinstance(raw, asyncpg.Connection)
        assert (await COUNT.fetch(raw, {"v": "a"}))[0]["n"] == 1  # sees the session's write
        rows = await INSERT.fetch(raw, {"v": "b", "doc": '{"x": [1, 2]}'})
        assert rows[0]["doc"] == {"x": [1, 2]}  # JSON in as text, back decoded
        count = await session.execute(text("SELECT count(*) FROM t WHERE v = 'b'"))
        assert count.scalar() == 1  # and the session sees its write
        await session.rollback()
    async with factory() as session:
        count = await session.execute(text("SELECT count(*) FROM t"))
        assert count.scalar() == 0  # both went with the rollback


async def test_a_lost_connection_is_transient(factory: SessionFactory) -> None:
    session = factory()
    await session.execute(text("SELECT 1"))
    raw = await driver(session)
    assert isinstance(raw, asyncpg.Connection)
    async with factory() as other:
        pid = raw.get_server_pid()
        await other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    for _ in range(100):  # until the client has read the server's goodbye
        if raw.is_closed():
            break
        await asyncio.sleep(0.02)
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError)) as caught:
        await COUNT.fetch(raw, {"v": "a"})
    assert is_transient(caught.value), repr(caught.value)
    # the session learns it at its rollback, which fails as transient too
    with pytest.raises(DBAPIError) as closing:
        await session.close()
    assert is_transient(closing.value)
