"""Import of a plan file: warnings for every anomaly, 422 for unusable files, dry run."""

from __future__ import annotations

import json
from typing import Any

import yaml
from plan_fixtures import AMBITO, small_plan
from sqlalchemy import text

from pdz_shared.testing.plugin import Harness


def codes(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w["location"], w["code"]) for w in report["warnings"]]


async def upload(c: Any, doc: Any, *, dry_run: bool = False, name: str = "plan.yaml") -> Any:
    content = yaml.safe_dump(doc, allow_unicode=True) if not isinstance(doc, bytes) else doc
    return await c.post(
        "/v1/plan-imports",
        files={"file": (name, content, "application/yaml")},
        data={"dry_run": "true" if dry_run else "false"},
    )


async def test_import_reports_every_anomaly(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        r = await upload(c, small_plan())
    assert r.status_code == 200, r.text
    report = r.json()
    print(json.dumps(report["warnings"], indent=1, ensure_ascii=False))
    assert report["counts"]["plans"]["created"] == 1
    assert report["counts"]["objectives"]["created"] == 2
    found = codes(report)
    assert ("plan.approved_on", "impossible-date") in found
    assert ("objectives[0].title", "html-in-text") in found
    assert ("objectives[1].title", "blank") in found


async def count(h: Harness, table: str) -> int:
    async with h.factory() as s:
        query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 (a fixed table name)
        return int((await s.execute(query)).scalar() or 0)


async def test_every_anomaly_is_located_and_coded(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        report = (await upload(c, small_plan())).json()
    found = codes(report)
    for expected in [
        ("plan.approved_on", "impossible-date"),
        ("plan.comuni[2].comune", "unknown-comune"),
        ("plan.comuni[3].comune", "unknown-comune"),
        ("population[1].age_bands", "total-mismatch"),
        ("population[2].male", "not-available"),
        ("objectives[0].title", "html-in-text"),
        ("objectives[0].resources[2].planned", "not-available"),
        ("objectives[1].title", "blank"),
        ("plan.declared_totals[0]", "total-mismatch"),
        ("evaluation[0].achievement", "percentage-with-text"),
        ("evaluation[0].resources_adequacy", "possible-typo"),
        ("evaluation[1].spending", "not-available"),
        ("evaluation[1].resources_adequacy", "percentage-in-text-field"),
    ]:
        assert expected in found, expected
    misspelt = next(w for w in report["warnings"] if w["value"] == "Monte Isla")
    assert misspelt["suggestion"] == "Monte Isola"
    assert next(w for w in report["warnings"] if w["value"] == "Pisogne")["suggestion"] is None
    async with harness.client(admin, **{"Accept-Language": "en"}) as c:
        plan = (await c.get(f"/v1/plans/{report['plan_id']}")).json()
        # Nothing silently dropped or fixed: the impossible date is kept as written.
        assert plan["approved_on"] is None and plan["raw"]["approved_on"] == "31/09/2022"
        assert plan["comune_codes"][:2] == [f"{AMBITO}-C1", f"{AMBITO}-C2"]
        assert plan["comune_codes"][2:] == ["Monte Isla", "Pisogne"]
        objective = (await c.get(f"/v1/plans/{report['plan_id']}/objectives")).json()["items"][0]
        assert objective["title"] == "Rafforzare la tutela minori"
        assert objective["raw"]["title"] == "<p>Rafforzare la tutela minori</p>"


async def test_unusable_files_are_422_and_write_nothing(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    broken_target_list = small_plan()
    broken_target_list["objectives"] = {"not": "a list"}
    no_code = small_plan()
    del no_code["plan"]["code"]
    duplicate = small_plan()
    duplicate["objectives"][1]["code"] = "OB-1"
    async with harness.client(admin) as c:
        for doc, problem in [
            (b"plan: [unclosed", "$"),
            (["a", "list"], "$"),
            ({"format": "pdz-plan/1"}, "plan"),
            (broken_target_list, "objectives"),
            (no_code, "plan.code"),
            (duplicate, "objectives[1].code"),
        ]:
            r = await upload(c, doc)
            assert r.status_code == 422, (problem, r.text)
            body = r.json()
            assert body["code"] == "unusable-import-file"
            assert problem in [p["name"] for p in body["invalid_params"]]
        r = await c.post("/v1/plan-imports", content=b"x", headers={"content-type": "text/plain"})
        assert r.status_code == 415
    for table in ("plan", "objective", "territory_unit", "outbox"):
        assert await count(harness, table) == 0, table


async def test_dry_run_reports_without_writing(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        r = await upload(c, small_plan(), dry_run=True)
        assert r.status_code == 200, r.text
        assert r.json()["dry_run"] is True and r.json()["counts"]["objectives"]["created"] == 2
    for table in ("plan", "objective", "indicator_definition", "territory_unit", "outbox"):
        assert await count(harness, table) == 0, table


async def test_import_of_another_ambito_is_refused(harness: Harness) -> None:
    other = harness.token(roles=["udp_admin"], ambiti=["AMBITO-T2"])
    viewer = harness.token(roles=["udp_viewer"], ambiti=[AMBITO])
    async with harness.client(other) as c:
        assert (await upload(c, small_plan())).status_code == 403
    async with harness.client(viewer) as c:
        assert (await upload(c, small_plan())).status_code == 403
    assert await count(harness, "plan") == 0


async def test_export_then_reimport_gives_the_same_plan(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        first = (await upload(c, small_plan())).json()
        url = f"/v1/plans/{first['plan_id']}/export"
        exported = (await c.get(url)).json()
        # Re-importing the export over the same plan changes nothing.
        again = (await upload(c, json.dumps(exported).encode(), name="plan.json")).json()
        assert again["counts"]["plans"] == {
            "created": 0,
            "updated": 0,
            "unchanged": 1,
            "skipped": 0,
        }
        assert again["counts"]["objectives"]["unchanged"] == 2
        assert again["counts"]["indicators"]["unchanged"] == 2

        # The same anomalies are reported again (the export keeps values as written).
        def what(r: dict[str, Any]) -> list[tuple[str, str]]:
            return sorted((w["code"], str(w["value"])) for w in r["warnings"])

        assert what(again) == what(first)
        assert (await c.get(url)).json() == exported
        xlsx = await c.get(url, params={"format": "xlsx"})
        assert xlsx.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    # Into an empty database, the JSON export and the XLSX export rebuild the same plan.
    for content, name in (
        (json.dumps(exported).encode(), "plan.json"),
        (xlsx.content, "plan.xlsx"),
    ):
        await harness.truncate()
        async with harness.client(admin) as c:
            r = await upload(c, content, name=name)
            assert r.status_code == 200, r.text
            rebuilt = (await c.get(f"/v1/plans/{r.json()['plan_id']}/export")).json()
        assert rebuilt == exported, name


async def test_xlsx_warnings_point_at_cells(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        first = (await upload(c, small_plan())).json()
        xlsx = await c.get(f"/v1/plans/{first['plan_id']}/export", params={"format": "xlsx"})
    await harness.truncate()
    async with harness.client(admin) as c:
        report = (await upload(c, xlsx.content, name="plan.xlsx", dry_run=True)).json()
    found = {w["code"]: w["location"] for w in report["warnings"]}
    assert found["impossible-date"].startswith("Piano!B")
    assert found["html-in-text"] == "Obiettivi!B2"
    assert found["percentage-with-text"].startswith("Esiti!F")
    assert found["unknown-comune"].startswith("Comuni!A")


async def test_udp_admin_import_warns_about_links_it_cannot_create(harness: Harness) -> None:
    doc = small_plan()
    doc["territories"].insert(0, {"code": "REG-X", "name": "Regione X", "kind": "regione"})
    doc["territories"][1]["parent_codes"] = ["REG-X"]
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[AMBITO])) as c:
        report = (await upload(c, doc)).json()
    found = codes(report)
    assert ("territories[0]", "territory-not-written") in found
    assert ("territories[1].parent_codes", "unknown-parent") in found


async def test_yaml_aliases_are_refused(harness: Harness) -> None:
    bomb = b'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: &c [*b, *b]\nplan: {code: P, ambito_code: A}\n'
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[AMBITO])) as c:
        r = await upload(c, bomb)
    assert r.status_code == 422
    assert "aliases" in r.json()["invalid_params"][0]["reason"]


async def test_reimport_without_a_scheda_keeps_it_and_says_so(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(admin) as c:
        await upload(c, small_plan())
        doc = small_plan()
        doc["objectives"] = doc["objectives"][:1]
        doc["objectives"][0]["title"] = "Titolo nuovo"
        report = (await upload(c, doc)).json()
    assert ("objectives", "objective-not-in-file") in codes(report)
    assert report["counts"]["objectives"] == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "skipped": 0,
    }
    assert await count(harness, "objective") == 2


async def test_xlsx_export_survives_control_characters(harness: Harness) -> None:
    doc = small_plan()
    doc["objectives"][0]["description"] = "Testo\x0cdal PDF\x07"
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[AMBITO])) as c:
        report = (await upload(c, doc)).json()
        r = await c.get(f"/v1/plans/{report['plan_id']}/export", params={"format": "xlsx"})
    assert r.status_code == 200
