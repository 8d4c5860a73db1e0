"""Dimissioni protette: FHIR Bundle over HTTP and Kafka, idempotency, updates, cancellation."""

from __future__ import annotations

import asyncio
import json
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
from sqlalchemy import text

from pdz_casework.discharges import service
from pdz_casework.discharges.events import HANDLERS
from pdz_casework.discharges.processing import drain
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


async def receive(h: Harness, data: Any) -> dict[str, Any]:
    """Posts the Bundle, runs the discharge processor as the worker would, and returns the
    discharge as it stands then."""
    r = await post(h, data)
    assert r.status_code == 202, r.text
    await drain(h.factory)
    async with h.client(asst(h)) as c:
        found: dict[str, Any] = (await c.get(r.headers["location"])).json()
    return found


async def test_discharge_opens_case_with_tasks_transition_deadline_and_event(
    harness: Harness,
) -> None:
    r = await post(harness, bundle())
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    assert location == f"/v1/discharges/{r.json()['id']}"
    # accepted: the receipt is recorded, the case is opened by the processor right after
    assert r.json()["status"] == "accepted" and r.json()["case_id"] is None
    assert r.json()["planned_discharge_date"] == "2026-03-09"
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 0
    assert await drain(harness.factory) == 1
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
    await drain(harness.factory)
    assert (await post(harness, bundle())).json()["status"] == "processed"
    assert await drain(harness.factory) == 0
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 1
    assert await scalar(harness, "SELECT count(*) FROM case_task") == 6
    assert await scalar(harness, "SELECT count(*) FROM outbox") == 2


async def test_new_planned_date_moves_the_deadline(harness: Harness) -> None:
    first = await receive(harness, bundle())
    r = await post(harness, bundle(end="2026-03-12"))
    assert r.status_code == 202 and r.json()["id"] == first["id"]
    assert r.json()["planned_discharge_date"] == "2026-03-12" and r.json()["receipts"] == 2
    assert r.json()["status"] == "accepted" and r.json()["case_id"] == first["case_id"]
    assert await drain(harness.factory) == 1
    async with harness.client(worker(harness)) as c:
        case = (await c.get(f"/v1/cases/{first['case_id']}")).json()
        tr = (await c.get(f"/v1/discharges/{first['id']}/transition")).json()
    deadline = next(x for x in case["deadlines"] if x["kind"] == "discharge")
    assert deadline["due_at"].startswith("2026-03-11T23:00:00")
    assert tr["planned_on"] == "2026-03-12"
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM sla_deadline WHERE kind='discharge'") == 1


