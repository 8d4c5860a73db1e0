"""The Sebino demo plan (Ambito n. 5, 2025-2027) imports with every LEPS target of the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from pdz_shared.testing.plugin import Harness

DEMO = Path(__file__).parents[1] / "demo" / "sebino-2025-2027.yaml"
SEBINO = "AMBITO-05-SEBINO"

# The "Range di raggiungimento 2025 / 2026 / 2027" of the 5 LEPS prioritari, copied by hand from
# the document: (year, relative_to, comparator, value). "prev" = better than the previous year.
GE, EQ = ">=", "="
SERIES: dict[str, list[tuple[int, str, str | None, float | None]]] = {
    "LEPS-1.I1": [
        (2025, "absolute", GE, 50),
        (2026, "absolute", GE, 75),
        (2027, "absolute", EQ, 100),
    ],
    "LEPS-1.I2": [
        (2025, "absolute", GE, 1),
        (2026, "previous_year", ">", None),
        (2027, "previous_year", ">", None),
    ],
    "LEPS-1.I3": [
        (2025, "absolute", GE, 50),
        (2026, "absolute", GE, 75),
        (2027, "absolute", EQ, 100),
    ],
    "LEPS-2.I2": [
        (2025, "absolute", GE, 40),
        (2026, "absolute", GE, 60),
        (2027, "absolute", GE, 80),
    ],
    "LEPS-2.I3": [
        (2025, "none", None, None),
        (2026, "previous_year", ">", None),
        (2027, "previous_year", ">", None),
    ],
    "LEPS-2.I4": [
        (2025, "none", None, None),
        (2026, "previous_year", ">", None),
        (2027, "previous_year", ">", None),
    ],
    "LEPS-3.I2": [
        (2025, "none", None, None),
        (2026, "absolute", GE, 50),
        (2027, "absolute", GE, 75),
    ],
    "LEPS-3.I3": [
        (2025, "none", None, None),
        (2026, "previous_year", "<", None),
        (2027, "previous_year", "<", None),
    ],
    "LEPS-3.I4": [(2026, "previous_year", "<", None), (2027, "previous_year", "<", None)],
    "LEPS-3.I5": [(2026, "previous_year", ">", None), (2027, "previous_year", ">", None)],
    "LEPS-3.I6": [(2026, "previous_year", ">", None), (2027, "previous_year", ">", None)],
    "LEPS-4.I2": [
        (2025, "absolute", GE, 50),
        (2026, "absolute", GE, 75),
        (2027, "absolute", EQ, 100),
    ],
    "LEPS-4.I3": [
        (2025, "absolute", GE, 1),
        (2026, "previous_year", ">", None),
        (2027, "previous_year", ">", None),
    ],
    "LEPS-4.I4": [(2026, "previous_year", ">", None), (2027, "previous_year", ">", None)],
    "LEPS-5.I1": [
        (2025, "absolute", GE, 50),
        (2026, "absolute", GE, 75),
        (2027, "absolute", EQ, 100),
    ],
    "LEPS-5.I2": [
        (2025, "none", None, None),
        (2026, "absolute", GE, 50),
        (2027, "absolute", GE, 75),
    ],
    "LEPS-5.I3": [(2026, "previous_year", ">", None), (2027, "previous_year", ">", None)],
}
MILESTONES = {"LEPS-2.I1": [2025, 2026], "LEPS-3.I1": [2026, 2027], "LEPS-4.I1": [2025, 2026]}
DECREASING = {"LEPS-3.I3", "LEPS-3.I4"}


async def import_demo(h: Harness) -> dict[str, Any]:
    async with h.client(h.token(roles=["platform_admin"], sub="demo")) as c:
        r = await c.post(
            "/v1/plan-imports",
            files={"file": ("sebino.yaml", DEMO.read_bytes(), "application/yaml")},
        )
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


async def test_sebino_leps_targets_are_exactly_the_documents(harness: Harness) -> None:
    report = await import_demo(harness)
    assert report["counts"]["objectives"]["created"] == 26
    reader = harness.token(roles=["udp_viewer"], ambiti=["AMBITO-99"])
    async with harness.client(reader) as c:
        r = await c.get(
            "/v1/indicator-definitions",
            params={"plan_id": report["plan_id"], "q": "", "limit": 500},
        )
    assert r.status_code == 200, r.text
    by_code = {i["code"]: i for i in r.json()["items"]}
    leps = {k: v for k, v in by_code.items() if k.startswith("LEPS-")}
    assert set(leps) == set(SERIES) | set(MILESTONES)
    for code, expected in SERIES.items():
        target = leps[code]["target"]
        assert target["kind"] == "yearly_series", code
        got = [
            (s["year"], s["relative_to"], s.get("comparator"), s.get("value"))
            for s in target["steps"]
        ]
        assert got == expected, code
        assert target["direction"] == ("decrease" if code in DECREASING else "increase"), code
    for code, years in MILESTONES.items():
        target = leps[code]["target"]
        assert target["kind"] == "milestone"
        assert [s["year"] for s in target["stages"]] == years
        assert target["stages"][1]["label"].startswith("Attivazione del protocollo")
    # The verbatim wording is kept next to the typed value.
    assert leps["LEPS-4.I2"]["target"]["steps"][0]["text"] == "≥ 50%"
    assert leps["LEPS-4.I2"]["unit"] == "%"
    # The formula the indicators service evaluates travels with the definition.
    assert leps["LEPS-4.I2"]["formula"].startswith(
        "count(evm.completed where team.has_ambito_social_worker)"
    )
    assert leps["LEPS-3.I3"]["unit"] == "giorni"


async def test_sebino_population_and_its_real_inconsistencies(harness: Harness) -> None:
    report = await import_demo(harness)
    warnings = {(w["location"], w["code"]) for w in report["warnings"]}
    # Zone: the foreign M/F columns hold percentages (49,78 / 50,22), not counts.
    assert ("population[11].foreign_male", "not-an-integer") in warnings
    assert ("population[11].foreign_female", "not-an-integer") in warnings
    # Zone: 100 / 1021 is 9,79%, not the 11,96% printed.
    assert ("population[11].foreign_pct", "percentage-mismatch") in warnings
    # Monte Isola: 151 + 1006 + 473 = 1630, not 1621.
    assert ("population[3].age_bands", "total-mismatch") in warnings
    # The totals row repeats the decimals (1600,78 / 1881,22).
    assert ("population[12].foreign_male", "not-an-integer") in warnings
    # The document gives no approval date nor deliberation number.
    assert ("plan.approved_on", "missing-approval-date") in warnings
    # The two sovra-distrettuali schede without a title.
    blank = [
        w for w in report["warnings"] if w["code"] == "blank" and w["location"].endswith("title")
    ]
    assert len(blank) == 2
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=[SEBINO])) as c:
        r = await c.get("/v1/territories/COMUNE-ZONE/population")
        zone = r.json()["items"][0]
        assert (zone["total"], zone["foreign_total"], zone["foreign_male"]) == (1021, 100, None)
        assert zone["raw"]["foreign_male"] == "49,78"
        r = await c.get(f"/v1/territories/{SEBINO}/population")
        total = r.json()["items"][0]
        assert (total["total"], total["male"], total["female"], total["foreign_total"]) == (
            54346,
            26809,
            27537,
            3482,
        )
    async with harness.factory() as s:
        n = (
            await s.execute(
                text(
                    "SELECT count(*) FROM outbox WHERE type = "
                    "'it.pdz.plans.territory.population-updated'"
                )
            )
        ).scalar()
    assert n == 13
    async with harness.factory() as s:
        bands = (
            await s.execute(
                text(
                    "SELECT data->'age_bands' FROM outbox WHERE subject = 'COMUNE-MONTE-ISOLA' "
                    "AND type = 'it.pdz.plans.territory.population-updated'"
                )
            )
        ).scalar()
    assert bands == {"0-14": 151, "15-64": 1006, "65+": 473}


async def test_sebino_plan_is_published_with_its_comuni_and_governance(harness: Harness) -> None:
    report = await import_demo(harness)
    async with harness.client(harness.token(roles=["udp_viewer"], ambiti=["ALTRO"])) as c:
        plan = (await c.get(f"/v1/plans/{report['plan_id']}")).json()
        assert plan["status"] == "in_force"
        assert len(plan["comune_codes"]) == 12 and "COMUNE-PROVAGLIO-D-ISEO" in plan["comune_codes"]
        assert plan["capofila_code"] == "COMUNE-ISEO"
        assert len(plan["signatories"]) == 15
        gpi = next(b for b in plan["governance_bodies"] if b["code"] == "GPI")
        assert sum(m["count"] for m in gpi["members"]) == 14
        r = await c.get(
            f"/v1/plans/{report['plan_id']}/objectives",
            params={"scheme": "ppt-franciacorta", "limit": 100},
        )
        assert [o["code"] for o in r.json()["items"]] == [
            "PPT-13",
            "PPT-14",
            "PPT-15",
            "PPT-24",
            "PPT-25",
            "PPT-26",
            "PPT-29",
        ]
        ppt = r.json()["items"][0]
        assert (ppt["scope"], len(ppt["shared_with_ambiti"])) == ("polo_territoriale", 4)
        r = await c.get(
            f"/v1/plans/{report['plan_id']}/objectives",
            params={"scheme": "leps", "code": "PUA-UVM"},
        )
        assert [o["code"] for o in r.json()["items"]] == ["LEPS-4"]
    async with harness.factory() as s:
        types = (
            await s.execute(
                text(
                    "SELECT type, count(*) FROM outbox WHERE topic LIKE 'pdz.plans.%' GROUP BY type"
                )
            )
        ).all()
    counts = dict(types)  # type: ignore[arg-type]
    assert counts["it.pdz.plans.plan.published"] == 1
    assert counts["it.pdz.plans.objective.created"] == 26
    assert counts["it.pdz.plans.indicator-definition.created"] == sum(
        v["created"] for k, v in report["counts"].items() if k == "indicators"
    )
