import os

import pytest

# ModI is exercised by its own test (test_discharges_modi.py); the others use platform tokens.
os.environ.setdefault("PDZ_MODI_ENABLED", "false")

from pdz_shared.testing.plugin import Harness, HarnessFactory


@pytest.fixture(scope="session")
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness("casework")


@pytest.fixture(autouse=True)
async def clean(harness: Harness) -> None:
    await harness.truncate()