async def test_cancelled_encounter_closes_the_pending_case(harness: Harness) -> None:
    first = await receive(harness, bundle())
    r = await post(harness, bundle(status="cancelled"))
    assert r.status_code == 202 and r.json()["encounter_status"] == "cancelled"
    await drain(harness.factory)
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
    structural["entry"][3]["resource"]["period"]["start"] = {"date": "2026-02-24"}
    structural["entry"][2]["resource"]["name"] = "Luigi Bonetti"
    r = await post(harness, structural)
    assert r.status_code == 422
    assert [(p["name"], p["reason"]) for p in r.json()["invalid_params"]] == [
        ("entry.2.resource.name", "must be a JSON array"),
        ("entry.2.resource.name", "needs family and given name"),
        ("entry.2.resource.birthDate", "invalid date (FHIR: YYYY, YYYY-MM or YYYY-MM-DD)"),
        ("entry.3.resource.period.start", "invalid date (FHIR: YYYY, YYYY-MM or YYYY-MM-DD)"),
        ("entry.3.resource.period.start", "the admission date is required (a full date)"),
    ]
    assert (await post(harness, b"{not json")).status_code == 400
    async with harness.client(asst(harness)) as c:
        r = await c.post("/v1/discharges", json=bundle())  # application/json
    assert r.status_code == 415
    for table in ("discharge", "person", "pua_case", "outbox", "case_task"):
        assert await scalar(harness, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608


async def test_a_readable_but_not_conformant_bundle_ends_rejected(harness: Harness) -> None:
    """What the platform uses is checked at the door; the rest of FHIR R4 conformance by the
    processor: the 202 stands, and the discharge ends rejected with the reasons, no case."""
    odd = bundle()
    odd["entry"][1]["resource"]["colour"] = "blue"
    odd["entry"][4]["resource"]["onsetDateTime"] = "yesterday"
    r = await post(harness, odd)
    assert r.status_code == 202, r.text
    d = await receive(harness, odd)
    assert d["status"] == "rejected" and d["case_id"] is None
    assert {p["name"] for p in d["reasons"]} == {
        "entry.1.resource.colour",
        "entry.4.resource.onsetDateTime",
    }
    for table in ("person", "pua_case", "outbox", "case_task", "case_audit"):
        assert await scalar(harness, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    # the ASST corrects it: the same encounter is then processed
    fixed = await receive(harness, bundle())
    assert fixed["id"] == d["id"] and fixed["status"] == "processed" and fixed["case_id"]
    assert fixed["reasons"] == [] and fixed["receipts"] == 2


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
    await drain(harness.factory)
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 1
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM case_task") == 6


async def test_concurrent_receipts_are_written_together_each_answered_as_alone(
    harness: Harness,
) -> None:
    writer = harness.app.state.receipts
    before = (writer.batches, writer.items)
    others = [bundle(encounter=f"ENC-BATCH-{i}") for i in range(30)]
    moving = [bundle(encounter="ENC-MOVING", end=f"2026-03-{10 + i:02d}") for i in range(8)]
    answers = await asyncio.gather(*(post(harness, b) for b in [*others, *moving]))
    assert {r.status_code for r in answers} == {202}
    assert len({r.json()["id"] for r in answers[:30]}) == 30
    assert len({r.json()["id"] for r in answers[30:]}) == 1
    # each receipt of the one discharge was applied on its own, and answered with its own
    assert sorted(r.json()["receipts"] for r in answers[30:]) == list(range(1, 9))
    assert [r.json()["planned_discharge_date"] for r in answers[30:]] == [
        f"2026-03-{10 + i:02d}" for i in range(8)
    ]
    assert writer.items - before[1] == 38
    assert writer.batches - before[0] < 38  # written together, not one statement each
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 31
    moving = uuid.UUID(answers[30].json()["id"])
    assert await scalar(harness, "SELECT receipts FROM discharge WHERE id = :i", i=moving) == 8
    assert await drain(harness.factory) == 31
    assert await scalar(harness, "SELECT count(*) FROM discharge WHERE status = 'processed'") == 31


async def test_a_receipt_that_cannot_be_written_fails_alone(harness: Harness) -> None:
    writer = harness.app.state.receipts

    def intake(i: int, org_name: str | None = None) -> service.Intake:
        data = bundle(encounter=f"ENC-ALONE-{i}")
        made = service.intake(service.read(data), data, channel="api", actor="test")
        if org_name is not None:
            made.row["org_name"] = org_name  # longer than its column: the statement fails
        return made

    items = [intake(i) for i in range(6)] + [intake(99, "x" * 300)] + [intake(7)]
    results = await asyncio.gather(*(writer.submit(i) for i in items), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["Receipt"] * 6 + [
        "StringDataRightTruncationError",
        "Receipt",
    ]
    assert await scalar(harness, "SELECT count(*) FROM discharge") == 7


async def test_discharge_attaches_to_the_open_case_of_the_person(harness: Harness) -> None:
    existing = await open_case(harness, LUIGI, source="mmg")
    d = await receive(harness, bundle())
    assert d["case_id"] == existing["id"]
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
    assert await scalar(harness, "SELECT count(*) FROM person") == 1


async def test_transition_completion_and_30_day_readmission(harness: Harness) -> None:
    d = await receive(harness, bundle())
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
    second = await receive(
        harness, bundle(encounter="2026-IS-005001", start="2026-03-29", end="2026-04-10")
    )
    assert second["case_id"] != d["case_id"]
    completed = [d2 for t, d2 in await outbox(harness) if t == contract.TRANSITION_COMPLETED]
    assert [(e["discharge_id"], e["readmitted_within_30_days"]) for e in completed] == [
        (d["id"], None)
    ]  # one transition.completed per discharge
    assert completed[0]["destination"] == "domicilio"
    assert completed[0]["discharged_on"] == completed[0]["arrived_on"] == "2026-03-09"
    async with harness.client(worker(harness)) as c:
        assert (await c.get(url)).json()["readmitted_within_30_days"] is True
    # outside the 30 days: not a readmission
    third = await receive(
        harness, bundle(encounter="2026-IS-009999", start="2026-06-01", end="2026-06-10")
    )
    received = [x for t, x in await outbox(harness) if t == contract.DISCHARGE_RECEIVED]
    assert [(x["discharge_id"], x["readmission_of"]) for x in received] == [
        (d["id"], None),
        (second["id"], d["id"]),  # back in hospital 20 days after going home
        (third["id"], None),
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
    await drain(harness.factory)
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
    await drain(harness.factory)
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

        async def both_opened() -> bool:  # the worker's processor opens it
            return bool(await scalar(harness, "SELECT count(*) FROM pua_case") == 2)

        await eventually(both_opened, timeout=30)
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


async def test_one_batch_opens_one_case_per_person_in_order(harness: Harness) -> None:
    """Three discharges in one batch, two of them for the same new person: two people, two
    cases (the second discharge joins the case the first opened), and per case the events in
    order, case.opened before its discharge.received."""
    again = bundle(encounter="2026-IS-004999", start="2026-02-25", end="2026-03-10")
    mario = bundle(encounter="2026-IS-007001")
    mario["entry"][2]["resource"]["identifier"][0]["value"] = MARIO
    mario["entry"][2]["resource"]["name"] = [{"family": "Rossi", "given": ["Mario"]}]
    del mario["entry"][2]["resource"]["birthDate"], mario["entry"][2]["resource"]["gender"]
    ids = []
    for data in (bundle(), again, mario):
        r = await post(harness, data)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    assert await drain(harness.factory) == 3
    found = {
        str(r[0]): str(r[1])
        for r in await rows(harness, "SELECT id, case_id FROM discharge WHERE status='processed'")
    }
    assert found[ids[0]] == found[ids[1]] != found[ids[2]]
    assert await scalar(harness, "SELECT count(*) FROM person") == 2
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 2
    assert await scalar(harness, "SELECT count(*) FROM case_task") == 18
    assert await scalar(harness, "SELECT count(*) FROM care_transition") == 3
    assert await scalar(harness, "SELECT count(*) FROM sla_deadline WHERE kind='discharge'") == 2
    audit = await rows(harness, "SELECT case_id, sub, operation FROM case_audit ORDER BY id")
    assert [(str(c), s, o) for c, s, o in audit] == [
        (found[i], "cot-franciacorta", "receive_discharge") for i in ids
    ]
    events = [(t, d["case_id"]) for t, d in await outbox(harness)]
    for case_id in set(found.values()):
        mine = [t for t, c in events if c == case_id]
        assert mine[0] == contract.CASE_OPENED, mine
        assert mine.count(contract.CASE_OPENED) == 1
    assert [t for t, _ in events].count(contract.DISCHARGE_RECEIVED) == 3
    # the discharge deadline of the shared case follows the later receipt
    due = await scalar(
        harness,
        "SELECT due_at::date::text FROM sla_deadline WHERE kind='discharge' AND case_id=:c",
        c=uuid.UUID(found[ids[0]]),
    )
    assert due == "2026-03-09"  # 10 March 00:00 in Italy is 9 March 23:00 UTC


async def test_a_receipt_that_cannot_be_applied_never_blocks_the_queue(harness: Harness) -> None:
    """A receipt the processor cannot apply (here: written by hand without its reading) makes
    the batch fail; the others are then applied one by one, and the broken one is tried alone
    three times, then rejected with the error."""
    good = await post(harness, bundle())
    broken = await post(harness, bundle(encounter="2026-IS-000666"))
    async with harness.factory() as s:
        await s.execute(
            text('UPDATE discharge SET pending = \'{"actor": "x"}\' WHERE id = :id'),
            {"id": uuid.UUID(broken.json()["id"])},
        )
        await s.commit()
    await drain(harness.factory)
    async with harness.client(asst(harness)) as c:
        ok = (await c.get(good.headers["location"])).json()
        bad = (await c.get(broken.headers["location"])).json()
    assert ok["status"] == "processed" and ok["case_id"]
    assert bad["status"] == "rejected" and bad["case_id"] is None
    assert bad["reasons"] == [{"name": "processing", "reason": "could not be processed: KeyError"}]
    assert await scalar(harness, "SELECT count(*) FROM discharge WHERE pending IS NOT NULL") == 0
    assert await scalar(harness, "SELECT count(*) FROM pua_case") == 1
