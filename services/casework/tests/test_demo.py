"""The demo generator drives casework's own API and leaves a plausible, varied caseload."""

from __future__ import annotations

import asyncio
from collections import Counter

from casework_helpers import rows, scalar

from pdz_casework.demo import demo_tokens, load_async
from pdz_casework.discharges.processing import DischargeProcessor
from pdz_shared.testing.plugin import Harness


async def test_demo_cases_through_the_api(harness: Harness) -> None:
    # the discharge processor runs beside the API, as it does in the worker
    stop = asyncio.Event()
    processor = DischargeProcessor(harness.factory, harness.database_url, poll=0.05)
    task = asyncio.create_task(processor.run(stop))
    try:
        tally = await load_async(harness.client, demo_tokens(harness.common), count=40, seed=7)
    finally:
        stop.set()
        await task
    assert tally.skipped == []
    assert tally.cases + tally.discharges == 40
    assert tally.discharges > 0 and tally.triaged > 0 and tally.evaluations > 0
    cases = await scalar(harness, "SELECT count(*) FROM pua_case")
    assert cases == 40 - (
        tally.discharges - await scalar(harness, "SELECT count(DISTINCT case_id) FROM discharge")
    )
    statuses = Counter(r[0] for r in await rows(harness, "SELECT status FROM pua_case"))
    assert len(statuses) >= 4, statuses
    assert await scalar(harness, "SELECT count(*) FROM pai_version WHERE status='active'") == (
        tally.pai
    )
    comuni = {r[0] for r in await rows(harness, "SELECT DISTINCT comune_code FROM pua_case")}
    assert "COMUNE-ISEO" in comuni and all(c.startswith("COMUNE-") for c in comuni)
    again = await load_async(harness.client, demo_tokens(harness.common), count=40, seed=7)
    assert again.skipped == ["demo cases already loaded"] and again.cases == 0
