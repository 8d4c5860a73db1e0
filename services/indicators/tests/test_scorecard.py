"""The plan scorecard, for the current year and a past one."""

from __future__ import annotations

import uuid
from datetime import date

import scenario as sc
from test_values import EVM_SHARE, evm_events

from pdz_shared.contracts import plans
from pdz_shared.testing.plugin import Harness


async def test_scorecard_current_and_past_periods(harness: Harness) -> None:
    await sc.deliver(harness, *sc.territories(), sc.plan(), sc.objective())
    await sc.deliver(
        harness,
        sc.indicator("EVM-AS", EVM_SHARE, sc.series(50, 75, 100)),
        sc.indicator(
            "PAI-EVM",
            "count(pai.approved) / count(evm.completed) * 100",
            sc.series(40, 60, 80),
        ),
        sc.indicator(
            "DIM-GG",
            "avg_days(discharge.received -> transition.completed)",
            plans.TrendTarget(reference="previous_year", direction="decrease"),
            unit="giorni",
            objective_id=None,
        ),
        sc.indicator("SENZA-TARGET", "count(case.opened)", unit="n."),
    )
    await sc.deliver(harness, *evm_events())
    # 2 PAI for the 5 evaluations of Ambito 5 in 2025: 40% → achieved.
    await sc.deliver(
        harness, sc.pai(sc.ISEO, date(2025, 4, 1)), sc.pai(sc.MARONE, date(2025, 6, 1))
    )
    udp = harness.token(roles=["udp_viewer"], ambiti=[sc.A5])
    async with harness.client(udp) as c:
        r = await c.get(f"/v1/plans/{sc.PLAN_ID}/scorecard", params={"period": "2025"})
        assert r.status_code == 200, r.text
        card = r.json()
        assert card["period"] == "2025" and card["ambito_code"] == sc.A5
        assert [o["code"] for o in card["objectives"]] == ["LEPS-PUA", None]
        main = {i["code"]: i for i in card["objectives"][0]["indicators"]}
        assert (main["EVM-AS"]["value"], main["EVM-AS"]["status"]) == ("40.000000", "off_track")
        assert main["EVM-AS"]["target_value"] == "50.000000"
        assert main["EVM-AS"]["progress"] == "0.800000"
        assert (main["PAI-EVM"]["value"], main["PAI-EVM"]["status"]) == ("40.000000", "achieved")
        assert main["SENZA-TARGET"]["status"] is None
        other = card["objectives"][1]
        assert other["title"] == "Indicatori senza scheda obiettivo"
        assert other["indicators"][0]["status"] == "no_data"
        assert card["summary"] == {"off_track": 1, "achieved": 1, "no_data": 1}
        now = await c.get(f"/v1/plans/{sc.PLAN_ID}/scorecard")
        assert now.status_code == 200 and now.json()["period"] >= "2026"
        out = await c.get(f"/v1/plans/{sc.PLAN_ID}/scorecard", params={"period": "2031"})
        assert out.status_code == 422
    stranger = harness.token(roles=["udp_viewer"], ambiti=[sc.A6])
    async with harness.client(stranger) as c:
        assert (await c.get(f"/v1/plans/{sc.PLAN_ID}/scorecard")).status_code == 404
        assert (await c.get(f"/v1/plans/{uuid.uuid4()}/scorecard")).status_code == 404
