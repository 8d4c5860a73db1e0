"""The worker's consumers on the real topics: plans and casework events → live scorecard."""

from __future__ import annotations

import asyncio
from datetime import date

import scenario as sc
from sqlalchemy import text
from test_values import EVM_SHARE

from pdz_indicators.consumers import CASEWORK_TOPICS, consumers
from pdz_shared.contracts import casework as cw
from pdz_shared.contracts import indicators as contract
from pdz_shared.contracts import plans
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.testing.plugin import Harness, eventually, produce


async def test_worker_consumers_keep_the_scorecard_live(
    harness: Harness, kafka: KafkaConfig
) -> None:
    await ensure_topics(
        kafka,
        [
            plans.TERRITORY_TOPIC,
            plans.PLAN_TOPIC,
            plans.OBJECTIVE_TOPIC,
            plans.INDICATOR_DEFINITION_TOPIC,
            *CASEWORK_TOPICS,
        ],
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers(harness.factory, kafka)]
    try:
        for e in sc.territories():
            await produce(kafka, plans.TERRITORY_TOPIC, e, e.data["code"])
        await produce(kafka, plans.PLAN_TOPIC, sc.plan(), str(sc.PLAN_ID))
        await produce(kafka, plans.OBJECTIVE_TOPIC, sc.objective(), str(sc.OBJ_ID))
        definition = sc.indicator("LEPS-4.I2", EVM_SHARE, sc.series(50, 75, 100))
        await produce(
            kafka, plans.INDICATOR_DEFINITION_TOPIC, definition, definition.data["indicator_id"]
        )
        evms = [
            sc.evm(sc.ISEO, date(2025, 3, 1), True),
            sc.evm(sc.ISEO, date(2025, 4, 1), True),
            sc.evm(sc.MARONE, date(2025, 5, 1), False),
        ]
        for e in evms:
            await produce(kafka, cw.EVM_TOPIC, e, e.data["case_id"])

        async def ready() -> bool:
            async with harness.factory() as s:
                n = (
                    await s.execute(
                        text(
                            "SELECT (SELECT count(*) FROM fact), (SELECT count(*) FROM indicator),"
                            " (SELECT count(*) FROM objective), (SELECT count(*) FROM territory)"
                        )
                    )
                ).one()
                return tuple(n) == (3, 1, 1, 9)

        await eventually(ready)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    token = harness.token(roles=["udp_viewer"], ambiti=[sc.A5])
    async with harness.client(token) as c:
        card = (await c.get(f"/v1/plans/{sc.PLAN_ID}/scorecard", params={"period": "2025"})).json()
    item = card["objectives"][0]["indicators"][0]
    # 2 of 3 evaluations with the social worker: 66.67% >= 50% → achieved.
    assert (item["value"], item["status"]) == ("66.666667", "achieved")
    async with harness.factory() as s:
        types = (await s.execute(text("SELECT type FROM outbox"))).scalars().all()
    assert contract.TARGET_ACHIEVED in types
