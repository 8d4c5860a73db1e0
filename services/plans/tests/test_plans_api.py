"""Plans, objectives and indicator definitions through the API: visibility, If-Match, targets."""

from __future__ import annotations

from typing import Any

import pytest
from plan_fixtures import AMBITO, OTHER, small_plan
from sqlalchemy import text
from test_plan_import import upload

from pdz_shared.testing.plugin import Harness

PLAN = {
    "code": "PDZ-T1-X",
    "ambito_code": AMBITO,
    "title": "Piano di prova",
    "cycle_start_year": 2025,
    "cycle_end_year": 2027,
}


@pytest.fixture(autouse=True)
async def ambiti(harness: Harness, clean: None) -> None:
    """The two ambiti the tests use exist as territory units (plans need a real ambito)."""
    async with harness.client(harness.token(roles=["platform_admin"])) as c:
        for code in (AMBITO, OTHER):
            r = await c.post("/v1/territories", json={"code": code, "name": code, "kind": "ambito"})
            assert r.status_code == 201, r.text


def update_body(plan: dict[str, Any], **changes: Any) -> dict[str, Any]:
    keep = {k: plan[k] for k in ("title", "cycle_start_year", "cycle_end_year", "status")}
    return {**keep, **changes}


async def test_drafts_are_visible_only_to_their_ambito(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    other = harness.token(roles=["udp_admin"], ambiti=[OTHER])
    async with harness.client(own) as c:
        r = await c.post("/v1/plans", json=PLAN)
        assert r.status_code == 201, r.text
        plan = r.json()
        assert plan["status"] == "draft" and r.headers["etag"] == 'W/"1"'
    async with harness.client(other) as c:
        assert (await c.get(f"/v1/plans/{plan['id']}")).status_code == 404
        assert (await c.get("/v1/plans")).json()["total"] == 0
        # Another ambito's admin cannot create in this ambito either.
        assert (await c.post("/v1/plans", json={**PLAN, "code": "PDZ-Z"})).status_code == 403
        # A plan needs a registered ambito.
        nowhere = {**PLAN, "code": "PDZ-Z", "ambito_code": "AMBITO-NOWHERE"}
        admin = harness.token(roles=["platform_admin"])
        async with harness.client(admin) as a:
            r = await a.post("/v1/plans", json=nowhere)
            assert r.status_code == 422 and r.json()["invalid_params"][0]["name"] == "ambito_code"
    async with harness.client(own) as c:
        r = await c.put(
            f"/v1/plans/{plan['id']}",
            json=update_body(plan, status="approved", approved_on="2024-12-12"),
            headers={"If-Match": 'W/"1"'},
        )
        assert r.status_code == 200, r.text
    async with harness.client(other) as c:
        assert (await c.get(f"/v1/plans/{plan['id']}")).status_code == 200
        assert (await c.get("/v1/plans", params={"status": "approved"})).json()["total"] == 1
        change = update_body(r.json(), title="Hijack")
        r2 = await c.put(f"/v1/plans/{plan['id']}", json=change, headers={"If-Match": 'W/"2"'})
        assert r2.status_code == 403
    async with harness.factory() as s:
        rows = (
            await s.execute(text("SELECT type FROM outbox WHERE topic = 'pdz.plans.plan.v1'"))
        ).all()
    assert [r[0] for r in rows] == ["it.pdz.plans.plan.published"]


async def test_plan_update_needs_current_etag_and_valid_transition(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO], sub="anna")
    async with harness.client(own) as c:
        plan = (await c.post("/v1/plans", json=PLAN)).json()
        url = f"/v1/plans/{plan['id']}"
        body = update_body(plan, title="Nuovo titolo")
        assert (await c.put(url, json=body)).status_code == 428
        r = await c.put(url, json=body, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200 and r.json()["version"] == 2
        stale = await c.put(url, json=body, headers={"If-Match": 'W/"1"'})
        assert stale.status_code == 412 and stale.json()["current_etag"] == 'W/"2"'
        r = await c.put(
            url, json=update_body(r.json(), status="closed"), headers={"If-Match": 'W/"2"'}
        )
        assert r.status_code == 409 and r.json()["code"] == "invalid-transition"
        r = await c.put(
            url,
            json=update_body(plan, status="in_force", title="Nuovo titolo"),
            headers={"If-Match": 'W/"2"'},
        )
        assert r.status_code == 200
        r = await c.put(
            url, json=update_body(r.json(), status="closed"), headers={"If-Match": 'W/"3"'}
        )
        assert r.status_code == 200 and r.json()["status"] == "closed"
        history = (await c.get(f"{url}/history")).json()["items"]
    assert [(h["version"], h["action"], h["actor"]) for h in history] == [
        (4, "status-changed", "anna"),
        (3, "status-changed", "anna"),
        (2, "updated", "anna"),
        (1, "created", "anna"),
    ]
    assert history[2]["changes"]["title"] == {"from": "Piano di prova", "to": "Nuovo titolo"}
    async with harness.factory() as s:
        rows = (
            await s.execute(
                text("SELECT type FROM outbox WHERE topic = 'pdz.plans.plan.v1' ORDER BY id")
            )
        ).all()
    assert [r[0] for r in rows] == ["it.pdz.plans.plan.published", "it.pdz.plans.plan.closed"]


TARGETS: list[dict[str, Any]] = [
    {
        "kind": "threshold",
        "comparator": ">=",
        "value": 80,
        "due_date": "2027-12-31",
        "baseline": {"value": 40, "year": 2024},
    },
    {
        "kind": "yearly_series",
        "steps": [
            {"year": 2025, "comparator": ">=", "value": 50},
            {"year": 2026, "min_value": 40, "max_value": 60, "text": "dal 40% al 60%"},
            {"year": 2027, "relative_to": "previous_year", "comparator": ">"},
        ],
    },
    {
        "kind": "trend",
        "reference": "previous_year",
        "direction": "decrease",
        "text": "riduzione tempo medio di attesa",
    },
    {
        "kind": "milestone",
        "description": "Protocollo attivato",
        "due_date": "2026-12-31",
        "stages": [{"label": "Definizione", "year": 2025}, {"label": "Attivazione", "year": 2026}],
    },
    {"kind": "share_of_comuni", "condition": "sportello PUA attivo", "share": 80, "year": 2026},
    {"kind": "floor_per_subterritory", "level": "comune", "value": 1, "year": 2027},
    {
        "kind": "range",
        "min_value": 1,
        "max_value": 4,
        "text": "1 assistente sociale ogni 4.000-5.000",
    },
]


async def test_every_target_type_round_trips_and_is_in_the_event(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(own) as c:
        plan = (await c.post("/v1/plans", json=PLAN)).json()
        obj = await c.post(
            f"/v1/plans/{plan['id']}/objectives",
            json={
                "code": "OB-1",
                "title": "Scheda",
                "classifications": [{"scheme": "macroarea-2025", "code": "J"}],
                "actions": [{"title": "Azione", "owner": "UdP", "start_date": "2025-01-01"}],
                "resources": [{"fund": "FNPS", "year": 2025, "planned": 1000, "spent": 1200}],
            },
        )
        assert obj.status_code == 201, obj.text
        oid = obj.json()["id"]
        for i, target in enumerate(TARGETS):
            r = await c.post(
                f"/v1/objectives/{oid}/indicators",
                json={"code": f"I{i}", "name": target["kind"], "unit": "%", "target": target},
            )
            assert r.status_code == 201, r.text
            assert r.json()["target"]["kind"] == target["kind"]
        bad = await c.post(
            f"/v1/objectives/{oid}/indicators",
            json={"code": "BAD", "name": "x", "target": {"kind": "wish", "value": 1}},
        )
        assert bad.status_code == 422
        unknown = await c.post(
            f"/v1/plans/{plan['id']}/objectives",
            json={
                "code": "OB-2",
                "title": "x",
                "classifications": [{"scheme": "leps", "code": "NOPE"}],
            },
        )
        assert unknown.status_code == 422
        listed = (await c.get(f"/v1/objectives/{oid}/indicators")).json()
        assert [i["target"]["kind"] for i in listed["items"]] == [t["kind"] for t in TARGETS]
        r = await c.get("/v1/indicator-definitions", params={"target_kind": "milestone"})
        assert [i["code"] for i in r.json()["items"]] == ["I3"]
        budget = (await c.get(f"/v1/plans/{plan['id']}/budget")).json()
        assert budget["total"]["planned"] == 1000 and budget["total"]["spent"] == 1200
        assert "spent-exceeds-committed" not in {w["code"] for w in budget["warnings"]}
    async with harness.factory() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT data->'target'->>'kind', data->'target' FROM outbox "
                    "WHERE type = 'it.pdz.plans.indicator-definition.created' ORDER BY id"
                )
            )
        ).all()
    assert [r[0] for r in rows] == [t["kind"] for t in TARGETS]
    series = rows[1][1]
    assert series["steps"][1]["min_value"] == 40 and series["steps"][1]["max_value"] == 60
    assert rows[0][1]["baseline"]["value"] == 40 and rows[0][1]["baseline"]["year"] == 2024


