import pytest

from pdz_shared.testing.plugin import Harness, HarnessFactory


@pytest.fixture(scope="session")
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness("plans")


@pytest.fixture(autouse=True)
async def clean(harness: Harness) -> None:
    await harness.truncate()
