"""Every service's migrations: upgrade, `alembic check` (models == schema), downgrade, upgrade."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pdz_shared import devinfra

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["plans", "indicators", "casework", "notifications"]


def alembic(service: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(REPO / "services" / service / "alembic.ini"),
            *args,
        ],
        env={**os.environ, f"PDZ_{service.upper()}_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_round_trip_and_check(service: str, pg_server_url: str) -> None:
    name = f"pdz_migr_{service}_{uuid.uuid4().hex[:6]}"
    url = await devinfra.create_database(pg_server_url, name)
    try:
        for step in (
            ("upgrade", "head"),
            ("check",),
            ("downgrade", "base"),
            ("upgrade", "head"),
            ("check",),
        ):
            result = alembic(service, url, *step)
            assert result.returncode == 0, f"{step}: {result.stdout}\n{result.stderr}"
        assert "No new upgrade operations detected" in result.stdout + result.stderr
    finally:
        await devinfra.drop_database(pg_server_url, name)
