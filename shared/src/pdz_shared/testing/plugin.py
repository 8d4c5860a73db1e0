"""pytest fixtures: real PostgreSQL, the real (embedded) broker, a service under test.

PostgreSQL: ``TEST_DATABASE_URL`` when set, else the server at 127.0.0.1:5432 when reachable,
else an embedded pgserver. The broker: a tansu process on a free port, or
``TEST_KAFKA_BOOTSTRAP_SERVERS`` when set.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import text

from pdz_shared import devinfra
from pdz_shared.auth import mint_token
from pdz_shared.db import SessionFactory, make_engine, make_session_factory
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.settings import CommonSettings, common_settings

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    return devinfra.postgres_server_url(
        os.environ.get("TEST_DATABASE_URL"), REPO / ".devstack" / "test-pg"
    )


@pytest.fixture(scope="session")
def broker_process() -> Iterator[devinfra.Broker | None]:
    """The embedded broker the tests started (None with ``TEST_KAFKA_BOOTSTRAP_SERVERS``)."""
    if os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    b = devinfra.start_tansu()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="session")
def broker(broker_process: devinfra.Broker | None) -> str:
    return (
        broker_process.bootstrap if broker_process else os.environ["TEST_KAFKA_BOOTSTRAP_SERVERS"]
    )


@pytest.fixture(scope="session")
def common(broker: str) -> CommonSettings:
    os.environ["PDZ_ENV"] = "test"
    os.environ["PDZ_KAFKA_BOOTSTRAP_SERVERS"] = broker
    os.environ.setdefault("PDZ_LOG_JSON", "false")
    os.environ.setdefault("PDZ_LOG_LEVEL", "WARNING")
    # a consumer killed by a test hands its partitions over in 3 s instead of 10
    os.environ.setdefault("PDZ_KAFKA_SESSION_TIMEOUT_MS", "3000")
    os.environ.setdefault("PDZ_KAFKA_FETCH_MAX_WAIT_MS", devinfra.TANSU_FETCH_MAX_WAIT_MS)
    common_settings.cache_clear()
    return common_settings()


@pytest.fixture(scope="session")
def kafka(common: CommonSettings) -> KafkaConfig:
    return KafkaConfig.from_settings(common, f"test-{uuid.uuid4().hex[:6]}")


def migrate(service_dir: Path, url: str) -> None:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")


@dataclass
class Harness:
    """One service, in process, on its own freshly migrated database."""

    service: str
    database_url: str
    app: FastAPI
    common: CommonSettings
    factory: SessionFactory
    tables: list[str] = field(default_factory=list)

    def token(
        self,
        *,
        roles: list[str],
        ambiti: list[str] | tuple[str, ...] = (),
        sub: str = "tester",
        **kw: Any,
    ) -> str:
        return mint_token(self.common, sub=sub, roles=roles, ambiti=ambiti, **kw)

    def client(self, token: str | None = None, **headers: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)

    async def truncate(self) -> None:
        async with self.factory() as session:
            await session.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables) + " RESTART IDENTITY")
            )
            await session.commit()


HarnessFactory = Callable[[str], Awaitable[Harness]]


@pytest.fixture(scope="session")
async def make_harness(
    pg_server_url: str,
    common: CommonSettings,
) -> AsyncIterator[HarnessFactory]:
    created: list[tuple[str, Any, Any]] = []

    async def make(service: str) -> Harness:
        db_name = f"pdz_test_{service}_{uuid.uuid4().hex[:8]}"
        url = await devinfra.create_database(pg_server_url, db_name, durable=False)
        await asyncio.to_thread(migrate, REPO / "services" / service, url)
        os.environ[f"PDZ_{service.upper()}_DATABASE_URL"] = url
        settings_mod = importlib.import_module(f"pdz_{service}.settings")
        settings_mod.settings.cache_clear()
        app: FastAPI = importlib.import_module(f"pdz_{service}.main").app
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        engine = make_engine(url, pool_size=5)
        async with engine.connect() as conn:
            tables = list(
                (
                    await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename <> 'alembic_version'"
                        )
                    )
                ).scalars()
            )
        created.append((db_name, lifespan, engine))
        return Harness(service, url, app, common, make_session_factory(engine), tables)

    yield make
    for db_name, lifespan, engine in created:
        await lifespan.__aexit__(None, None, None)
        await engine.dispose()
        await devinfra.drop_database(pg_server_url, db_name)


# ------------------------------------------------------------------ Kafka helpers for tests


async def produce(
    kafka: KafkaConfig,
    topic: str,
    event: Any,
    key: str,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    from pdz_shared.events.kafka import make_producer

    producer = make_producer(kafka)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            event.kafka_value(),
            key=key.encode(),
            headers=headers if headers is not None else event.kafka_headers(),
        )
    finally:
        await producer.stop()


async def consume(
    kafka: KafkaConfig,
    topic: str,
    *,
    count: int,
    timeout: float = 30.0,
    where: Callable[[Any], bool] = lambda r: True,
) -> list[Any]:
    """Reads ``topic`` from the beginning (fresh group) until ``count`` matching records."""
    from pdz_shared.events.kafka import make_consumer

    consumer = make_consumer(kafka, topic, group_id=f"test-{uuid.uuid4().hex}")
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    found.extend(r for r in records if where(r))
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, interval: float = 0.1
) -> None:
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(interval)


async def check_service_basics(h: Harness) -> None:
    """What every service must do: public /status and /metrics, 401 problem+json, /v1/me."""
    async with h.client() as c:
        status = await c.get("/status")
        assert status.status_code == 200, status.text
        assert status.headers["content-type"] == "application/problem+json"
        assert status.json()["checks"] == {"database": True, "broker": True}
        assert "pdz_http_requests_total" in (await c.get("/metrics")).text
        anonymous = await c.get("/v1/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
    async with h.client(h.token(roles=["udp_viewer"], ambiti=["A5"], sub="s")) as c:
        assert (await c.get("/v1/me")).json() == {
            "sub": "s",
            "roles": ["udp_viewer"],
            "ambiti": ["A5"],
        }
    async with h.factory() as session:
        tables = set(
            (
                await session.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
        )
    assert {"outbox", "inbox", "alembic_version"} <= tables