async def test_objective_and_indicator_updates_need_if_match(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(own) as c:
        plan = (await c.post("/v1/plans", json=PLAN)).json()
        obj = (
            await c.post(f"/v1/plans/{plan['id']}/objectives", json={"code": "OB-1", "title": "A"})
        ).json()
        url = f"/v1/objectives/{obj['id']}"
        body = {"code": "OB-1", "title": "B", "status": "active"}
        assert (await c.put(url, json=body)).status_code == 428
        r = await c.put(url, json=body, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200 and r.json()["version"] == 2
        assert (await c.put(url, json=body, headers={"If-Match": 'W/"1"'})).status_code == 412
        ind = (await c.post(f"{url}/indicators", json={"code": "I1", "name": "n"})).json()
        iurl = f"/v1/indicator-definitions/{ind['id']}"
        change = {"code": "I1", "name": "n", "target": TARGETS[0]}
        assert (await c.put(iurl, json=change)).status_code == 428
        r = await c.put(iurl, json=change, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200 and r.json()["target"]["value"] == 80
        assert (await c.put(iurl, json=change, headers={"If-Match": 'W/"1"'})).status_code == 412
        history = await c.get(
            f"/v1/plans/{plan['id']}/history",
            params={"entity": "objective", "entity_id": obj["id"]},
        )
        assert [(h["version"], h["action"]) for h in history.json()["items"]] == [
            (2, "updated"),
            (1, "created"),
        ]
        assert history.json()["items"][0]["changes"]["title"] == {"from": "A", "to": "B"}
    other = harness.token(roles=["udp_admin"], ambiti=[OTHER])
    async with harness.client(other) as c:
        assert (await c.get(url)).status_code == 404
        assert (await c.get(iurl)).status_code == 404
        assert (await c.put(url, json=body, headers={"If-Match": 'W/"2"'})).status_code == 404
    async with harness.factory() as s:
        types = (
            await s.execute(
                text(
                    "SELECT type FROM outbox WHERE topic LIKE 'pdz.plans.o%' "
                    "OR topic LIKE 'pdz.plans.i%' ORDER BY id"
                )
            )
        ).all()
    assert [t[0] for t in types] == [
        "it.pdz.plans.objective.created",
        "it.pdz.plans.objective.updated",
        "it.pdz.plans.indicator-definition.created",
        "it.pdz.plans.indicator-definition.updated",
    ]


async def test_classifications_are_tables_of_codes(harness: Harness) -> None:
    async with harness.client(harness.token(roles=["udp_viewer"])) as c:
        r = await c.get("/v1/classifications/leps", params={"q": "Assegno"})
        adi = r.json()["items"]
        assert [x["code"] for x in adi] == ["ADI"]
        assert "NON Assistenza Domiciliare Integrata" in adi[0]["description"]
        r = await c.get("/v1/classifications/area-2021-2023")
        assert r.json()["total"] == 11
        r = await c.get("/v1/classifications/macroarea-2025")
        assert "C" not in [x["code"] for x in r.json()["items"]] and r.json()["total"] == 10
        assert (await c.get("/v1/classifications/nope")).status_code == 404
        assert (await c.get("/v1/classifications")).json()["total"] >= 6


async def test_budget_and_evaluation_of_an_imported_plan(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(own) as c:
        report = (await upload(c, small_plan())).json()
        budget = (await c.get(f"/v1/plans/{report['plan_id']}/budget")).json()
        cells = {(x["fund"], x["year"]): x for x in budget["cells"]}
        assert cells[("FNPS", 2025)]["planned"] == 900.5
        assert cells[("FNPS", 2025)]["committed"] == 500
        assert cells[("Comuni", 2025)]["planned"] == 1234.56
        assert budget["total"]["planned"] == 2135.06
        codes = {w["code"] for w in budget["warnings"]}
        assert {"total-mismatch", "no-amount", "raw-values"} <= codes
        ev = (await c.get(f"/v1/plans/{report['plan_id']}/evaluation")).json()
        assert ev["count"] == 2
        first = ev["items"][0]
        assert (first["achievement_pct"], first["achievement_text"]) == (72, "72% - sufficiente")
        assert first["resources_adequacy"] == "Adeguito"  # kept as written, with a warning
        assert ev["mean_achievement_pct"] == 79.75


async def test_population_per_year_with_if_match_and_event(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    body = {"total": 1021, "male": 519, "female": 502, "foreign_total": 100}
    async with harness.client(own) as c:
        url = f"/v1/territories/{AMBITO}/population/2024"
        r = await c.put(url, json=body)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1 and r.json()["reference_date"] == "2024-01-01"
        assert (await c.put(url, json={**body, "total": 1022})).status_code == 428
        r = await c.put(url, json={**body, "total": 1022}, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200 and r.json()["total"] == 1022
        assert (await c.put(url, json=body, headers={"If-Match": 'W/"1"'})).status_code == 412
        listed = (await c.get(f"/v1/territories/{AMBITO}/population")).json()
        assert [(p["year"], p["total"]) for p in listed["items"]] == [(2024, 1022)]
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[OTHER])) as c:
        assert (await c.put(url, json=body, headers={"If-Match": 'W/"2"'})).status_code == 403
    async with harness.factory() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT data->>'total' FROM outbox "
                    "WHERE type = 'it.pdz.plans.territory.population-updated' ORDER BY id"
                )
            )
        ).all()
    assert [r[0] for r in rows] == ["1021", "1022"]


async def test_an_extended_plan_is_in_force_in_its_extension_year(harness: Harness) -> None:
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    old = {
        **PLAN,
        "code": "PDZ-T1-2021-2023",
        "title": "Piano 2021-2023",
        "cycle_start_year": 2021,
        "cycle_end_year": 2023,
        "valid_to": "2024-12-31",
        "extension_note": "2021 - 2023 prorogato al 31/12/2024",
    }
    async with harness.client(own) as c:
        assert (await c.post("/v1/plans", json=old)).status_code == 201
        assert (await c.post("/v1/plans", json=PLAN)).status_code == 201
        in_2024 = (await c.get("/v1/plans", params={"year": 2024})).json()["items"]
        assert [p["code"] for p in in_2024] == ["PDZ-T1-2021-2023"]
        assert in_2024[0]["extension_note"] == "2021 - 2023 prorogato al 31/12/2024"
        in_2026 = (await c.get("/v1/plans", params={"year": 2026, "q": "prova"})).json()
        assert [p["code"] for p in in_2026["items"]] == ["PDZ-T1-X"]


async def test_platform_admin_manages_classification_codes(harness: Harness) -> None:
    admin = harness.token(roles=["platform_admin"])
    async with harness.client(admin) as c:
        r = await c.put(
            "/v1/classifications/macroarea-alto-sebino",
            json={"name": "Macroaree di co-programmazione (livello di Ambito), Alto Sebino"},
        )
        assert r.status_code == 201 and r.headers["etag"] == 'W/"1"'
        url = "/v1/classifications/macroarea-alto-sebino/codes/DOM"
        r = await c.put(url, json={"label": "DOMICILIARITÀ, ANZIANI, NON AUTOSUFFICIENZA"})
        assert r.status_code == 201
        change = {"label": "Domiciliarità, anziani, non autosufficienza"}
        assert (await c.put(url, json=change)).status_code == 428
        r = await c.put(url, json=change, headers={"If-Match": 'W/"1"'})
        assert r.status_code == 200 and r.json()["version"] == 2
        assert (await c.put(url, json=change, headers={"If-Match": 'W/"1"'})).status_code == 412
        listed = (await c.get("/v1/classifications/macroarea-alto-sebino")).json()
        assert [(x["code"], x["label"]) for x in listed["items"]] == [
            ("DOM", "Domiciliarità, anziani, non autosufficienza")
        ]
        missing = await c.put("/v1/classifications/nope/codes/X", json={"label": "x"})
        assert missing.status_code == 404
    own = harness.token(roles=["udp_admin"], ambiti=[AMBITO])
    async with harness.client(own) as c:
        r = await c.put("/v1/classifications/leps/codes/X", json={"label": "x"})
        assert r.status_code == 403
