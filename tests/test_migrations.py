"""Every service's migrations: upgrade, `alembic check` (models == schema), downgrade, upgrade."""

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pdz_shared import devinfra

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["plans", "indicators", "casework", "notifications"]


ROUND_TRIP = """
import sys
from alembic import command
from alembic.config import Config

cfg = Config(sys.argv[1])
command.upgrade(cfg, "head")
command.check(cfg)
command.downgrade(cfg, "base")
command.upgrade(cfg, "head")
command.check(cfg)
"""


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_round_trip_and_check(service: str, pg_server_url: str) -> None:
    """upgrade, check, downgrade to base, upgrade, check: in one interpreter per service."""
    name = f"pdz_migr_{service}_{uuid.uuid4().hex[:6]}"
    url = await devinfra.create_database(pg_server_url, name, durable=False)
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", ROUND_TRIP, str(REPO / "services" / service / "alembic.ini")],
            env={**os.environ, f"PDZ_{service.upper()}_DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        assert "No new upgrade operations detected" in result.stdout + result.stderr
    finally:
        await devinfra.drop_database(pg_server_url, name)
