from pdz_shared.testing.plugin import Harness, check_service_basics


async def test_service_basics(harness: Harness) -> None:
    await check_service_basics(harness)
