"""Contract tests: every event the catalogue says indicators consumes has a handler and a topic
subscription, and every casework payload becomes a fact of the expected type and date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import scenario as sc
from sqlalchemy import text

from pdz_indicators.consumers import consumers
from pdz_indicators.expressions.catalog import BY_CE_TYPE
from pdz_shared.contracts import casework as cw
from pdz_shared.contracts.catalogue import EVENTS
from pdz_shared.events.kafka import KafkaConfig
from pdz_shared.testing.plugin import Harness


def test_every_consumed_event_has_a_handler(harness: Harness, kafka: KafkaConfig) -> None:
    wired = {ce_type: c.topics for c in consumers(harness.factory, kafka) for ce_type in c.handlers}
    wanted = [e for e in EVENTS if "indicators" in e.consumers]
    assert wanted
    for spec in wanted:
        assert spec.type in wired, spec.type
        assert spec.topic in wired[spec.type], spec.type


async def test_every_casework_payload_becomes_a_fact(harness: Harness) -> None:
    case = uuid.uuid4()
    at = datetime(2025, 6, 1, 9, tzinfo=UTC)
    base = {
        "case_id": case,
        "ambito_code": sc.A5,
        "comune_code": sc.ISEO,
        "source": "mmg",
        "occurred_at": at,
    }
    payloads = {
        cw.CASE_OPENED: cw.CaseOpened(**base),
        cw.CASE_TRIAGED: cw.CaseTriaged(**base, outcome="complex", triaged_at=at),
        cw.CASE_STATUS_CHANGED: cw.CaseStatusChanged(
            **base, from_status="received", to_status="triaged"
        ),
        cw.CASE_CLOSED: cw.CaseClosed(**base, reason="deceduto"),
        cw.EVM_SCHEDULED: cw.EvmScheduled(
            **base, evm_id=uuid.uuid4(), scheduled_for=at, kind="preliminary"
        ),
        cw.INTERVENTION_STARTED: cw.InterventionChanged(
            **base, intervention_id=uuid.uuid4(), intervention_type="SAD"
        ),
        cw.INTERVENTION_ENDED: cw.InterventionChanged(
            **base, intervention_id=uuid.uuid4(), intervention_type="SAD"
        ),
        cw.SLA_BREACHED: cw.SlaEvent(**base, sla_id=uuid.uuid4(), kind="evm", due_at=at),
    }
    events = [sc.event(t, p) for t, p in payloads.items()]
    events += [
        sc.evm(sc.ISEO, date(2025, 6, 2), True, case_id=case),
        sc.pai(sc.ISEO, date(2025, 6, 3), case_id=case),
        sc.discharge(case, sc.ISEO, datetime(2025, 6, 4, 8, tzinfo=UTC)),
        sc.transition(case, sc.ISEO, date(2025, 6, 9)),
    ]
    assert await sc.deliver(harness, *events) == len(events)
    async with harness.factory() as s:
        rows = (
            await s.execute(text("SELECT fact_type, fact_at, attrs FROM fact ORDER BY fact_at"))
        ).all()
    assert sorted(r[0] for r in rows) == sorted(BY_CE_TYPE[e.type].name for e in events)
    by_type = {r[0]: r for r in rows}
    # Dated by the attribute that matters: a transition by the day of arrival (local noon).
    assert by_type["transition.completed"][1] == datetime(2025, 6, 9, 10, tzinfo=UTC)
    assert by_type["evm.completed"][2]["team"]["has_ambito_social_worker"] is True
    for row in rows:  # no personal identifiers, not even the case manager
        assert "case_manager_sub" not in row[2] and "case_id" not in row[2]


async def test_bad_payload_is_permanent(harness: Harness) -> None:
    from pydantic import ValidationError

    bad = sc.event(
        cw.CASE_OPENED,
        cw.CaseOpened(
            case_id=uuid.uuid4(), ambito_code=sc.A5, source="mmg", occurred_at=datetime.now(UTC)
        ),
    )
    bad.data["source"] = "telepathy"
    try:
        await sc.deliver(harness, bad)
    except ValidationError:
        pass  # the consumer classifies it as permanent and dead-letters it
    else:  # pragma: no cover
        raise AssertionError("accepted a payload outside the contract")
