"""Dimissioni protette: FHIR Bundle over HTTP and Kafka, idempotency, updates, cancellation."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from casework_helpers import (
    ISEO,
    LUIGI,
    MARIO,
    OTHER,
    SEBINO,
    assert_no_personal_data,
    open_case,
    outbox,
    rows,
    scalar,
    worker,
)

from pdz_casework.discharges.events import HANDLERS
from pdz_shared.contracts import casework as contract
from pdz_shared.events.cloudevents import CloudEvent
from pdz_shared.events.inbox import EventConsumer
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.testing.plugin import Harness, consume, eventually, produce

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "dimissione-protetta-sebino.json"
FHIR = {"Content-Type": "application/fhir+json"}


def bundle(**changes: Any) -> dict[str, Any]:
    """The sample bundle, with the Encounter (status, period, identifier) changed as asked."""
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    enc = data["entry"][3]["resource"]
    if "status" in changes:
        enc["status"] = changes["status"]
    if "end" in changes:
        enc["period"]["end"] = changes["end"]
    if "start" in changes:
        enc["period"]["start"] = changes["start"]
    if "encounter" in changes:
        enc["identifier"][0]["value"] = changes["encounter"]
    return data


def asst(h: Harness, ambiti: list[str] | None = None) -> str:
    return h.token(roles=["asst_system"], ambiti=ambiti or [SEBINO], sub="cot-franciacorta")


async def post(h: Harness, data: Any, token: str | None = None, **headers: str) -> httpx.Response:
    async with h.client(token or asst(h)) as c:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        return await c.post("/v1/discharges", content=body, headers={**FHIR, **headers})


async def test_discharge_opens_case_with_tasks_transition_deadline_and_event(
    harness: Harness,
) -> None:
    started = time.monotonic()
    r = await post(harness, bundle())
    assert r.status_code == 202, r.text
    assert time.monotonic() - started < 1.0
    location = r.headers["location"]
    assert location == f"/v1/discharges/{r.json()['id']}"
    async with harness.client(asst(harness)) as c:
        d = (await c.get(location)).json()
    assert d["status"] == "processed" and d["reasons"] == [] and d["channel"] == "api"
    assert d["planned_discharge_date"] == "2026-03-09" and d["admission_date"] == "2026-02-24"
    assert d["encounter_identifier"].endswith("|2026-IS-004512")
    async with harness.client(worker(harness)) as c:
        case = (await c.get(f"/v1/cases/{d['case_id']}")).json()
        tasks = (await c.get(f"/v1/cases/{d['case_id']}/tasks")).json()["items"]
        tr = (await c.get(f"{location}/transition")).json()
    assert case["source"] == "asst_dimissione" and case["comune_code"] == ISEO
    assert case["person"]["codice_fiscale"] == LUIGI and case["person"]["family_name"] == "Bonetti"
    assert "frattura del femore" in case["request_summary"]
    deadline = next(x for x in case["deadlines"] if x["kind"] == "discharge")
    # before the planned day starts in Italy: 9 March 2026 00:00 CET = 8 March 23:00 UTC
    assert datetime.fromisoformat(deadline["due_at"]) == datetime.fromisoformat(
        "2026-03-08T23:00:00+00:00"
    )
    assert [(t["step"], t["status"]) for t in tasks] == [
        (1, "done"),
        (2, "open"),
        (3, "open"),
        (4, "open"),
        (5, "open"),
        (6, "open"),
    ]
    assert tasks[0]["code"] == "identificazione_paziente_fragile"
    assert tasks[5]["code"] == "monitoraggio_esito_transizione"
    assert tr["planned_destination"] == "domicilio" and tr["planned_on"] == "2026-03-09"
    assert tr["origin_setting"] == "ospedale (ricovero ordinario)"
    events = await outbox(harness)
    assert [t for t, _ in events] == [contract.CASE_OPENED, contract.DISCHARGE_RECEIVED]
    received = events[1][1]
    assert received["channel"] == "api" and received["discharge_id"] == d["id"]
    assert received["sending_organization"] == "ASST Franciacorta - Presidio Ospedaliero di Iseo"
    assert received["age_band"] == "85+" and received["sex"] == "M"
    assert received["planned_discharge_date"] == "2026-03-09"
    assert_no_personal_data(events)


async def test_reposting_the_same_bundle_changes_nothing(harness: Harness) -> None:
    first = await post(harness, bundle())
    again = await post(harness, bundle())
    assert again.status_code == 202
    assert again.headers["location"] == first.headers["location"]
    assert again.json() == first.json()
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 1
    assert await scalar(harness, "SELECT count(*) FROM case_task") == 6
    assert await scalar(harness, "SELECT count(*) FROM outbox") == 2


async def test_new_planned_date_moves_the_deadline(harness: Harness) -> None:
    first = (await post(harness, bundle())).json()
    r = await post(harness, bundle(end="2026-03-12"))
    assert r.status_code == 202 and r.json()["id"] == first["id"]
    assert r.json()["planned_discharge_date"] == "2026-03-12" and r.json()["receipts"] == 2
    async with harness.client(worker(harness)) as c:
        case = (await c.get(f"/v1/cases/{first['case_id']}")).json()
        tr = (await c.get(f"/v1/discharges/{first['id']}/transition")).json()
    deadline = next(x for x in case["deadlines"] if x["kind"] == "discharge")
    assert deadline["due_at"].startswith("2026-03-11T23:00:00")
    assert tr["planned_on"] == "2026-03-12"
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM sla_deadline WHERE kind='discharge'") == 1


async def test_cancelled_encounter_closes_the_pending_case(harness: Harness) -> None:
    first = (await post(harness, bundle())).json()
    r = await post(harness, bundle(status="cancelled"))
    assert r.status_code == 202 and r.json()["encounter_status"] == "cancelled"
    async with harness.client(worker(harness)) as c:
        case = (await c.get(f"/v1/cases/{first['case_id']}")).json()
    assert case["status"] == "closed"
    assert case["closure_reason"] == "dimissione annullata dall'ASST"
    types = [t for t, _ in await outbox(harness)]
    assert types[-2:] == [contract.CASE_STATUS_CHANGED, contract.CASE_CLOSED]


async def test_bad_bundles_list_every_issue_and_write_nothing(harness: Harness) -> None:
    bad = bundle()
    bad["entry"][0]["resource"]["eventCoding"]["code"] = "ricovero"
    bad["entry"][2]["resource"]["identifier"][0]["value"] = "BNTLGU35E05H699X"
    del bad["entry"][3]["resource"]["identifier"]
    del bad["entry"][3]["resource"]["period"]["end"]
    r = await post(harness, bad)
    assert r.status_code == 422 and r.json()["code"] == "invalid-bundle"
    assert r.headers["content-type"] == "application/problem+json"
    names = [p["name"] for p in r.json()["invalid_params"]]
    assert names == [
        "entry.0.resource.eventCoding.code",
        "entry.3.resource.identifier",
        "entry.3.resource.period.end",
        "Patient.identifier",
    ]
    structural = bundle()
    structural["entry"][2]["resource"]["birthDate"] = "05/05/1935"
    structural["entry"][1]["resource"]["colour"] = "blue"
    r = await post(harness, structural)
    assert r.status_code == 422
    assert {p["name"] for p in r.json()["invalid_params"]} == {
        "entry.1.resource.colour",
        "entry.2.resource.birthDate",
    }
    assert (await post(harness, b"{not json")).status_code == 400
    async with harness.client(asst(harness)) as c:
        r = await c.post("/v1/discharges", json=bundle())  # application/json
    assert r.status_code == 415
    for table in ("discharge", "person", "pua_case", "outbox", "case_task"):
        assert await scalar(harness, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608


async def test_only_asst_system_of_the_ambito(harness: Harness) -> None:
    pua = harness.token(roles=["pua_operator"], ambiti=[SEBINO])
    assert (await post(harness, bundle(), pua)).status_code == 403
    assert (await post(harness, bundle(), asst(harness, [OTHER]))).status_code == 403
    ok = await post(harness, bundle())
    async with harness.client(asst(harness, [OTHER])) as c:
        assert (await c.get(ok.headers["location"])).status_code == 404
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 1


async def test_concurrent_posts_of_one_bundle_make_one_discharge(harness: Harness) -> None:
    answers = await asyncio.gather(*(post(harness, bundle()) for _ in range(5)))
    assert {r.status_code for r in answers} == {202}
    assert len({r.json()["id"] for r in answers}) == 1
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 1
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM case_task") == 6


async def test_discharge_attaches_to_the_open_case_of_the_person(harness: Harness) -> None:
    existing = await open_case(harness, LUIGI, source="mmg")
    d = (await post(harness, bundle())).json()
    assert d["case_id"] == existing["id"]
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM person") == 1


async def test_transition_completion_and_30_day_readmission(harness: Harness) -> None:
    d = (await post(harness, bundle())).json()
    url = f"/v1/discharges/{d['id']}/transition"
    done = {
        "destination": "domicilio",
        "discharged_on": "2026-03-09",
        "arrived_on": "2026-03-09",
        "outcome": "Rientro a domicilio con SAD attivato",
    }
    async with harness.client(worker(harness)) as c:
        assert (await c.put(url, json=done)).status_code == 428
        tag = (await c.get(url)).headers["etag"]
        r = await c.put(url, json=done, headers={"If-Match": tag})
        assert r.status_code == 200, r.text
        assert r.json()["destination"] == "domicilio"
        again = await c.put(url, json=done, headers={"If-Match": r.headers["etag"]})
        assert again.status_code == 409
        tasks = (await c.get(f"/v1/cases/{d['case_id']}/tasks")).json()["items"]
        assert [t["status"] for t in tasks] == ["done", "open", "open", "open", "done", "done"]
        t2 = tasks[1]["id"]
        ok = await c.post(f"/v1/cases/{d['case_id']}/tasks/{t2}/completion")
        assert ok.status_code == 200 and ok.json()["done_by"] == "as1"
        case = (await c.get(f"/v1/cases/{d['case_id']}")).json()
        assert next(x for x in case["deadlines"] if x["kind"] == "discharge")["met_at"]
        # the case is closed, then the patient is back in hospital 20 days later
        etag = (await c.get(f"/v1/cases/{d['case_id']}")).headers["etag"]
        for to in ("triaged", "closed"):
            r = await c.post(
                f"/v1/cases/{d['case_id']}/transitions",
                json={"to_status": to},
                headers={"If-Match": etag},
            )
            etag = r.headers["etag"]
    second = await post(
        harness, bundle(encounter="2026-IS-005001", start="2026-03-29", end="2026-04-10")
    )
    assert second.status_code == 202
    assert second.json()["case_id"] != d["case_id"]
    completed = [d2 for t, d2 in await outbox(harness) if t == contract.TRANSITION_COMPLETED]
    assert [(e["discharge_id"], e["readmitted_within_30_days"]) for e in completed] == [
        (d["id"], None)
    ]  # one transition.completed per discharge
    assert completed[0]["destination"] == "domicilio"
    assert completed[0]["discharged_on"] == completed[0]["arrived_on"] == "2026-03-09"
    async with harness.client(worker(harness)) as c:
        assert (await c.get(url)).json()["readmitted_within_30_days"] is True
    # outside the 30 days: not a readmission
    third = await post(
        harness, bundle(encounter="2026-IS-009999", start="2026-06-01", end="2026-06-10")
    )
    assert third.status_code == 202
    received = [x for t, x in await outbox(harness) if t == contract.DISCHARGE_RECEIVED]
    assert [(x["discharge_id"], x["readmission_of"]) for x in received] == [
        (d["id"], None),
        (second.json()["id"], d["id"]),  # back in hospital 20 days after going home
        (third.json()["id"], None),
    ]


def cloud_event(data: dict[str, Any]) -> CloudEvent:
    return CloudEvent.new(
        source="/asst/franciacorta/cot", type=contract.ASST_DIMISSIONE_TYPE, data=data
    )


async def run_consumer(h: Harness, kafka: KafkaConfig, topic: str, n: int) -> list[str]:
    outcomes: list[str] = []

    async def after(record: Any, outcome: Any) -> None:
        outcomes.append(outcome.status)

    consumer = EventConsumer(
        service="casework",
        name=f"test-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers=HANDLERS,
        factory=h.factory,
        kafka=kafka,
        max_attempts=2,
        base_backoff=0.01,
        after_commit=after,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def ready() -> bool:
        return len(outcomes) >= n or task.done()

    try:
        await eventually(ready)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
    return outcomes


async def test_kafka_channel_same_path_same_idempotency(
    harness: Harness, kafka: KafkaConfig
) -> None:
    topic = f"test.asst.dimissioni.{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka, [topic])
    event = cloud_event(bundle())
    await produce(kafka, topic, event, "2026-IS-004512")
    await produce(kafka, topic, event, "2026-IS-004512")  # redelivery: inbox
    await produce(kafka, topic, cloud_event(bundle()), "2026-IS-004512")  # same bundle, new id
    bad = bundle(encounter="2026-IS-000777")
    bad["entry"][3]["resource"]["period"]["start"] = "2026-03-20"  # after the planned end
    await produce(kafka, topic, cloud_event(bad), "2026-IS-004512")  # one partition: in order
    garbage = cloud_event({"resourceType": "Patient"})
    await produce(kafka, topic, garbage, "2026-IS-004512")
    outcomes = await run_consumer(harness, kafka, topic, 5)
    assert outcomes == ["processed", "duplicate", "processed", "processed", "dead-lettered"]
    found = [
        tuple(r)
        for r in (
            await rows(harness, "SELECT channel, status, receipts FROM discharge ORDER BY status")
        )
    ]
    assert found == [("kafka", "processed", 1), ("kafka", "rejected", 1)]
    # the HTTP channel finds the same discharge
    r = await post(harness, bundle())
    assert r.status_code == 202 and r.json()["channel"] == "kafka"
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    received = [d for t, d in await outbox(harness) if t == contract.DISCHARGE_RECEIVED]
    assert [e["channel"] for e in received] == ["kafka"]
    rejected_id = await scalar(harness, "SELECT id FROM discharge WHERE status = 'rejected'")
    async with harness.client(asst(harness)) as c:
        rej = (await c.get(f"/v1/discharges/{rejected_id}")).json()
    assert rej["case_id"] is None
    assert rej["reasons"] == [
        {
            "name": "entry.3.resource.period.end",
            "reason": "the planned discharge is before the admission",
        }
    ]
    async with harness.client(asst(harness)) as c:
        listed = (await c.get("/v1/discharges", params={"status": "rejected"})).json()
        assert [i["id"] for i in listed["items"]] == [str(rejected_id)]
        assert (await c.get("/v1/discharges", params={"channel": "kafka"})).json()["total"] == 2
        assert (await c.get("/v1/discharges", params={"channel": "api"})).json()["total"] == 0
    async with harness.client(asst(harness, [OTHER])) as c:
        assert (await c.get("/v1/discharges")).json()["total"] == 0
    dead = await consume(kafka, f"{topic}.dlq", count=1)
    assert dict(dead[0].headers)["pdz_dlq_error_class"] == b"PermanentEventError"


async def test_worker_consumes_asst_topic_and_relays_events(
    harness: Harness, kafka: KafkaConfig
) -> None:
    """End to end: the real worker takes the bundle from asst.dimissioni.v1, opens the case
    within a second or two, and relays case.opened and discharge.received to Kafka."""
    from pdz_casework.consumers import consumers
    from pdz_casework.settings import settings
    from pdz_shared.contracts.catalogue import topics_of
    from pdz_shared.worker import run_worker

    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(
            "casework",
            settings(),
            consumers,
            produces=topics_of("casework"),
            common=harness.common,
            stop=stop,
        )
    )
    try:
        await ensure_topics(kafka, [contract.ASST_DIMISSIONI_TOPIC])
        await produce(kafka, contract.ASST_DIMISSIONI_TOPIC, cloud_event(bundle()), "enc")

        async def opened() -> bool:
            return bool(await scalar(harness, "SELECT count(*) FROM pua_case"))

        await eventually(opened, timeout=30)
        # and one through the HTTP API while the worker runs
        other = bundle(encounter="2026-IS-007777")
        other["entry"][2]["resource"]["identifier"][0]["value"] = MARIO
        other["entry"][2]["resource"]["name"] = [{"family": "Rossi", "given": ["Mario"]}]
        del other["entry"][2]["resource"]["birthDate"], other["entry"][2]["resource"]["gender"]
        assert (await post(harness, other)).status_code == 202
        case_ids = {str(r[0]) for r in await rows(harness, "SELECT id FROM pua_case")}

        async def relayed() -> bool:
            return not await scalar(
                harness, "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )

        await eventually(relayed, timeout=30)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
    records = await consume(
        kafka,
        contract.DISCHARGE_TOPIC,
        count=2,
        where=lambda r: r.key.decode() in case_ids,
    )
    assert len(records) == 2
    assert {dict(r.headers)["ce_type"] for r in records} == {contract.DISCHARGE_RECEIVED.encode()}
    assert sorted(json.loads(r.value)["channel"] for r in records) == ["api", "kafka"]
    opened_events = await consume(
        kafka, contract.CASE_TOPIC, count=2, where=lambda r: r.key.decode() in case_ids
    )
    assert len(opened_events) == 2
