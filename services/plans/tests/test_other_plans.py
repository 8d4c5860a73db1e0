"""The Alto Sebino 2025-2027 and Valle Camonica 2018-2020 files import with their real flaws."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pdz_shared.testing.plugin import Harness

DEMO = Path(__file__).parents[1] / "demo"


async def import_file(h: Harness, name: str) -> dict[str, Any]:
    async with h.client(h.token(roles=["platform_admin"])) as c:
        r = await c.post(
            "/v1/plan-imports",
            files={"file": (name, (DEMO / name).read_bytes(), "application/yaml")},
        )
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def by_code(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for w in report["warnings"]:
        out.setdefault(w["code"], []).append(w)
    return out


async def test_alto_sebino_imports_with_its_inconsistencies(harness: Harness) -> None:
    report = await import_file(harness, "alto-sebino-2025-2027.yaml")
    assert report["counts"]["objectives"]["created"] == 18  # 12 di Ambito + 6 di Distretto
    assert report["counts"]["evaluation"]["updated"] == 1
    w = by_code(report)
    # Density: 29.752 / 87,1 = 341,6, not the 286,1 printed.
    assert [x["value"] for x in w["density-mismatch"]] == ["286.1"]
    # Tab. 4 labels the 31/12/2022 figure (29754) "Popol 31/12/2019".
    assert [x["location"] for x in w["repeated-figure"]] == ["population[3].total"]
    # The Convenzione runs 2022/2026, the plan to 2027.
    assert [x["location"] for x in w["expires-before-plan-end"]] == [
        "plan.governance_bodies[4].valid_to"
    ]
    # "QFSP" for QSFP; "Adeguito" seven times in the esiti.
    typos = Counter(x["value"] for x in w["possible-typo"])
    assert typos == {"QFSP": 1, "Adeguito": 7}
    assert next(x for x in w["possible-typo"] if x["value"] == "QFSP")["suggestion"] == "QSFP"
    # "n. x incontri annui" is a placeholder, not a target: kept as written.
    invalid = w["invalid-target"]
    assert len(invalid) == 1 and "n. x incontri annui" in invalid[0]["value"]
    # The funding table gives shares, not amounts; the declared total cannot be checked.
    assert len(w["percentage-in-amount"]) == 6
    assert [x["location"] for x in w["total-mismatch"]] == ["plan.declared_totals[0]"]
    # Graded percentages as written, and a percentage where a judgement was expected.
    assert sorted(x["value"] for x in w["percentage-with-text"]) == sorted(
        [
            "72% - sufficiente",
            "22% - insufficiente",
            "80% -buono",
            "100%- ottimo",
            "60% - non realizzato come programmato",
            "87.5% - Buono",
        ]
    )
    assert len(w["percentage-in-text-field"]) == 2
    assert len(w["html-in-text"]) > 50
    async with harness.client(harness.token(roles=["udp_viewer"])) as c:
        ev = (await c.get(f"/v1/plans/{report['plan_id']}/evaluation")).json()
        assert ev["count"] == 23
        dopo = next(i for i in ev["items"] if i["title"].startswith("IL DOPO (DURANTE) DI NOI"))
        assert (dopo["achievement_pct"], dopo["spending_pct"]) == (100, 60)
        assert dopo["spending_text"] == "60% - non realizzato come programmato"
        agenzia = next(i for i in ev["items"] if "AGENZIA DELL'ABITARE" in i["title"])
        assert (agenzia["achievement_pct"], agenzia["resources_adequacy"]) == (0, "100%")
        budget = (await c.get(f"/v1/plans/{report['plan_id']}/budget")).json()
        assert budget["total"]["spent"] == 2782685.65
        plan = (await c.get(f"/v1/plans/{report['plan_id']}")).json()
        assert plan["approved_on"] == "2024-12-12" and len(plan["comune_codes"]) == 10
        r = await c.get(
            "/v1/indicator-definitions",
            params={"plan_id": report["plan_id"], "target_kind": "milestone"},
        )
        stages = [s["due_date"] for i in r.json()["items"] for s in i["target"].get("stages", [])]
        assert {"2026-12-31", "2027-12-31"} <= set(stages)


async def test_valle_camonica_governance(harness: Harness) -> None:
    report = await import_file(harness, "valle-camonica-2018-2020.yaml")
    w = by_code(report)
    # No approval date anywhere in the chapter.
    assert [x["location"] for x in w["missing-approval-date"]] == ["plan.approved_on"]
    # The commissions answer to a "Tavolo Tecnico Territoriale" the chapter never defines.
    assert len(w["unknown-body"]) == 4
    assert {x["value"] for x in w["unknown-body"]} == {"TAVOLO-TECNICO-TERRITORIALE"}
    assert "total-mismatch" not in w  # the Tavolo's quotas add up to its 12 members
    async with harness.client(harness.token(roles=["udp_viewer"])) as c:
        plan = (await c.get(f"/v1/plans/{report['plan_id']}")).json()
    assert plan["status"] == "closed"
    bodies = {b["code"]: b for b in plan["governance_bodies"]}
    assert sum(m["count"] for m in bodies["TAVOLO-SINTESI"]["members"]) == 12
    assert len(bodies["UDP"]["members"]) == 5
    assert len(bodies["ASSEMBLEA"]["powers"]) == 11
    assert bodies["COMITATO"]["parent_code"] == "ASSEMBLEA"


async def test_the_three_plans_survive_export_and_reimport(harness: Harness) -> None:
    admin = harness.token(roles=["platform_admin"])
    for name in (
        "sebino-2025-2027.yaml",
        "alto-sebino-2025-2027.yaml",
        "valle-camonica-2018-2020.yaml",
    ):
        await harness.truncate()
        report = await import_file(harness, name)
        async with harness.client(admin) as c:
            url = f"/v1/plans/{report['plan_id']}/export"
            exported = (await c.get(url)).json()
            xlsx = (await c.get(url, params={"format": "xlsx"})).content
        for content, fname in ((xlsx, "plan.xlsx"),):
            await harness.truncate()
            async with harness.client(admin) as c:
                r = await c.post("/v1/plan-imports", files={"file": (fname, content)})
                assert r.status_code == 200, (name, r.text[:500])
                again = r.json()
                rebuilt = (await c.get(f"/v1/plans/{again['plan_id']}/export")).json()
            if rebuilt != exported:
                _diff(exported, rebuilt)
            assert rebuilt == exported, name

            # An XLSX cell cannot tell an empty string from no value: "blank" aside, the same
            # anomalies are reported again.
            def what(r: dict[str, Any]) -> Counter[str]:
                return Counter(w["code"] for w in r["warnings"] if w["code"] != "blank")

            assert what(again) == what(report), name


def _diff(a: Any, b: Any, path: str = "$") -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _diff(a.get(k), b.get(k), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]")
    elif a != b:
        print("DIFF", path, repr(a)[:200], "!=", repr(b)[:200])
