"""People and cases: codice fiscale, dedupe, state machine, roles, ambiti, audit, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from casework_helpers import (
    ANNA,
    ANNA_OMOCODE,
    GIULIA,
    ISEO,
    LUIGI,
    MARIO,
    MARONE,
    OTHER,
    SEBINO,
    assert_no_personal_data,
    case_body,
    move,
    open_case,
    operator,
    outbox,
    rows,
    scalar,
    uvm,
    worker,
)
from sqlalchemy import text

from pdz_shared.testing.plugin import Harness


async def test_intake_derives_birth_and_sex_from_codice_fiscale(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    assert case["status"] == "received" and case["pua_level"] == "front_office"
    assert case["person"]["birth_date"] == "1940-03-12" and case["person"]["sex"] == "F"
    assert set(case["timestamps"]) == {"received"}
    kinds = {d["kind"]: d for d in case["deadlines"]}
    assert set(kinds) == {"first_contact", "triage"}
    received = datetime.fromisoformat(case["received_at"])
    # default policy: first contact 48 h, triage 120 h
    assert datetime.fromisoformat(kinds["first_contact"]["due_at"]) == received + timedelta(
        hours=48
    )
    assert datetime.fromisoformat(kinds["triage"]["due_at"]) == received + timedelta(hours=120)


async def test_invalid_codice_fiscale_and_mismatched_data_are_422(harness: Harness) -> None:
    async with harness.client(operator(harness)) as c:
        bad = await c.post(
            "/v1/cases", json=case_body(ANNA, person={"codice_fiscale": "BNCNNA40C52E333X"})
        )
        assert bad.status_code == 422
        assert bad.json()["invalid_params"][0]["name"] == "person.codice_fiscale"
        wrong = await c.post(
            "/v1/cases", json=case_body(ANNA, person={"birth_date": "1941-03-12", "sex": "M"})
        )
        assert wrong.status_code == 422
        assert {p["name"] for p in wrong.json()["invalid_params"]} == {
            "person.birth_date",
            "person.sex",
        }
        ok = await c.post("/v1/cases", json=case_body(ANNA_OMOCODE))
        assert ok.status_code == 201, ok.text
        assert ok.json()["person"]["birth_date"] == "1940-03-12"
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1


async def test_one_person_per_codice_fiscale_per_ambito(harness: Harness) -> None:
    first = await open_case(harness, ANNA)
    second = await open_case(harness, ANNA, person={"codice_fiscale": ANNA.lower()})
    assert first["person"]["id"] == second["person"]["id"]
    assert first["id"] != second["id"]
    both = harness.token(roles=["pua_operator"], ambiti=[SEBINO, OTHER])
    async with harness.client(both) as c:
        r = await c.post("/v1/cases", json=case_body(ANNA, ambito_code=OTHER))
    assert r.status_code == 201
    assert r.json()["person"]["id"] != first["person"]["id"]
    assert await scalar(harness, "SELECT count(*) FROM person") == 2


async def test_idempotency_key_replays_intake(harness: Harness) -> None:
    async with harness.client(operator(harness), **{"Idempotency-Key": "intake-anna-0001"}) as c:
        a = await c.post("/v1/cases", json=case_body(ANNA))
        b = await c.post("/v1/cases", json=case_body(ANNA))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"] and b.headers["idempotent-replayed"] == "true"
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert [t for t, _ in await outbox(harness)] == ["it.pdz.casework.case.opened"]


async def test_roles_and_ambiti(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    for token, status in (
        (harness.token(roles=["udp_viewer"], ambiti=[SEBINO]), 403),
        (harness.token(roles=["asst_system"], ambiti=[SEBINO]), 403),
        (operator(harness, OTHER), 404),
        (worker(harness), 200),
        (uvm(harness), 200),
        (harness.token(roles=["platform_admin"]), 200),
    ):
        async with harness.client(token) as c:
            r = await c.get(f"/v1/cases/{case['id']}")
            assert r.status_code == status, (token, r.text)
    async with harness.client(operator(harness, OTHER)) as c:
        assert (await c.post("/v1/cases", json=case_body(MARIO))).status_code == 404
        assert (await c.get("/v1/cases")).json()["total"] == 0
    async with harness.client(uvm(harness)) as c:
        assert (await c.post("/v1/cases", json=case_body(MARIO))).status_code == 403


async def test_state_machine_with_timestamps_and_409(harness: Harness) -> None:
    case = await open_case(harness, MARIO)
    cid = case["id"]
    async with harness.client(worker(harness)) as c:
        illegal = await move(c, cid, "pai_active")
        assert illegal.status_code == 409
        assert illegal.headers["content-type"] == "application/problem+json"
        assert illegal.json()["code"] == "illegal-transition"
        assert illegal.json()["allowed"] == ["closed", "triaged"]
        for to in ("triaged", "evm_scheduled", "assessed", "pai_active", "closed"):
            r = await move(c, cid, to, reason="fine percorso" if to == "closed" else None)
            assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "closed" and body["closure_reason"] == "fine percorso"
        assert list(body["timestamps"]) == [
            "received",
            "triaged",
            "evm_scheduled",
            "assessed",
            "pai_active",
            "closed",
        ]
        assert [h["from_status"] for h in body["history"]][1:] == [
            "received",
            "triaged",
            "evm_scheduled",
            "assessed",
            "pai_active",
        ]
        assert all(d["met_at"] for d in body["deadlines"])
        assert {d["kind"] for d in body["deadlines"]} == {"first_contact", "triage", "evm", "pai"}
        again = await move(c, cid, "triaged")
        assert again.status_code == 409 and again.json()["allowed"] == []
    types = [t for t, _ in await outbox(harness)]
    assert types.count("it.pdz.casework.case.status-changed") == 5
    assert types[-1] == "it.pdz.casework.case.closed"


async def test_orientation_closes_and_is_final(harness: Harness) -> None:
    case = await open_case(harness, GIULIA)
    async with harness.client(operator(harness)) as c:
        assert (await move(c, case["id"], "triaged")).status_code == 200
        r = await move(c, case["id"], "closed_with_orientation", "Orientata al consultorio")
        assert r.status_code == 200 and r.json()["closure_reason"] == "Orientata al consultorio"
        assert (await move(c, case["id"], "closed")).status_code == 409


async def test_updates_need_if_match(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    change = {
        "pua_level": "back_office_1",
        "case_manager_sub": "as1",
        "case_manager_kind": "sociale",
        "comune_code": ISEO,
    }
    async with harness.client(worker(harness)) as c:
        url = f"/v1/cases/{case['id']}"
        assert (await c.put(url, json=change)).status_code == 428
        etag = (await c.get(url)).headers["etag"]
        assert etag == 'W/"1"'
        r = await c.put(url, json=change, headers={"If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2
        assert r.json()["case_manager_kind"] == "sociale"
        first_contact = next(d for d in r.json()["deadlines"] if d["kind"] == "first_contact")
        assert first_contact["met_at"] is not None
        assert (await c.put(url, json=change, headers={"If-Match": etag})).status_code == 412
        stale = await c.post(
            f"{url}/transitions", json={"to_status": "triaged"}, headers={"If-Match": etag}
        )
        assert stale.status_code == 412


async def test_list_filters_and_overdue(harness: Harness) -> None:
    a = await open_case(harness, ANNA)
    await open_case(harness, MARIO, comune_code=MARONE, source="mmg")
    await open_case(harness, LUIGI, source="comune")
    async with harness.factory() as s:
        await s.execute(
            text("UPDATE sla_deadline SET due_at = :t WHERE case_id = :c AND kind = 'triage'"),
            {"t": datetime.now(UTC) - timedelta(hours=1), "c": a["id"]},
        )
        await s.commit()
    async with harness.client(worker(harness)) as c:
        page = (await c.get("/v1/cases", params={"limit": 2})).json()
        assert page["total"] == 3 and len(page["items"]) == 2
        r = (await c.get("/v1/cases", params={"comune": MARONE})).json()
        assert r["total"] == 1 and r["items"][0]["source"] == "mmg"
        r = (await c.get("/v1/cases", params={"source": "comune"})).json()
        assert r["total"] == 1
        r = (await c.get("/v1/cases", params={"overdue": "true"})).json()
        assert [i["id"] for i in r["items"]] == [a["id"]] and r["items"][0]["overdue"] is True
        assert (await c.get("/v1/cases", params={"overdue": "false"})).json()["total"] == 2
        assert (await move(c, a["id"], "triaged")).status_code == 200
        assert (await c.get("/v1/cases", params={"overdue": "true"})).json()["total"] == 0
        r = (await c.get("/v1/cases", params={"status": "triaged"})).json()
        assert r["total"] == 1 and r["items"][0]["pua_level"] == "front_office"
        r = await c.get("/v1/cases", params={"status": "nope"})
        assert r.status_code == 422


async def test_every_read_and_write_is_audited(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    cid = case["id"]
    async with harness.client(worker(harness, sub="laura"), **{"Pdz-Purpose": "valutazione"}) as c:
        await c.get(f"/v1/cases/{cid}")
        await c.get("/v1/cases")
        await move(c, cid, "triaged")  # a read (for the ETag) and a write
    async with harness.client(worker(harness)) as c:
        assert (await c.get(f"/v1/cases/{cid}/audit")).status_code == 403
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[OTHER])) as c:
        assert (await c.get(f"/v1/cases/{cid}/audit")).status_code == 404
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[SEBINO])) as c:
        r = await c.get(f"/v1/cases/{cid}/audit")
    assert r.status_code == 200
    trail = [
        (a["sub"], a["role"], a["action"], a["operation"], a["purpose"]) for a in r.json()["items"]
    ]
    assert trail == [
        ("op1", "pua_operator", "write", "create_case", "presa_in_carico"),
        ("laura", "social_worker", "read", "get_case", "valutazione"),
        ("laura", "social_worker", "read", "list_cases", "valutazione"),
        ("laura", "social_worker", "read", "get_case", "valutazione"),
        ("laura", "social_worker", "write", "transition_case", "valutazione"),
    ]
    # append-only, enforced by the database
    async with harness.factory() as s:
        with pytest.raises(Exception, match="append-only"):
            await s.execute(text("DELETE FROM case_audit"))


async def test_case_events_carry_no_personal_data(harness: Harness) -> None:
    case = await open_case(harness, ANNA)
    async with harness.client(worker(harness)) as c:
        await move(c, case["id"], "triaged")
        await move(c, case["id"], "closed", "rinuncia")
    events = await outbox(harness)
    assert [t for t, _ in events] == [
        "it.pdz.casework.case.opened",
        "it.pdz.casework.case.status-changed",
        "it.pdz.casework.case.status-changed",
        "it.pdz.casework.case.closed",
    ]
    opened = events[0][1]
    assert opened["case_id"] == case["id"] and opened["ambito_code"] == SEBINO
    assert opened["comune_code"] == ISEO and opened["sex"] == "F"
    assert opened["age_band"] == "85+"  # born 12/03/1940
    assert opened["source"] == "sportello" and opened["pua_level"] == "front_office"
    assert events[2][1]["from_status"] == "triaged" and events[2][1]["to_status"] == "closed"
    assert events[3][1]["reason"] == "rinuncia"
    assert_no_personal_data(events)
    keys = {r[0] for r in await rows(harness, "SELECT key FROM outbox")}
    assert keys == {case["id"]}


async def test_concurrent_intakes_of_a_new_person_make_one_person(harness: Harness) -> None:
    import asyncio

    async def intake() -> int:
        async with harness.client(operator(harness)) as c:
            return (await c.post("/v1/cases", json=case_body(MARIO))).status_code

    assert await asyncio.gather(*(intake() for _ in range(5))) == [201] * 5
    assert await scalar(harness, "SELECT count(*) FROM person") == 1
    assert await scalar(harness, "SELECT count(DISTINCT person_id) FROM pua_case") == 1
