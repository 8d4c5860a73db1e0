"""Cross-service tests: the four services, their workers and the gateway as real processes,
on real PostgreSQL and the real broker, talking only HTTP and Kafka."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pdz_shared import devinfra, devstack
from pdz_shared.auth import mint_token
from pdz_shared.demo import load
from pdz_shared.settings import CommonSettings

REPO = Path(__file__).resolve().parents[1]
FRONT_END = "https://udp.sebino.example.it"
SEBINO = "AMBITO-05-SEBINO"


@pytest.fixture(scope="session")
def stack(pg_server_url: str, broker: str, common: CommonSettings) -> Iterator[devstack.Stack]:
    os.environ["PDZ_ENV"] = "test"
    os.environ["PDZ_CORS_ORIGINS"] = f'["{FRONT_END}"]'
    prefix = f"pdz_e2e{uuid.uuid4().hex[:6]}_"
    s = devstack.start(
        REPO,
        database_url=pg_server_url,
        bootstrap=broker,
        log_dir=REPO / ".build" / "e2e-logs",
        db_prefix=prefix,
        durable=False,
    )
    try:
        load(
            {svc: f"http://127.0.0.1:{port}" for svc, port in devstack.SERVICES.items()},
            mint_token(common, sub="demo-loader", roles=["platform_admin"]),
        )
        yield s
    finally:
        s.stop()
        for svc in devstack.SERVICES:
            asyncio.run(devinfra.drop_database(pg_server_url, f"{prefix}{svc}"))


@pytest.fixture(scope="session")
def front_end() -> str:
    """An Ufficio di Piano front-end origin allowed by CORS in the test stack."""
    return FRONT_END
