"""SLA deadlines: per-ambito policy, and the durable scheduler emitting each notice once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from casework_helpers import (
    ANNA,
    GIULIA,
    LUIGI,
    MARIO,
    OTHER,
    SEBINO,
    move,
    open_case,
    outbox,
    worker,
)
from sqlalchemy import text

from pdz_casework.sla.scheduler import run_pass
from pdz_shared.contracts import casework as contract
from pdz_shared.testing.plugin import Harness

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def set_due(h: Harness, case_id: str, kind: str, due: datetime) -> None:
    async with h.factory() as s:
        await s.execute(
            text("UPDATE sla_deadline SET due_at = :d WHERE case_id = :c AND kind = :k"),
            {"d": due, "c": case_id, "k": kind},
        )
        await s.commit()


async def sla_events(h: Harness) -> list[tuple[str, dict[str, Any]]]:
    return [
        (t, d) for t, d in await outbox(h) if t in (contract.SLA_DUE_SOON, contract.SLA_BREACHED)
    ]


async def test_scheduler_emits_due_soon_then_breached_exactly_once(harness: Harness) -> None:
    a = await open_case(harness, ANNA)
    b = await open_case(harness, MARIO)
    await set_due(harness, a["id"], "first_contact", NOW - timedelta(hours=1))
    await set_due(harness, a["id"], "triage", NOW + timedelta(hours=2))
    await set_due(harness, b["id"], "first_contact", NOW + timedelta(hours=30))
    await set_due(harness, b["id"], "triage", NOW + timedelta(hours=100))
    assert await run_pass(harness.factory, now=NOW) == 2
    assert await run_pass(harness.factory, now=NOW) == 0  # never twice
    events = await sla_events(harness)
    assert [(t, d["case_id"], d["kind"]) for t, d in events] == [
        (contract.SLA_BREACHED, a["id"], "first_contact"),
        (contract.SLA_DUE_SOON, a["id"], "triage"),
    ]
    assert datetime.fromisoformat(events[1][1]["due_at"]) == NOW + timedelta(hours=2)
    assert events[0][1]["ambito_code"] == SEBINO and "sla_id" in events[0][1]
    # three hours later the triage deadline has passed; b's first contact is now 27 h away
    later = NOW + timedelta(hours=3)
    assert await run_pass(harness.factory, now=later) == 1
    assert await run_pass(harness.factory, now=later) == 0
    # 7 hours later b's first contact is 23 h away: due soon (default 24 h notice)
    assert await run_pass(harness.factory, now=NOW + timedelta(hours=7)) == 1
    events = await sla_events(harness)
    assert [(t, d["case_id"], d["kind"]) for t, d in events][2:] == [
        (contract.SLA_BREACHED, a["id"], "triage"),
        (contract.SLA_DUE_SOON, b["id"], "first_contact"),
    ]


async def test_met_deadlines_never_fire_and_breach_skips_due_soon(harness: Harness) -> None:
    a = await open_case(harness, ANNA)
    async with harness.client(worker(harness)) as c:
        assert (await move(c, a["id"], "triaged")).status_code == 200
    await set_due(harness, a["id"], "first_contact", NOW - timedelta(days=3))
    await set_due(harness, a["id"], "triage", NOW - timedelta(days=3))
    b = await open_case(harness, LUIGI)
    await set_due(harness, b["id"], "triage", NOW - timedelta(minutes=1))
    await set_due(harness, b["id"], "first_contact", NOW + timedelta(days=10))
    assert await run_pass(harness.factory, now=NOW) == 1
    assert [(t, d["kind"]) for t, d in await sla_events(harness)] == [
        (contract.SLA_BREACHED, "triage")
    ]
    async with harness.factory() as s:
        flags = (
            await s.execute(
                text(
                    "SELECT due_soon_sent_at IS NOT NULL, breached_sent_at IS NOT NULL "
                    "FROM sla_deadline WHERE case_id = :c AND kind = 'triage'"
                ),
                {"c": b["id"]},
            )
        ).one()
    assert tuple(flags) == (True, True)


async def test_concurrent_schedulers_emit_each_notice_once(harness: Harness) -> None:
    ids = [(await open_case(harness, cf))["id"] for cf in (ANNA, MARIO, LUIGI, GIULIA)]
    async with harness.factory() as s:
        await s.execute(
            text("UPDATE sla_deadline SET due_at = :d"), {"d": NOW - timedelta(hours=1)}
        )
        await s.commit()
    counts = await asyncio.gather(*(run_pass(harness.factory, now=NOW, limit=1) for _ in range(4)))
    assert sum(counts) == 8  # 4 cases x (first_contact, triage)
    events = await sla_events(harness)
    assert len(events) == 8
    assert sorted((d["case_id"], d["kind"]) for _, d in events) == sorted(
        (i, k) for i in ids for k in ("first_contact", "triage")
    )


async def test_policy_per_ambito_sets_new_deadlines_and_notice(harness: Harness) -> None:
    admin = harness.token(roles=["udp_admin"], ambiti=[SEBINO])
    body = {
        "first_contact_hours": 24,
        "triage_hours": 72,
        "evm_hours": 240,
        "pai_hours": 480,
        "discharge_lead_hours": 24,
        "due_soon_hours": 48,
    }
    async with harness.client(admin) as c:
        r = await c.get(f"/v1/sla-policies/{SEBINO}")
        assert r.status_code == 200 and r.json()["triage_hours"] == 120
        assert (await c.put(f"/v1/sla-policies/{SEBINO}", json=body)).status_code == 428
        r = await c.put(
            f"/v1/sla-policies/{SEBINO}", json=body, headers={"If-Match": r.headers["etag"]}
        )
        assert r.status_code == 200 and r.json()["version"] == 2
        stale = await c.put(f"/v1/sla-policies/{SEBINO}", json=body, headers={"If-Match": 'W/"1"'})
        assert stale.status_code == 412
    async with harness.client(harness.token(roles=["udp_admin"], ambiti=[OTHER])) as c:
        assert (await c.get(f"/v1/sla-policies/{SEBINO}")).status_code == 404
    async with harness.client(worker(harness)) as c:
        r = await c.put(f"/v1/sla-policies/{SEBINO}", json=body, headers={"If-Match": "*"})
        assert r.status_code == 403
    case = await open_case(harness, ANNA)
    received = datetime.fromisoformat(case["received_at"])
    due = {d["kind"]: datetime.fromisoformat(d["due_at"]) for d in case["deadlines"]}
    assert due == {
        "first_contact": received + timedelta(hours=24),
        "triage": received + timedelta(hours=72),
    }
    # with a 48 h notice, the first contact (24 h away) is due soon right away
    assert await run_pass(harness.factory, now=received + timedelta(minutes=1)) == 1
    assert [d["kind"] for _, d in await sla_events(harness)] == ["first_contact"]


async def test_scheduler_task_survives_restarts_without_repeating(
    harness: Harness, kafka: Any
) -> None:
    from pdz_casework.sla.scheduler import SlaScheduler
    from pdz_shared.testing.plugin import eventually

    a = await open_case(harness, ANNA)
    await set_due(harness, a["id"], "first_contact", datetime.now(UTC) - timedelta(minutes=5))

    async def run_once() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(SlaScheduler(harness.factory, interval=0.05).run(stop))

        async def flagged() -> bool:
            async with harness.factory() as s:
                n = (
                    await s.execute(
                        text("SELECT count(*) FROM sla_deadline WHERE breached_sent_at IS NOT NULL")
                    )
                ).scalar()
            return bool(n)

        await eventually(flagged, timeout=10)
        await asyncio.sleep(0.3)  # a few more ticks
        stop.set()
        await task

    await run_once()
    await run_once()  # a restart: the flag is in the database, nothing is sent again
    assert [(t, d["kind"]) for t, d in await sla_events(harness)] == [
        (contract.SLA_BREACHED, "first_contact")
    ]
