"""Triage, EVM/UVM and PAI: computed outcomes, team flags, versions, roles and events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from casework_helpers import (
    ANNA,
    MARIO,
    OTHER,
    assert_no_personal_data,
    move,
    open_case,
    outbox,
    uvm,
    worker,
)

from pdz_shared.testing.plugin import Harness

ITEMS = (
    "autonomia_funzionale",
    "patologie_croniche",
    "deficit_cognitivo",
    "bisogno_sanitario",
    "rete_familiare",
    "condizione_abitativa",
    "situazione_economica",
)


def sut(*values: int) -> dict[str, Any]:
    return {"answers": [{"item": i, "value": v} for i, v in zip(ITEMS, values, strict=True)]}


async def etag(c: httpx.AsyncClient, url: str) -> str:
    return (await c.get(url)).headers["etag"]


async def do_triage(c: httpx.AsyncClient, cid: str, *values: int) -> httpx.Response:
    return await c.post(
        f"/v1/cases/{cid}/triage",
        json=sut(*values),
        headers={"If-Match": await etag(c, f"/v1/cases/{cid}")},
    )


@pytest.mark.parametrize(
    ("values", "health", "social", "outcome", "level"),
    [
        ((1, 1, 0, 0, 0, 0, 0), 2, 0, "simple", "back_office_1"),
        ((2, 1, 0, 1, 1, 1, 0), 4, 2, "complex", "back_office_2"),  # total 6
        ((1, 0, 0, 1, 2, 0, 0), 2, 2, "complex", "back_office_2"),  # both sides ≥ 2
        ((2, 2, 1, 0, 0, 0, 0), 5, 0, "simple", "back_office_1"),  # health only, total 5
    ],
)
async def test_triage_outcome(
    harness: Harness,
    values: tuple[int, ...],
    health: int,
    social: int,
    outcome: str,
    level: str,
) -> None:
    case = await open_case(harness, ANNA)
    async with harness.client(worker(harness)) as c:
        r = await do_triage(c, case["id"], *values)
        assert r.status_code == 201, r.text
        t = r.json()
        assert (t["health_score"], t["social_score"], t["outcome"]) == (health, social, outcome)
        assert t["total_score"] == health + social
        after = (await c.get(f"/v1/cases/{case['id']}")).json()
        assert after["status"] == "triaged" and after["pua_level"] == level
        assert (await c.get(f"/v1/cases/{case['id']}/triage")).json()["outcome"] == outcome
        again = await do_triage(c, case["id"], *values)
        assert again.status_code == 409
    events = await outbox(harness)
    triaged = [d for t, d in events if t == "it.pdz.casework.case.triaged"]
    assert len(triaged) == 1 and triaged[0]["outcome"] == outcome
    assert triaged[0]["pua_level"] == level


async def test_incomplete_triage_lists_every_missing_item(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    async with harness.client(worker(harness)) as c:
        body = {"answers": [{"item": "rete_familiare", "value": 1}] * 2}
        r = await c.post(
            f"/v1/cases/{case['id']}/triage",
            json=body,
            headers={"If-Match": await etag(c, f"/v1/cases/{case['id']}")},
        )
    assert r.status_code == 422
    reasons = sorted(p["reason"] for p in r.json()["invalid_params"])
    assert reasons == sorted(
        ["duplicate item rete_familiare"]
        + [f"missing item {i}" for i in ITEMS if i != "rete_familiare"]
    )
    assert [t for t, _ in await outbox(harness)] == ["it.pdz.casework.case.opened"]


def completion(team: list[dict[str, str]], **kw: Any) -> dict[str, Any]:
    return {
        "evaluated_at": "2026-03-10T10:00:00+01:00",
        "team": team,
        "instruments": kw.pop(
            "instruments",
            [
                {"instrument": "ADL", "score": 3},
                {"instrument": "IADL", "score": 2},
                {"instrument": "BARTHEL", "score": 45},
                {"instrument": "ICF", "code": "d510", "label": "Lavarsi"},
            ],
        ),
        "dimensions": kw.pop(
            "dimensions",
            {
                d: {"level": "moderato"}
                for d in ("clinical", "psychological", "cognitive", "social", "functional")
            },
        ),
        "outcome": "Bisogno complesso: progetto individualizzato",
        "non_self_sufficiency_level": "grave",
        **kw,
    }


SOCIAL_COMUNE = {"profession": "assistente_sociale", "employer": "comune"}
MEDICO_ASST = {"profession": "medico", "employer": "asst"}
SOCIAL_ASST = {"profession": "assistente_sociale", "employer": "asst"}
NURSE_ASST = {"profession": "infermiere", "employer": "asst"}


async def to_evm(h: Harness, cf: str = ANNA) -> str:
    case = await open_case(h, cf)
    async with h.client(worker(h)) as c:
        assert (await do_triage(c, case["id"], 2, 1, 0, 1, 1, 1, 0)).status_code == 201
    return str(case["id"])


async def schedule(c: httpx.AsyncClient, cid: str, kind: str) -> httpx.Response:
    return await c.post(
        f"/v1/cases/{cid}/evaluations",
        json={"kind": kind, "scheduled_for": "2026-03-10T09:00:00Z", "place": "CdC Iseo"},
    )


async def test_evm_preliminary_then_multidimensional(harness: Harness) -> None:
    cid = await to_evm(harness)
    async with harness.client(worker(harness)) as c:
        pre = await schedule(c, cid, "preliminary")
        assert pre.status_code == 201, pre.text
        assert (await c.get(f"/v1/cases/{cid}")).json()["status"] == "evm_scheduled"
    pre_url = pre.headers["location"]
    async with harness.client(uvm(harness)) as c:
        # preliminary by ASST staff only: no Ambito social worker
        body = completion([SOCIAL_ASST, NURSE_ASST])
        assert (await c.put(pre_url, json=body)).status_code == 428
        r = await c.put(pre_url, json=body, headers={"If-Match": pre.headers["etag"]})
        assert r.status_code == 200, r.text
        assert r.json()["team_flags"] == {
            "has_ambito_social_worker": False,
            "has_asst_staff": True,
            "size": 2,
        }
        assert (await c.get(f"/v1/cases/{cid}")).json()["status"] == "evm_scheduled"
        stale = await c.put(pre_url, json=body, headers={"If-Match": pre.headers["etag"]})
        assert stale.status_code == 412
        multi = await schedule(c, cid, "multidimensional")
        assert multi.status_code == 201
        r = await c.put(
            multi.headers["location"],
            json=completion([SOCIAL_COMUNE, MEDICO_ASST]),
            headers={"If-Match": multi.headers["etag"]},
        )
        assert r.status_code == 200
        again = await c.put(
            multi.headers["location"],
            json=completion([SOCIAL_COMUNE]),
            headers={"If-Match": r.headers["etag"]},
        )
        assert again.status_code == 409
        case = (await c.get(f"/v1/cases/{cid}")).json()
        assert case["status"] == "assessed"
        assert {d["kind"]: bool(d["met_at"]) for d in case["deadlines"]}["evm"] is True
        assert len((await c.get(f"/v1/cases/{cid}/evaluations")).json()["items"]) == 2
    events = await outbox(harness)
    completed = [d for t, d in events if t == "it.pdz.casework.evm.completed"]
    assert [e["kind"] for e in completed] == ["preliminary", "multidimensional"]
    assert [e["team"]["has_ambito_social_worker"] for e in completed] == [False, True]
    assert completed[1]["team"] == {
        "has_ambito_social_worker": True,
        "has_asst_staff": True,
        "professions": ["assistente_sociale", "medico"],
        "size": 2,
    }
    assert completed[1]["non_self_sufficiency_level"] == "grave"
    scheduled = [d for t, d in events if t == "it.pdz.casework.evm.scheduled"]
    assert [e["kind"] for e in scheduled] == ["preliminary", "multidimensional"]
    assert_no_personal_data(events)


async def test_evm_validation_and_roles(harness: Harness) -> None:
    cid = await to_evm(harness)
    async with harness.client(worker(harness)) as c:
        multi = await schedule(c, cid, "multidimensional")
    url, tag = multi.headers["location"], multi.headers["etag"]
    bad = completion(
        [SOCIAL_COMUNE],
        instruments=[{"instrument": "BARTHEL", "score": 120}, {"instrument": "ICF"}],
        dimensions={"clinical": {"level": "lieve"}},
    )
    async with harness.client(uvm(harness)) as c:
        r = await c.put(url, json=bad, headers={"If-Match": tag})
        assert r.status_code == 422
        names = {p["name"] for p in r.json()["invalid_params"]}
        assert names == {
            "body.instruments.0",
            "body.instruments.1",
            "body.dimensions.psychological",
            "body.dimensions.cognitive",
            "body.dimensions.social",
            "body.dimensions.functional",
        }
    pua = harness.token(roles=["pua_operator"], ambiti=["AMBITO-05-SEBINO"])
    async with harness.client(pua) as c:
        r = await c.put(url, json=completion([SOCIAL_COMUNE]), headers={"If-Match": tag})
        assert r.status_code == 403
    async with harness.client(uvm(harness, OTHER)) as c:
        r = await c.put(url, json=completion([SOCIAL_COMUNE]), headers={"If-Match": tag})
        assert r.status_code == 404
    async with harness.client(worker(harness)) as c:
        fresh = await open_case(harness, MARIO)
        r = await schedule(c, fresh["id"], "multidimensional")  # received, not triaged
        assert r.status_code == 409


def intervention(type_: str, provider: str, **kw: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "provider": provider,
        "frequency": kw.pop("frequency", "3 accessi a settimana"),
        "start_date": kw.pop("start_date", "2026-03-15"),
        "funding_source": kw.pop("funding_source", "FNA"),
        **kw,
    }


async def assessed_case(h: Harness) -> str:
    cid = await to_evm(h)
    async with h.client(uvm(h)) as c:
        m = await schedule(c, cid, "multidimensional")
        r = await c.put(
            m.headers["location"],
            json=completion([SOCIAL_COMUNE, MEDICO_ASST]),
            headers={"If-Match": m.headers["etag"]},
        )
        assert r.status_code == 200
    return cid


async def test_pai_versions_approval_and_intervention_events(harness: Harness) -> None:
    cid = await assessed_case(harness)
    v1 = {
        "goals": ["Mantenere la persona al domicilio"],
        "interventions": [
            intervention("SAD", "Cooperativa La Vela"),
            intervention("PASTI", "Comune di Iseo", funding_source="COMUNE"),
        ],
        "review_date": "2026-09-15",
    }
    async with harness.client(uvm(harness), **{"Idempotency-Key": "pai-v1-anna-01"}) as c:
        r1 = await c.post(f"/v1/cases/{cid}/pai", json=v1)
        assert r1.status_code == 201, r1.text
        assert (await c.post(f"/v1/cases/{cid}/pai", json=v1)).json()["id"] == r1.json()["id"]
    p1 = r1.json()
    assert p1["number"] == 1 and p1["status"] == "draft"
    async with harness.client(uvm(harness)) as c:
        url1 = r1.headers["location"]
        assert (await c.post(f"{url1}/approval")).status_code == 428
        a1 = await c.post(f"{url1}/approval", headers={"If-Match": r1.headers["etag"]})
        assert a1.status_code == 200, a1.text
        assert a1.json()["status"] == "active"
        assert (await c.get(f"/v1/cases/{cid}")).json()["status"] == "pai_active"
        sad_id = next(i["id"] for i in a1.json()["interventions"] if i["type"] == "SAD")
        v2 = {
            "goals": ["Mantenere la persona al domicilio", "Sollievo al caregiver"],
            "interventions": [
                intervention("SAD", "Cooperativa La Vela", frequency="5 accessi a settimana"),
                intervention("C-DOM", "ASST Franciacorta", funding_source="FONDO_SANITARIO"),
            ],
        }
        r2 = await c.post(f"/v1/cases/{cid}/pai", json=v2)
        assert r2.json()["number"] == 2
        a2 = await c.post(
            f"{r2.headers['location']}/approval", headers={"If-Match": r2.headers["etag"]}
        )
        assert a2.status_code == 200
        versions = (await c.get(f"/v1/cases/{cid}/pai")).json()["items"]
        assert [(v["number"], v["status"]) for v in versions] == [
            (1, "superseded"),
            (2, "active"),
        ]
        sad2 = next(i for i in a2.json()["interventions"] if i["type"] == "SAD")
        assert sad2["lineage_id"] == sad_id
        again = await c.post(
            f"{r1.headers['location']}/approval",
            headers={"If-Match": (await c.get(url1)).headers["etag"]},
        )
        assert again.status_code == 409
    async with harness.client(worker(harness)) as c:
        assert (await move(c, cid, "closed", "obiettivi raggiunti")).status_code == 200
    events = [
        (t.rsplit(".", 2)[-2] + "." + t.rsplit(".", 1)[-1], d) for t, d in await outbox(harness)
    ]
    pai_events = [
        (t, d.get("intervention_type"), d.get("intervention_id"))
        for t, d in events
        if t.startswith(("intervention.", "pai."))
    ]
    cdom_id = next(i["id"] for i in a2.json()["interventions"] if i["type"] == "C-DOM")
    pasti_id = next(i["id"] for i in a1.json()["interventions"] if i["type"] == "PASTI")
    assert pai_events == [
        ("pai.approved", None, None),
        ("intervention.started", "PASTI", pasti_id),
        ("intervention.started", "SAD", sad_id),
        ("pai.approved", None, None),
        ("intervention.ended", "PASTI", pasti_id),
        ("intervention.started", "C-DOM", cdom_id),
        ("intervention.ended", "C-DOM", cdom_id),
        ("intervention.ended", "SAD", sad_id),
    ]
    approved = [d for t, d in events if t == "pai.approved"]
    assert approved[0]["intervention_types"] == ["PASTI", "SAD"]
    assert approved[0]["review_date"] == "2026-09-15" and approved[1]["version"] == 2
    assert_no_personal_data(await outbox(harness))


async def test_pai_needs_an_evaluated_case(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    async with harness.client(uvm(harness)) as c:
        r = await c.post(
            f"/v1/cases/{case['id']}/pai",
            json={"goals": ["x"], "interventions": [intervention("SAD", "Coop")]},
        )
        assert r.status_code == 409
        bad = await c.post(
            f"/v1/cases/{case['id']}/pai",
            json={
                "goals": [],
                "interventions": [intervention("NOPE", "Coop", end_date="2026-01-01")],
            },
        )
        assert bad.status_code == 422
        names = {p["name"] for p in bad.json()["invalid_params"]}
        assert names == {"body.goals", "body.interventions.0.type"}


async def test_no_evaluation_ends_on_a_closed_case(harness: Harness) -> None:
    cid = await to_evm(harness)
    async with harness.client(worker(harness)) as c:
        pre = await schedule(c, cid, "preliminary")
        assert (await move(c, cid, "closed", "deceduto")).status_code == 200
    async with harness.client(uvm(harness)) as c:
        r = await c.put(
            pre.headers["location"],
            json=completion([SOCIAL_COMUNE]),
            headers={"If-Match": pre.headers["etag"]},
        )
    assert r.status_code == 409
    assert [t for t, _ in await outbox(harness)].count("it.pdz.casework.evm.completed") == 0
